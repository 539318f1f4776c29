// oclif's conventions, run as a user runs them: help in every spelling, a typo's suggestion.
import { describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)

describe('oclif conventions', () => {
  it('help deploy, deploy -h and deploy --help print the same help', async () => {
    const [help, short, long] = await Promise.all([
      cli(['help', 'deploy']),
      cli(['deploy', '-h']),
      cli(['deploy', '--help']),
    ])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Deploy hosts in dependency order/)
    expect(help.stdout).toContain('USAGE\n  $ ai-platform deploy [TARGETS...]')
    expect(short).toEqual(help)
    expect(long).toEqual(help)
  })

  it('help, -h and --help print the top-level help, with or without the fast path', async () => {
    const runs = await Promise.all(
      ['help', '-h', '--help'].flatMap((arg) => [cli([arg]), cli([arg], { env: { AIP_NO_FAST_PATH: '1' } })]),
    )
    for (const run of runs) expect(run).toEqual(runs[0])
    expect(runs[0]!.stdout).toMatch(/^ {2}help +Display help for ai-platform\.$/m)
    expect(runs[0]!.stdout).toMatch(/^ {2}autocomplete +Display autocomplete installation instructions\.$/m)
  })

  it('a mistyped command without a terminal names the closest one and exits 127, without a stack', async () => {
    const typo = await cli(['deploi', 'all'])
    expect(typo).toEqual({
      code: 127,
      stdout: '',
      stderr:
        'error: deploi is not an ai-platform command\nhint: did you mean deploy? `ai-platform help` lists every command.\n',
    })
    const topic = await cli(['models', 'pul'])
    expect(topic.stderr).toContain('did you mean models pull?')
    // nothing near enough: no guess
    const far = await cli(['xyzzyqq'])
    expect(far).toEqual({
      code: 127,
      stdout: '',
      stderr: 'error: xyzzyqq is not an ai-platform command\nhint: `ai-platform help` lists every command.\n',
    })
    noStack(typo.stderr + far.stderr)
  })

  it('NO_COLOR turns colour off, even where FORCE_COLOR turns it on', async () => {
    const sgr = new RegExp(String.raw`\u001b\[[\d;]*m`)
    // the test's own proof: this output is coloured when colour is asked for (no terminal here)
    const forced = await cli(['plan', 'erebus'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } })
    expect(forced.code).toBe(0)
    expect(forced.stdout).toMatch(sgr)
    const plain = await cli(['plan', 'erebus'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } })
    expect(plain.code).toBe(0)
    expect(plain.stdout).not.toMatch(sgr)
    expect(plain.stdout).toContain('wave 1 (1 host)')
  })

  it('autocomplete prints the set-up for a shell', async () => {
    const result = await cli(['autocomplete', 'bash'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('ai-platform autocomplete')
  })
})
