// Every parser of what a host returns, fed thousands of generated and mutated answers: each one either
// returns data of its shape or throws ai-platform's own error (RemoteError, OllamaError) with a
// printable message; never a TypeError, a RangeError or a hang. Also: quoteWord round-trips any word
// through a real sh, redaction leaves no value behind, and templates stay within their bounds.
import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseContainerList, demux } from '../../../src/deploy/containers.js'
import { gpuContainerChecks } from '../../../src/deploy/gpu-preflight.js'
import { parseHolder } from '../../../src/deploy/lock-holder.js'
import { parseQuickFacts } from '../../../src/deploy/preflight.js'
import { parseReleaseRecord } from '../../../src/deploy/release.js'
import { parseReleases } from '../../../src/deploy/engine.js'
import { parseKept } from '../../../src/deploy/rollback.js'
import { parseHistoryEntries, releasesToPrune, verdicts } from '../../../src/deploy/history.js'
import { parseRecorded } from '../../../src/remote/commands.js'
import { RemoteError } from '../../../src/errors.js'
import { OllamaError, parsePullLine, parseTags } from '../../../src/models/ollama.js'
import { parseBackupFiles, parseBackupListing, parseDatabaseList } from '../../../src/ops/backup-files.js'
import { parseHistory } from '../../../src/ops/inspect.js'
import { parseCompose, parseDf, parseNvidiaSmi, parseRocmSmi, parseSections } from '../../../src/remote/facts.js'
import {
  parseDeviceNodes,
  parseDockerRuntimes,
  parseHostGroups,
  parseToolPaths,
} from '../../../src/remote/gpu-facts.js'
import { checkHostKey, parseKnownHosts } from '../../../src/remote/known-hosts.js'
import { quoteWord } from '../../../src/remote/quote.js'
import { TemplateEngine } from '../../../src/util/template.js'
import { redactor } from '../../../src/secrets/secrets.js'

const RUNS = Number(process.env.AIP_FUZZ_RUNS ?? 1000)
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/

/** The contract: a value, or our own error with a printable message, in bounded time. */
function survives(parse: () => unknown): void {
  const started = performance.now()
  try {
    parse()
  } catch (error) {
    if (!(error instanceof RemoteError || error instanceof OllamaError)) throw error
    expect(RAW_CONTROL.test(error.message)).toBe(false)
  }
  expect(performance.now() - started).toBeLessThan(1000)
}

const record = {
  id: '20261130T010203Z-0123abcd',
  host: 'erebus',
  platform: 'reference',
  composeProject: 'ai-platform',
  hash: 'a'.repeat(64),
  createdAt: '2026-11-30T01:02:03.000Z',
  by: { user: 'root', machine: 'ws' },
  services: [
    {
      name: 'postgres',
      image: 'postgres:16',
      tier: 'persistent',
      oneshot: false,
      hasHealthcheck: true,
      health: [
        { required: true, http: { port: 8080, path: '/', status: 200, scheme: 'http' } },
        { name: 'c', required: false, command: ['true'] },
      ],
      loopbackPorts: [8080],
    },
  ],
  files: ['files/0123456789abcdef/postgres/pg_hba.conf'],
  previous: null,
  tool: 'ai-platform/0.1.0',
}
const lock = {
  token: 'ws:1:2:abc',
  user: 'root',
  machine: 'ws',
  pid: 4242,
  command: 'deploy erebus',
  since: '2026-11-30T01:02:03.000Z',
}
const tags = {
  models: [
    {
      name: 'llama3.2:latest',
      model: 'llama3.2:latest',
      modified_at: '2025-05-04T17:37:44.706015396-07:00',
      size: 2019393189,
      digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
      details: { format: 'gguf' },
    },
  ],
}
const pullLine = {
  status: 'pulling c5396e06af29',
  digest: 'sha256:c5396e06af29',
  total: 397807936,
  completed: 52428800,
}
const rocm = {
  card0: {
    'Card Series': 'Radeon RX 7900 XTX',
    'VRAM Total Memory (B)': '25753026560',
    'VRAM Total Used Memory (B)': '26034176',
    'GPU use (%)': '0',
  },
}
const runtimes = {
  'io.containerd.runc.v2': { path: 'runc' },
  nvidia: { path: 'nvidia-container-runtime' },
  runc: { path: 'runc' },
}
const container = {
  Id: 'a'.repeat(64),
  Names: ['/ai-platform-postgres-1'],
  Image: 'postgres:16',
  State: 'running',
  Status: 'Up 2 hours (healthy)',
  Created: 1764464523,
  Labels: { 'com.docker.compose.project': 'ai-platform', 'com.docker.compose.service': 'postgres' },
}

