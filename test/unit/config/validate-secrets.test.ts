// validate reads secrets.env as deploy does: every refusal deploy would meet is a located issue here.
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { validateProject } from '../../../src/validate/validate.js'
import { formatIssue } from '../../../src/errors.js'
import { parseSecrets } from '../../../src/secrets/secrets.js'
import { MINIMAL, projectFrom, removeProject, type Edits } from '../../helpers/project.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(removeProject))
})

async function validate(secrets: string | null, options: { mode?: number; edits?: Edits } = {}) {
  const dir = await projectFrom(MINIMAL, options.edits ?? {})
  dirs.push(dir)
  if (secrets !== null) {
    await writeFile(join(dir, 'secrets.env'), secrets)
    await chmod(join(dir, 'secrets.env'), options.mode ?? 0o600)
  }
  return validateProject(dir)
}

// In the minimal fixture alpha's app uses DB_PASSWORD and API_KEY, gamma's db uses DB_PASSWORD.
const GOOD = 'DB_PASSWORD=hunter2hunter2\nAPI_KEY=sk-0123456789\n'
const MODE =
  'secrets.env:1:1 can be read by others: secret values must be private to you (allowed mode 0600, as `chmod 600 secrets.env` sets it, got mode 0644)'
const missing = (host: string, names: string) =>
  `secrets.env:1:1 host ${host} needs secrets that secrets.env does not define: ${names} (allowed a NAME=value line for each; run \`ai-platform secrets init\` to generate them)`
