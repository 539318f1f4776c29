// Thousands of generated and mutated inventories and stacks: only located user errors, no crash, no hang.
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ISSUE_CODES } from '../../../src/config/issues.js'
import { validateProject } from '../../../src/validate/validate.js'
import { formatIssue } from '../../../src/errors.js'
import { MINIMAL, projectFrom } from '../../helpers/project.js'

const RUNS = Number(process.env.AIP_FUZZ_RUNS ?? 1000)
const FILES = [
  'inventory/platform.yaml',
  'inventory/hosts.yaml',
  'stacks/db.yaml',
  'stacks/ollama.yaml',
  'stacks/app.yaml',
  'templates/app.conf.hbs',
]
let dir = ''
const originals = new Map<string, string>()

beforeAll(async () => {
  dir = await projectFrom(MINIMAL)
  for (const file of FILES) originals.set(file, await readFile(join(dir, file), 'utf8'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function restore(): Promise<void> {
  for (const [file, text] of originals) await writeFile(join(dir, file), text)
}

/** Runs validate and checks the contract: a report (never a throw), every issue located and with a known code, within a time bound. */
async function checkContract(): Promise<void> {
  const started = performance.now()
  const report = await Promise.race([
    validateProject(dir),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('validate hung for 5 s')), 5000)),
  ])
  expect(performance.now() - started).toBeLessThan(5000)
  for (const issue of report.issues) {
    expect(issue.file.length).toBeGreaterThan(0)
    expect(Number.isInteger(issue.line) && issue.line >= 1).toBe(true)
    expect(Number.isInteger(issue.col) && issue.col >= 1).toBe(true)
    expect(issue.message.length).toBeGreaterThan(0)
    expect(formatIssue(issue)).toMatch(/^[^:]+:\d+:\d+ /)
    expect(Object.keys(ISSUE_CODES)).toContain(issue.code)
  }
  expect(report.valid).toBe(!report.issues.some((i) => i.severity === 'error'))
}

const yamlNoise = fc.constantFrom(
  ':',
  ' ',
  '\n',
  '  ',
  '- ',
  '{',
  '}',
  '[',
  ']',
  '&a ',
  '*a',
  '!!binary ',
  '|',
  '>',
  "'",
  '"',
  '%',
  '@',
  '`',
  '#',
  '${X}',
  '{{',
  '}}',
  '\t',
  '\u0000',
  '\uFFFF',
  'ä',
  '0x10',
  '~',
  'null',
  '<<: *a',
)

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.array(yamlNoise, { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap-lines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
)

function mutate(text: string, m: Record<string, unknown> & { kind: string }): string {
  const at = (n: unknown) => (text.length === 0 ? 0 : Number(n) % (text.length + 1))
  const lines = text.split('\n')
  switch (m.kind) {
    case 'delete':
      return text.slice(0, at(m.at)) + text.slice(at(m.at) + Number(m.length))
    case 'insert':
      return text.slice(0, at(m.at)) + String(m.text) + text.slice(at(m.at))
    case 'truncate':
      return text.slice(0, at(m.at))
    case 'swap-lines': {
      const a = Number(m.a) % lines.length
      const b = Number(m.b) % lines.length
      ;[lines[a], lines[b]] = [lines[b]!, lines[a]!]
      return lines.join('\n')
    }
    default: {
      const i = Number(m.line) % lines.length
      const by = Number(m.by)
      lines[i] = by >= 0 ? ' '.repeat(by) + lines[i] : lines[i]!.replace(new RegExp(`^ {0,${-by}}`), '')
      return lines.join('\n')
    }
  }
}

/** Random YAML-shaped values, biased toward the keys the schemas know. */
const keys = fc.constantFrom(
  'platform',
  'hosts',
  'models',
  'name',
  'address',
  'tags',
  'hardware',
  'gpu',
  'vendor',
  'count',
  'services',
  'image',
  'ports',
  'x-ai-platform',
  'placement',
  'requires',
  'phase',
  'tier',
  'health',
  'environment',
  'volumes',
  'secrets',
  'mounts',
  'alpha',
  'db',
  'files',
  'template',
  'path',
)
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(keys, tie('node'), { maxKeys: 5 }),
  ),
})).node

describe('fuzzing the config pipeline', () => {
  it(`mutated valid files (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FILES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (file, mutations) => {
          await restore()
          let text = originals.get(file)!
          for (const m of mutations) text = mutate(text, m)
          await writeFile(join(dir, file), text)
          await checkContract()
        },
      ),
      { numRuns: RUNS, seed: Number(process.env.AIP_FUZZ_SEED ?? 20261123) },
    )
  }, 600_000)

  it(`generated documents in place of inventory and stack files (${RUNS} runs)`, async () => {
    const { stringify } = await import('yaml')
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES.slice(0, 5)), value, async (file, doc) => {
        await restore()
        await writeFile(join(dir, file), stringify(doc))
        await checkContract()
      }),
      { numRuns: RUNS, seed: Number(process.env.AIP_FUZZ_SEED ?? 20261123) + 1 },
    )
  }, 600_000)

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FILES.slice(0, 5)),
        fc.uint8Array({ maxLength: 400 }),
        async (file, bytes) => {
          await restore()
          await writeFile(join(dir, file), bytes)
          await checkContract()
        },
      ),
      { numRuns: Math.ceil(RUNS / 4), seed: 7 },
    )
  }, 600_000)
})
