// `ai-platform init DIR [--from EXAMPLE|DIR]`: a new platform directory scaffolded from the bundled
// reference platform, one of the bundled examples (examples/<name>/), or another platform directory.
import { cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { UserError } from '../errors.js'
import { loadProject } from '../config/load.js'
import { packageRoot } from '../util/paths.js'
import { initSecrets, SECRETS_FILE, type SecretsInitResult } from '../secrets/secrets.js'

export interface InitResult {
  dir: string
  /** Where it was copied from: "reference", an example's name, or a directory. */
  from: string
  copied: string[]
  secrets: SecretsInitResult
}

/** The parts of a platform directory init copies (docker/: build contexts), when present. */
const PARTS = ['inventory', 'stacks', 'templates', 'docker']

/** The bundled examples: each directory under examples/ that holds an inventory. */
export async function bundledExamples(): Promise<string[]> {
  const root = join(packageRoot(), 'examples')
  const names = await readdir(root).catch(() => [] as string[])
  const found: string[] = []
  for (const name of names.sort()) if (await isDir(join(root, name, 'inventory'))) found.push(name)
  return found
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false
}

async function sourceOf(from: string | undefined): Promise<{ dir: string; name: string }> {
  const root = packageRoot()
  if (from === undefined) return { dir: root, name: 'reference' }
  const examples = await bundledExamples()
  if (examples.includes(from)) return { dir: join(root, 'examples', from), name: from }
  const dir = resolve(from)
  if (await isDir(join(dir, 'inventory'))) return { dir, name: dir }
  throw new UserError(
    `--from ${from}: neither a bundled example nor a platform directory (one holding inventory/)`,
    `Bundled examples: ${examples.join(', ') || 'none'}; or give the path of a platform directory.`,
  )
}

export async function initProject(target: string, from?: string): Promise<InitResult> {
  const dir = resolve(target)
  const existing = await readdir(dir).catch(() => null)
  if (existing !== null && existing.length > 0) {
    throw new UserError(`${target} is not empty`, 'init never overwrites: choose a new or empty directory.')
  }
  const source = await sourceOf(from)
  // Checked before anything is written: a directory that does not load is not copied.
  const { project: original, issues } = await loadProject({ dir: source.dir, bundled: false })
  if (!original) {
    const first = issues.find((i) => i.severity === 'error')
    throw new UserError(
      `--from ${from}: the platform does not load${first ? ` (${first.file}:${first.line} ${first.message})` : ''}`,
      `Run \`ai-platform validate --project ${from}\` to see every problem.`,
    )
  }
  await mkdir(dir, { recursive: true })
  const copied: string[] = []
  // An example's README says how to use it; the package's own is about the tool, not the platform.
  for (const part of source.dir === packageRoot() ? PARTS : [...PARTS, 'README.md']) {
    if (!(await stat(join(source.dir, part)).catch(() => null))) continue
    await cp(join(source.dir, part), join(dir, part), { recursive: true })
    copied.push(part)
  }
  await cp(join(packageRoot(), 'schemas'), join(dir, 'schemas'), { recursive: true })
  copied.push('schemas')
  await pointAtSchemas(dir)
  await writeFile(join(dir, '.gitignore'), `${SECRETS_FILE}\n${SECRETS_FILE}.tmp-*\nrendered/\n`)
  const { project } = await loadProject({ dir, bundled: false })
  if (!project) throw new Error(`the copy of ${source.name} does not load`)
  const secrets = await initSecrets(project)
  return { dir, from: source.name, copied, secrets }
}

/** Editors' schema comments (`# yaml-language-server: $schema=...`) point at the copied schemas/. */
async function pointAtSchemas(dir: string): Promise<void> {
  for (const part of ['inventory', 'stacks']) {
    const folder = join(dir, part)
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (!/\.ya?ml$/.test(name)) continue
      const file = join(folder, name)
      const text = await readFile(file, 'utf8')
      const schemas = relative(folder, join(dir, 'schemas'))
      const next = text.replace(
        /^(# yaml-language-server: \$schema=)\S*?schemas\/(\S+)$/m,
        (_, head: string, tail: string) => `${head}${schemas}/${tail}`,
      )
      if (next !== text) await writeFile(file, next)
    }
  }
}