/** A seed with one value somewhere in it replaced by anything JSON can hold. */
function mutated(seed: unknown): fc.Arbitrary<string> {
  const paths: (string | number)[][] = []
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path)
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]))
    else if (value !== null && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k])
  }
  walk(seed, [])
  return fc
    .tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 }), fc.boolean())
    .map(([path, replacement, drop]) => {
      const copy = structuredClone(seed) as Record<string | number, unknown>
      if (path.length === 0) return JSON.stringify(replacement)
      let parent: Record<string | number, unknown> = copy
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>
      if (drop) delete parent[path.at(-1)!]
      else parent[path.at(-1)!] = replacement
      return JSON.stringify(copy)
    })
}

const text = fc.string({ unit: 'binary', maxLength: 200 })
const lines = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        '@@aip:release',
        '@@aip:rc:0',
        '@@aip:rc:x',
        '@@backup 20261130T010203Z',
        '@@release 20261130T010203Z-0123abcd',
        '@@age 12',
        '{',
        '1 globals.sql',
        '-1 x.dump',
      ),
    ),
    { maxLength: 12 },
  )
  .map((l) => l.join('\n'))

describe('fuzz: parsers of what hosts return', () => {
  const cases: [string, fc.Arbitrary<string>, (input: string) => unknown][] = [
    [
      'facts sections and the quick probe',
      fc.oneof(
        text,
        lines,
        mutated(record).map((r) => `@@aip:release\n${r}\n@@aip:rc:0\n@@aip:env\n${'f'.repeat(64)}  x\n@@aip:rc:0`),
      ),
      (s) => [parseSections(s), parseQuickFacts(s)],
    ],
    ['release records', fc.oneof(text, mutated(record)), (s) => parseReleaseRecord(s)],
    [
      "a host's releases",
      fc.oneof(
        lines,
        mutated(record).map((r) => `@@release 20261130T010203Z-0123abcd\n${r}\n`),
      ),
      (s) => parseReleases(s),
    ],
    [
      'lock holders',
      fc.oneof(
        text,
        lines,
        mutated(lock).map((l) => `held\n${l}\n@@age 3`),
      ),
      (s) => parseHolder(s),
    ],
    [
      'history',
      fc.oneof(text, lines, mutated({ time: 't', event: 'deployed', release: record.id })),
      (s) => parseHistory(s),
    ],
    [
      'history entries and what pruning reads',
      fc.oneof(
        text,
        lines,
        mutated({ event: 'rolled-back', release: record.id, to: record.id, healthy: false }).map(
          (h) => `@@live ${record.id}\n@@release ${record.id}\n@@history\n${h}\n`,
        ),
      ),
      (s) => {
        const recorded = parseRecorded(s)
        const entries = parseHistoryEntries(recorded.history)
        return [verdicts(entries), releasesToPrune(recorded.releases, recorded.live, entries, 2), parseKept(s)]
      },
    ],
    ['backup listings', fc.oneof(text, lines), (s) => [parseBackupFiles(s, 'h'), parseBackupListing(s, 'h')]],
    [
      'database lists',
      fc.oneof(
        text,
        fc
          .array(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 140 }), { maxLength: 5 })
          .map((l) => l.join('\n')),
      ),
      (s) => parseDatabaseList(s, 'h'),
    ],
    ['Ollama tags', fc.oneof(text, mutated(tags)), (s) => parseTags(s, 'h')],
    ['Ollama pull lines', fc.oneof(text, mutated(pullLine)), (s) => parsePullLine(s, 'h', 'm')],
    ['rocm-smi', fc.oneof(text, mutated(rocm)), (s) => parseRocmSmi(s, 0)],
    [
      'nvidia-smi and df',
      fc.oneof(text, lines),
      (s) => [parseNvidiaSmi(s, 0), parseNvidiaSmi(s, 9), parseDf(s), parseCompose(parseSections(s))],
    ],
    [
      'GPU container facts (Docker runtimes, toolkit paths, device nodes, groups)',
      fc.oneof(text, lines, mutated(runtimes)),
      (s) => [parseDockerRuntimes(s, 0), parseToolPaths(s), parseDeviceNodes(s), parseHostGroups(s)],
    ],
    [
      'GPU preflight checks: printable details whatever the sections hold',
      fc
        .array(
          fc.tuple(
            fc.constantFrom('docker-runtimes', 'nvidia-toolkit', 'amd-devices', 'host-groups'),
            fc.oneof(text, lines, mutated(runtimes)),
          ),
          { maxLength: 4 },
        )
        .map((parts) => parts.map(([name, body]) => `@@aip:${name}\n${body}\n@@aip:rc:0`).join('\n')),
      (s) => {
        const sections = parseSections(s)
        const checks = [
          ...gpuContainerChecks('h', { vendor: 'nvidia', count: 1 }, sections),
          ...gpuContainerChecks('h', { vendor: 'amd', count: 1, renderGid: 109 }, sections),
        ]
        for (const check of checks)
          if (RAW_CONTROL.test(check.detail)) throw new Error(`unprintable detail: ${JSON.stringify(check.detail)}`)
        return checks
      },
    ],
    [
      'Docker container lists',
      fc.oneof(text, mutated([container])),
      (s) => parseContainerList(JSON.parse(s) as unknown, 'h'),
    ],
    ['Docker log frames', text, (s) => demux(Buffer.from(s, 'latin1'))],
    [
      'known_hosts lines',
      fc.oneof(text, lines),
      (s) =>
        checkHostKey(
          parseKnownHosts(s),
          ['[10.0.0.1]:2222', 'erebus'],
          Buffer.from('0000000b7373682d656432353531390000000141', 'hex'),
        ),
    ],
  ]

  it.each(cases)('%s', (_name, input, parse) => {
    fc.assert(
      fc.property(input, (s) => {
        survives(() => {
          try {
            return parse(s)
          } catch (error) {
            // A container list that is not JSON at all never reaches the parser (docker-modem parses it).
            if (error instanceof SyntaxError && _name === 'Docker container lists') return null
            throw error
          }
        })
      }),
      { numRuns: RUNS, seed: 1313 },
    )
  })
})

