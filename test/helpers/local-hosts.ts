// A platform whose hosts need no fleet: gamma is this machine (`local: true`, its base directory a
// temporary one), alpha refuses connections (127.0.0.1, port 1) and beta is never contacted.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MINIMAL, projectFrom } from './project.js'

export interface LocalHosts {
  dir: string
  /** gamma's base directory (BASE/current, BASE/.lock, BASE/history.jsonl). */
  base: string
  /** First on the CLI's PATH (and so gamma's): holds the stub docker; a test may add stubs of its own. */
  bin: string
  /** For the CLI: its state (the audit log) in a temporary directory, bin first on the PATH. */
  env: NodeJS.ProcessEnv
  cleanup(): Promise<void>
}

/**
 * A `docker` that answers the deploy's preflight (Engine and Compose v2 versions) and fails anything
 * else, first on the PATH: a deploy of gamma gets as far as its lock without a Docker engine.
 */
const STUB_DOCKER = `#!/bin/sh
case "$1 $2" in
  "version --format") echo 24.0.7 ;;
  "compose version") echo 2.26.1 ;;
  *) echo "stub docker: no $*" >&2; exit 1 ;;
esac
`

export async function localHosts(): Promise<LocalHosts> {
  const scratch = await mkdtemp(join(tmpdir(), 'aip-local-'))
  const base = join(scratch, 'base')
  await mkdir(base)
  const bin = join(scratch, 'bin')
  await mkdir(bin)
  await writeFile(join(bin, 'docker'), STUB_DOCKER, { mode: 0o755 })
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
  const dir = await projectFrom(MINIMAL, {
    'inventory/hosts.yaml': hosts,
    'secrets.env': 'DB_PASSWORD=db-password-0123\nAPI_KEY=sk-key-0123\n',
  })
  await chmod(join(dir, 'secrets.env'), 0o600)
  return {
    dir,
    base,
    bin,
    env: { XDG_STATE_HOME: join(scratch, 'state'), PATH: `${bin}:${process.env.PATH ?? ''}` },
    async cleanup() {
      await rm(dir, { recursive: true, force: true })
      await rm(scratch, { recursive: true, force: true })
    },
  }
}
