// A command that connects to hosts needs a platform the operator chose (--project, AIP_PROJECT, or
// the current directory), never the bundled reference one, whose hosts are examples. Only the
// commands that read the platform without connecting fall back to it. Which commands connect comes from
// the built CLI's manifest: one added without an invocation here fails the test.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { NOT_CONNECTING, uncovered } from '../helpers/commands.js'
import { localHosts, type LocalHosts } from '../helpers/local-hosts.js'
import { REPO } from '../helpers/project.js'

let hosts: LocalHosts
let outside = ''
beforeAll(async () => {
  hosts = await localHosts()
  outside = await mkdtemp(join(tmpdir(), 'aip-outside-'))
})
afterAll(async () => {
  await hosts?.cleanup()
  await rm(outside, { recursive: true, force: true })
})

/** Outside any platform directory, every socket refused and logged: nothing may be contacted. */
const runOutside = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const log = join(outside, 'network.log')
  return cli(args, {
    cwd: outside,
    env: {
      ...hosts.env,
      AIP_PROJECT: '',
      NODE_OPTIONS: `--import=${join(REPO, 'test/fixtures/no-network/hook.mjs')}`,
      AIP_NETWORK_LOG: log,
      ...env,
    },
  })
}
const networkLog = () => readFile(join(outside, 'network.log'), 'utf8').catch(() => '(none)')

describe('commands that connect to hosts need a platform the operator chose', () => {
  it('deploy outside a platform directory, with neither --project nor AIP_PROJECT, refuses and says how to choose one; a dry run does not', async () => {
    const result = await runOutside(['deploy'])
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(result.stderr).toBe(
      `error: deploy connects to hosts and needs your platform: there is no --project, no AIP_PROJECT, and ${outside} is not a platform directory (it has no inventory/). The bundled reference platform is an example, used only by validate, plan, render and deploy --dry-run.\n` +
        'hint: Pass --project DIR, set AIP_PROJECT=DIR, or cd into a platform directory (one with inventory/); `ai-platform init DIR` scaffolds one.\n',
    )
    // what only reads the platform keeps the bundled reference platform
    expect((await runOutside(['deploy', '--dry-run'])).code).toBe(0)
    expect((await runOutside(['plan', 'erebus'])).code).toBe(0)
    expect((await runOutside(['render', 'erebus', '--no-secrets', '--out', join(outside, 'rendered')])).code).toBe(0)
    expect((await runOutside(['audit'])).code).toBe(0)
    expect(await networkLog()).toBe('(none)')
  })

  it('so does every other command that connects, read-only or not, whatever --yes says', async () => {
    const connecting: [string, string[]][] = [
      ['deploy', ['deploy', 'erebus', '--yes']],
      ['rollback', ['rollback', 'erebus']],
      ['exec', ['exec', 'local', '--', 'true']],
      ['restore', ['restore', 'erebus', '--from', '20261123T040000Z', '--yes']],
      ['lock release', ['lock', 'release', 'erebus']],
      ['lock status', ['lock', 'status']],
      ['models rm', ['models', 'rm', 'llava:13b']],
      ['models pull', ['models', 'pull']],
      ['models sync', ['models', 'sync']],
      ['models list', ['models', 'list']],
      ['backup', ['backup']],
      ['backup list', ['backup', 'list']],
      ['status', ['status']],
      ['health', ['health']],
      ['preflight', ['preflight']],
      ['diff', ['diff']],
      ['logs', ['logs', 'local']],
      ['audit --remote', ['audit', '--remote']],
      ['drift', ['drift']],
      ['up', ['up', 'alpha', 'notebook']],
      ['down', ['down', 'alpha', 'notebook']],
      ['images build', ['images', 'build']],
      ['releases --remote', ['releases', '--remote']],
      ['rollback --fleet', ['rollback', '--fleet', '--dry-run']],
    ]
    expect(uncovered(connecting.map(([, args]) => args))).toEqual([])
    const results = await Promise.all(connecting.map(([, args]) => runOutside(args)))
    results.forEach((result, i) => {
      const [id, args] = connecting[i]!
      expect.soft(result.code, args.join(' ')).toBe(1)
      expect
        .soft(result.stderr, args.join(' '))
        .toMatch(new RegExp(`^error: ${id} connects to hosts and needs your platform: `))
    })
    expect(await networkLog()).toBe('(none)')
  }, 60_000)

  it('the commands listed as not connecting open no connection, on the bundled platform or their own', async () => {
    const scaffold = join(outside, 'scaffold')
    const runs: [string, string[]][] = [
      ['validate', ['validate']],
      ['plan', ['plan']],
      ['render', ['render', '--no-secrets', '--out', join(outside, 'rendered-all')]],
      ['init', ['init', scaffold]],
      ['secrets init', ['secrets', 'init', '--project', scaffold]],
    ]
    expect(runs.map(([id]) => id).sort()).toEqual([...NOT_CONNECTING].sort())
    for (const [id, args] of runs) expect.soft(await runOutside(args), id).toMatchObject({ code: 0 })
    expect(await networkLog()).toBe('(none)')
  })

  it('AIP_PROJECT chooses the platform from anywhere; --project still wins', async () => {
    const status = await runOutside(['lock', 'status', 'gamma'], { AIP_PROJECT: hosts.dir })
    expect(status).toMatchObject({ code: 0, stdout: 'gamma: not locked\n' })
    const plan = await runOutside(['plan', '--json'], { AIP_PROJECT: hosts.dir })
    expect(JSON.parse(plan.stdout)).toMatchObject({ project: hosts.dir, summary: { hosts: 3 } })
    const flag = await runOutside(['plan', '--json', '--project', REPO], { AIP_PROJECT: hosts.dir })
    expect(JSON.parse(flag.stdout)).toMatchObject({ summary: { hosts: 10 } })
    const wrong = await runOutside(['status'], { AIP_PROJECT: join(outside, 'nope') })
    expect(wrong.stderr).toBe(
      `error: AIP_PROJECT=${join(outside, 'nope')}: no such directory\nhint: Create one with \`ai-platform init DIR\`.\n`,
    )
  })

  it('--help says where the platform comes from', async () => {
    const help = (await cli(['status', '--help'])).stdout.replace(/\s+/g, ' ')
    expect(help).toContain(
      '--project=DIR Platform directory holding inventory/, stacks/ and templates/ (default: $AIP_PROJECT, else the current directory when it has inventory/',
    )
  })
})
