// README.md's command reference is generated from the commands (tools/readme.mjs): this fails when a
// command, flag or description changed and the README was not regenerated.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { REPO } from '../helpers/project.js'

const check = (readme?: string) =>
  execa(process.execPath, [join(REPO, 'tools/readme.mjs'), '--check', ...(readme ? [readme] : [])], { reject: false })

describe('README command reference', () => {
  it('is what tools/readme.mjs generates from the built commands', async () => {
    const result = await check()
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    const readme = await readFile(join(REPO, 'README.md'), 'utf8')
    expect(readme).toContain('#### `ai-platform deploy`')
    expect(readme).toContain('| `--format text|mermaid|dot` |'.replace('t|m', 't\\|m').replace('d|d', 'd\\|d'))
  })

  it('a drifted README fails the check, naming the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aip-readme-'))
    try {
      const copy = join(dir, 'README.md')
      await copyFile(join(REPO, 'README.md'), copy)
      await writeFile(
        copy,
        (await readFile(copy, 'utf8')).replace('Hosts deployed at once.', 'Hosts deployed at a time.'),
      )
      const result = await check(copy)
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toBe(
        `${copy}: the command reference differs from the commands; run \`npm run build && npm run readme\`.`,
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
