// `ai-platform render --out DIR`: the files each host gets, written locally for review or CI checks.
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Project } from '../config/model.js'
import { envFileFor, readSecrets, writeFileAtomic } from '../secrets/secrets.js'
import { COMPOSE_FILE, ENV_FILE, type HostRender } from './render.js'

export interface WrittenHost {
  host: string
  dir: string
  hash: string
  files: string[]
  env: 'written' | 'skipped'
}

export async function writeRenders(
  project: Project,
  renders: readonly HostRender[],
  outDir: string,
  options: { secrets: boolean },
): Promise<WrittenHost[]> {
  const secrets = options.secrets ? await readSecrets(project) : null
  // Check every host's secrets before writing anything, so a missing one leaves no half-rendered tree.
  const envs = new Map(
    renders.map((r) => [r.host, secrets ? envFileFor(r.secrets, secrets.values, project, r.host) : null]),
  )
  const written: WrittenHost[] = []
  for (const render of renders) {
    const dir = join(outDir, render.host)
    const files: string[] = []
    for (const file of [render.compose, ...render.files]) {
      const target = join(dir, file.path)
      await mkdir(dirname(target), { recursive: true })
      await writeFileAtomic(target, file.content, parseInt(file.mode, 8))
      files.push(file.path)
    }
    const env = envs.get(render.host)
    if (env !== null && env !== undefined) {
      await writeFileAtomic(join(dir, ENV_FILE), env, 0o600)
      files.push(ENV_FILE)
    }
    written.push({
      host: render.host,
      dir,
      hash: render.hash,
      files,
      env: env === null || env === undefined ? 'skipped' : 'written',
    })
  }
  return written
}

export { COMPOSE_FILE }