describe('fuzz: quoting, redaction, templates', () => {
  it('quoteWord: any words reach a real sh exactly as they were', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary', maxLength: 20 }).map((w) => w.replace(/\0/g, '')),
          { minLength: 1, maxLength: 8 },
        ),
        (words) => {
          const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(quoteWord).join(' ')}`])
          expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(
            words.map((w) => Buffer.from(w, 'utf8').toString('utf8')),
          )
        },
      ),
      { numRuns: Math.min(RUNS, 300), seed: 1414 },
    )
  })

  it('redaction: no value of four characters or more survives, wherever it sits', () => {
    const value = fc.string({ minLength: 4, maxLength: 16 }).filter((v) => !v.includes('*'))
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 4 }),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }),
        (values, filler) => {
          const text = filler.map((f, i) => `${f}${values[i % values.length]}`).join('') + values.join(' ')
          const out = redactor(values)(text)
          for (const v of values) expect(out).not.toContain(v)
        },
      ),
      { numRuns: RUNS, seed: 1515 },
    )
  })

  it('templates: any nesting of loops over the fleet renders or gives a located issue, within its bounds', () => {
    const block: fc.Arbitrary<string> = fc.letrec<{ t: string }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('x', '{{name}}', '{{@index}}', '{{json this}}'),
        tie('t').map((t) => `{{#each @root.fleet}}${t}{{/each}}`),
        tie('t').map((t) => `{{#with @root.host}}${t}{{/with}}`),
        fc.tuple(tie('t'), tie('t')).map(([a, b]) => `${a}${b}`),
      ),
    })).t
    const context = { host: { name: 'h0' }, fleet: Array.from({ length: 10 }, (_, i) => ({ name: `h${i}` })) }
    fc.assert(
      fc.property(block, (template) => {
        const started = performance.now()
        const result = new TemplateEngine().render('templates/t.hbs', template, context)
        expect(performance.now() - started).toBeLessThan(5000)
        if (result.ok) expect(result.text.length).toBeLessThanOrEqual(4 * 1024 * 1024)
        else expect(result.issue.line).toBeGreaterThanOrEqual(1)
      }),
      { numRuns: Math.min(RUNS, 500), seed: 1616 },
    )
  })
})
