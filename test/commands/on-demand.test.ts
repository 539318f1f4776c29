// `up` and `down` on the built CLI, with no fleet: gamma is this machine (a stub docker, no release yet),
// alpha refuses connections. The refusals, --dry-run and --json; what they leave (no lock, an audit record).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { localHosts, type LocalHosts } from '../helpers/local-hosts.js'

let hosts: LocalHosts
const LAB = `x-ai-platform:
  placement: { hosts: [alpha, gamma] }
  phase: ai
services:
  notebook:
    image: example/notebook:1
    ports: ["8888:8888"]
    x-ai-platform:
      tier: on-demand
      health:
        - http: { port: 8888, path: /api }
`

beforeAll(async () => {
  hosts = await localHosts()
  await writeFile(join(hosts.dir, 'stacks/lab.yaml'), LAB)
})
afterAll(async () => {
  await hosts?.cleanup()
})

const run = (args: string[]) => cli([...args, '--project', hosts.dir], { env: hosts.env })

describe('up / down', () => {
  it('--dry-run says what it would do and contacts nothing (alpha refuses connections); --json gives the same as data', async () => {
    const text = await run(['up', 'alpha', 'notebook', '--dry-run', '--health-timeout', '60'])
    expect(text).toMatchObject({
      code: 0,
      stdout: [
        'Dry run: up notebook on alpha would:',
        "  take alpha's deploy lock",
        '  compose --profile on-demand up --detach --no-deps notebook on its current release',
        '  wait up to 60 s for notebook to be running and healthy',
        `  record "started" in alpha's history and the local audit log`,
        'Nothing was contacted or changed.',
        '',
      ].join('\n'),
    })
    const json = await run(['down', 'alpha', 'notebook', '--dry-run', '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({
      kind: 'ai-platform/down',
      host: 'alpha',
      action: 'down',
      services: ['notebook'],
      dryRun: true,
      release: null,
      steps: [
        "take alpha's deploy lock",
        'compose --profile on-demand rm --stop --force notebook on its current release',
        `record "stopped" in alpha's history and the local audit log`,
      ],
      states: [],
      durationMs: expect.any(Number) as number,
    })
  })

  it.each([
    [['up', 'delta', 'notebook'], 'unknown host delta', 'Hosts: alpha, beta, gamma.'],
    [['up', 'gamma', 'nope'], 'unknown service nope', 'On-demand services on gamma: notebook.'],
    [
      ['down', 'beta', 'notebook'],
      'notebook is not placed on beta (it runs on alpha, gamma)',
      'beta has no on-demand services.',
    ],
    [
      ['up', 'gamma', 'db', '--dry-run'],
      'db is not an on-demand service (tier core): deploy starts and keeps it running',
      '`ai-platform deploy gamma` manages it. On-demand services on gamma: notebook.',
    ],
  ])('%j is refused before any connection, with a hint and no stack', async (args, message, hint) => {
    const result = await run(args)
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `error: ${message}\nhint: ${hint}\n` })
  })

  it('an unreachable host is refused with why, and the audit log records the failure', async () => {
    const result = await run(['up', 'alpha', 'notebook'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('error: alpha: connection refused by root@127.0.0.1:1: is sshd running?')
    expect(result.stderr).not.toMatch(/\n\s+at /)
    const audit = (await readFile(join(hosts.env.XDG_STATE_HOME!, 'ai-platform/audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(audit.at(-1)).toMatchObject({
      command: 'up alpha notebook --project ' + hosts.dir,
      host: 'alpha',
      status: 'failed',
      release: null,
      services: ['notebook'],
    })
  })

  it("runs under the host's deploy lock: one held by a deploy is refused naming its holder and how to wait (--lock-wait), and left alone", async () => {
    await mkdir(join(hosts.base, '.lock'))
    const holder = {
      token: 't',
      user: 'eve',
      machine: 'elsewhere',
      pid: 42,
      command: 'deploy all',
      since: '2026-11-23T04:00:00.000Z',
    }
    await writeFile(join(hosts.base, '.lock/info.json'), JSON.stringify(holder))
    try {
      const result = await run(['down', 'gamma', 'notebook'])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(
        /^error: gamma is locked by eve@elsewhere .*since 2026-11-23T04:00:00.000Z \(deploy all\)\nhint: Wait for it with --lock-wait SECONDS/,
      )
      // the holder's lock is left alone
      expect(JSON.parse(await readFile(join(hosts.base, '.lock/info.json'), 'utf8'))).toEqual(holder)
    } finally {
      await rm(join(hosts.base, '.lock'), { recursive: true, force: true })
    }
  })

  it('a host with no release: deploy it first; the lock taken to read it is given back', async () => {
    const text = await run(['up', 'gamma', 'notebook'])
    expect(text).toMatchObject({
      code: 1,
      stderr: 'error: gamma runs no release\nhint: Deploy it first: `ai-platform deploy gamma`.\n',
    })
    expect(existsSync(join(hosts.base, '.lock'))).toBe(false)
    const json = await run(['down', 'gamma', 'notebook', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toEqual({
      error: { message: 'gamma runs no release', hint: 'Deploy it first: `ai-platform deploy gamma`.' },
    })
    expect(existsSync(join(hosts.base, '.lock'))).toBe(false)
  })
})
