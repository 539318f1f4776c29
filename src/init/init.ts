// `ai-platform init DIR`: a new platform directory scaffolded from the bundled reference platform.
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { UserError } from '../errors.js'
import { loadProject } from '../config/load.js'
import { packageRoot } from '../util/paths.js'
import { initSecrets, SECRETS_FILE, type SecretsInitResult } from '../secrets/secrets.js'

export interface InitResult {
  dir: string
  copied: string[]
  secrets: SecretsInitResult
}

export async function initProject(target: string): Promise<InitResult> {
  const dir = resolve(target)
  const existing = await readdir(dir).catch(() => null)
  if (existing !== null && existing.length > 0) {
    throw new UserError(`${target} is not empty`, 'init never overwrites: choose a new or empty directory.')
  }
  await mkdir(dir, { recursive: true })
  const root = packageRoot()
  const copied = ['inventory', 'stacks', 'templates', 'schemas']
  for (const part of copied) await cp(join(root, part), join(dir, part), { recursive: true })
  await writeFile(join(dir, '.gitignore'), `${SECRETS_FILE}\n${SECRETS_FILE}.tmp-*\nrendered/\n`)
  const { project } = await loadProject({ dir, bundled: false })
  if (!project) throw new Error('the bundled reference platform does not load')
  const secrets = await initSecrets(project)
  return { dir, copied, secrets }
}
