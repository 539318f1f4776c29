// Temporary platform directories built from a fixture plus per-test edits.
import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const MINIMAL = join(REPO, 'test/fixtures/minimal')

/** null deletes the file; a function edits its current text. */
export type Edits = Record<string, string | Buffer | null | ((text: string) => string)>

export async function projectFrom(base: string, edits: Edits = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aip-test-'))
  for (const part of ['inventory', 'stacks', 'templates', 'docker']) {
    await cp(join(base, part), join(dir, part), { recursive: true }).catch(() => undefined)
  }
  for (const [path, edit] of Object.entries(edits)) {
    const target = join(dir, path)
    if (edit === null) {
      await rm(target, { force: true })
    } else if (typeof edit === 'function') {
      await writeFile(target, edit(await readFile(target, 'utf8')))
    } else {
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target, edit)
    }
  }
  return dir
}

export async function removeProject(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}