const replace = (from: string, to: string) => (text: string) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`)
  return text.replace(from, to)
}

interface Case {
  name: string
  secrets: string | null
  mode?: number
  edits?: Edits
  expected: string[]
}

const CASES: Case[] = [
  { name: 'a good file', secrets: GOOD, expected: [] },
  { name: 'no file (as in CI): not checked, not an error', secrets: null, expected: [] },
  {
    name: 'a line that is not NAME=value',
    secrets: `${GOOD}not a line\n`,
    expected: ['secrets.env:3:1 not a NAME=value line (allowed NAME=value or # comment, got something else)'],
  },
  {
    name: 'a value too short',
    secrets: 'DB_PASSWORD=hunter2hunter2\nAPI_KEY=abc\n',
    expected: [
      'secrets.env:2:9 API_KEY: the value is too short to be a secret, or to be masked in output (allowed at least 4 characters (or empty), got 3)',
    ],
  },
  {
    name: 'a name defined twice',
    secrets: `DB_PASSWORD=hunter2hunter2\n${GOOD}`,
    expected: ['secrets.env:2:1 DB_PASSWORD: defined twice'],
  },
  { name: 'a file others can read', secrets: GOOD, mode: 0o644, expected: [MODE] },
  {
    name: 'a secret a host needs is missing',
    secrets: 'DB_PASSWORD=hunter2hunter2\n',
    expected: [missing('alpha', 'API_KEY')],
  },
  {
    name: 'missing on two hosts',
    secrets: 'API_KEY=sk-0123456789\n',
    expected: [missing('alpha', 'DB_PASSWORD'), missing('gamma', 'DB_PASSWORD')],
  },
  {
    name: 'a missing secret that cannot be generated',
    secrets: 'DB_PASSWORD=hunter2hunter2\n',
    edits: { 'inventory/platform.yaml': replace('API_KEY: { prefix: sk- }', 'API_KEY: { generate: false }') },
    expected: [
      'secrets.env:1:1 host alpha needs secrets that secrets.env does not define: API_KEY (allowed a NAME=value line for each; run `ai-platform secrets init` to generate them, and add the ones marked generate: false by hand)',
    ],
  },
  {
    name: 'an optional secret may be missing',
    secrets: 'DB_PASSWORD=hunter2hunter2\n',
    edits: { 'inventory/platform.yaml': replace('API_KEY: { prefix: sk- }', 'API_KEY: { optional: true }') },
    expected: [],
  },
  {
    name: 'everything at once; a refused line is not reported again as missing',
    secrets: 'API_KEY=abc\nnot a line\n',
    mode: 0o640,
    expected: [
      'secrets.env:1:1 can be read by others: secret values must be private to you (allowed mode 0600, as `chmod 600 secrets.env` sets it, got mode 0640)',
      'secrets.env:1:9 API_KEY: the value is too short to be a secret, or to be masked in output (allowed at least 4 characters (or empty), got 3)',
      'secrets.env:2:1 not a NAME=value line (allowed NAME=value or # comment, got something else)',
      missing('alpha', 'DB_PASSWORD'),
      missing('gamma', 'DB_PASSWORD'),
    ],
  },
  {
    name: "the registry's password, when a host pulls from the registry",
    secrets: GOOD,
    edits: {
      'inventory/platform.yaml': replace(
        '  secrets:\n',
        '  image_registry: registry.lab.test:5000\n  registry_auth: { username: fleet, password_secret: REGISTRY_PASSWORD }\n  secrets:\n    REGISTRY_PASSWORD: { generate: false }\n',
      ),
      'stacks/db.yaml': replace('image: postgres:16-alpine', 'image: registry.lab.test:5000/postgres:16'),
    },
    expected: [
      'secrets.env:1:1 the registry registry.lab.test:5000 needs the password of fleet, and secrets.env does not define REGISTRY_PASSWORD (allowed a NAME=value line for the registry password)',
    ],
  },
  {
    name: 'with an error in the stacks: both reported',
    secrets: GOOD,
    mode: 0o644,
    edits: { 'stacks/ollama.yaml': replace('image: ollama/ollama:0.5.7', 'image: "ollama/ollama:"') },
    expected: [
      "stacks/ollama.yaml:6:12 services.ollama.image: not an image reference Docker accepts: the tag after ':' is empty (allowed 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', got \"ollama/ollama:\")",
      MODE,
    ],
  },
  {
    name: 'a project that does not load: the file is still checked',
    secrets: 'not a line\n',
    edits: { 'inventory/hosts.yaml': replace('vendor: amd', 'vendor: rocm') },
    expected: [
      'inventory/hosts.yaml:9:32 hosts.beta.hardware.gpu.vendor: must be one of nvidia, amd (got "rocm")',
      'secrets.env:1:1 not a NAME=value line (allowed NAME=value or # comment, got something else)',
    ],
  },
]

describe('validate checks secrets.env as deploy reads it', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const report = await validate(testCase.secrets, {
      ...(testCase.mode !== undefined ? { mode: testCase.mode } : {}),
      ...(testCase.edits ? { edits: testCase.edits } : {}),
    })
    expect(report.issues.map(formatIssue)).toEqual(testCase.expected)
    expect(report.valid).toBe(testCase.expected.length === 0)
    expect(report.summary.secrets.file).toBe(testCase.secrets === null ? 'absent' : 'checked')
  })

  it('a value with characters secrets.env refuses is reported at its line, never echoed', async () => {
    // parseSecrets' own wording (pinned in test/unit/secrets.test.ts): validate reports what deploy would.
    const text = 'DB_PASSWORD=hunter2hunter2\nAPI_KEY=sk-\u0007bell\u0007value\n'
    const report = await validate(text)
    expect(report.issues.map(formatIssue)).toEqual(parseSecrets(text, 'secrets.env').issues.map(formatIssue))
    expect(report.issues).toMatchObject([
      { code: 'secrets', file: 'secrets.env', line: 2, path: 'API_KEY', severity: 'error' },
    ])
    expect(JSON.stringify(report)).not.toContain('bell')
  })

  it('says whether a deploy would need the file it did not find', async () => {
    expect((await validate(null)).summary.secrets).toEqual({ file: 'absent', needed: true })
    const edits = {
      'stacks/db.yaml': replace('POSTGRES_PASSWORD: ${DB_PASSWORD}', 'POSTGRES_PASSWORD: not-a-secret'),
      'stacks/app.yaml': (t: string) =>
        replace('KEY: ${API_KEY}', 'KEY: none')(replace('app:${DB_PASSWORD}@', 'app@')(t)),
    }
    expect((await validate(null, { edits })).summary.secrets).toEqual({ file: 'absent', needed: false })
  })
})
