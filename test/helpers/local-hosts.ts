// A platform whose hosts need no fleet: gamma is this machine (`local: true`, its base directory a
// temporary one), alpha refuses connections (127.0.0.1, port 1) and beta is never contacted.
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MINIMAL, projectFrom } from './project.js'

export interface LocalHosts {
  dir: string
  /** gamma's base directory (BASE/current, BASE/.lock, BASE/history.jsonl). */
  base: string
  /** For the CLI: the audit log and anything else it keeps go to a temporary state directory. */
  env: NodeJS.ProcessEnv
  cleanup(): Promise<void>
}

export async function localHosts(): Promise<LocalHosts> {
  const scratch = await mkdtemp(join(tmpdir(), 'aip-local-'))
  const base = join(scratch, 'base')
  await mkdir(base)
  const hosts = `hosts:
  alpha:
    address: 127.0.0.1
    ssh: { port: 1 }
    tags: [gpu]
    hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 12 } }
  beta:
    address: 10.0.0.2
    tags: [gpu]
    hardware: { gpu: { vendor: amd, count: 2, vram_gb: 24 } }
  gamma:
    local: true
    address: 127.0.0.1
    base_dir: ${base}
    tags: [db]
`
  const dir = await projectFrom(MINIMAL, { 'inventory/hosts.yaml': hosts, 'secrets.env': 'DB_PASSWORD=db-password-0123\nAPI_KEY=sk-key-0123\n' })
  await chmod(join(dir, 'secrets.env'), 0o600)
  return {
    dir,
    base,
    env: { XDG_STATE_HOME: join(scratch, 'state') },
    async cleanup() {
      await rm(dir, { recursive: true, force: true })
      await rm(scratch, { recursive: true, force: true })
    },
  }
}
