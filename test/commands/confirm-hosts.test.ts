// A run that would change more than one host asks first, and without a terminal needs --yes; what
// counts is the hosts the targets resolve to, not the words that chose them. gamma is this machine,
// alpha refuses SSH, beta is never contacted.
import { execFileSync, spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { localHosts, type LocalHosts } from '../helpers/local-hosts.js'
import { REPO } from '../helpers/project.js'

let hosts: LocalHosts
beforeAll(async () => {
  hosts = await localHosts()
})
afterAll(async () => {
  await hosts?.cleanup()
})

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  cli([...args, '--project', hosts.dir], { env: { ...hosts.env, CI: '', ...env } })
/** What a deploy would have left on gamma: its lock, a release, history. */
const gammaTouched = async () => (await readdir(hosts.base)).sort()

const noTerminal = (command: string, count: number, names: string) =>
  `error: ${command} would change ${count} hosts (${names}), and no terminal is attached to confirm it on\nhint: Run again with --yes to confirm without a prompt (a pipe, or CI=true, has no terminal to ask on).\n`

describe('more than one host: confirmation, or --yes without a terminal', () => {
  it('a bare deploy (every host) without a terminal is refused, naming --yes, before anything is contacted', async () => {
    const refusals: [string[], number, string][] = [
      [['deploy'], 3, 'beta, gamma, alpha'],
      [['deploy', 'all'], 3, 'beta, gamma, alpha'],
      [['deploy', '@gpu'], 2, 'beta, alpha'],
      // one host named, three deployed: app on alpha needs the database (gamma) and every Ollama node
      [['deploy', 'alpha', '--with-deps'], 3, 'beta, gamma, alpha'],
    ]
    // the other commands that can change several hosts ask the same way
    const others: [string[], string, number, string][] = [
      [['lock', 'release', 'all'], 'lock release', 3, 'alpha, beta, gamma'],
      [['models', 'pull'], 'models pull', 2, 'alpha, beta'],
      [['models', 'rm', 'small', '--on', '@gpu'], 'models rm', 2, 'alpha, beta'],
      [['models', 'sync', '--prune'], 'models sync', 2, 'alpha, beta'],
    ]
    // none of them contacts a host, so they run side by side
    const [results, json, otherResults] = await Promise.all([
      Promise.all(refusals.map(([args]) => run(args))),
      run(['deploy', '--json']),
      Promise.all(others.map(([args]) => run(args))),
    ])
    refusals.forEach(([args, count, names], i) =>
      expect(results[i], args.join(' ')).toMatchObject({
        code: 1,
        stdout: '',
        stderr: noTerminal('deploy', count, names),
      }),
    )
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        message: 'deploy would change 3 hosts (beta, gamma, alpha), and no terminal is attached to confirm it on',
        hint: 'Run again with --yes to confirm without a prompt (a pipe, or CI=true, has no terminal to ask on).',
      },
    })
    others.forEach(([args, command, count, names], i) =>
      expect(otherResults[i], args.join(' ')).toMatchObject({ code: 1, stderr: noTerminal(command, count, names) }),
    )
    expect(await gammaTouched()).toEqual([])
  })

  it('a run on a single host needs no --yes, whatever words chose it', async () => {
    // `all --phase infra` is gamma alone: it used to ask because it said `all`
    for (const args of [
      ['deploy', 'all', '--phase', 'infra', '--json'],
      ['deploy', 'gamma', '--json'],
    ]) {
      const result = await run(args)
      expect(result.stderr, args.join(' ')).not.toContain('--yes')
      expect(
        JSON.parse(result.stdout).hosts.map((h: { host: string }) => h.host),
        args.join(' '),
      ).toEqual(['gamma'])
    }
    expect(await run(['lock', 'release', '@db'])).toMatchObject({ code: 0, stdout: 'gamma: was not locked\n' })
  })

  it('--yes answers for every host', async () => {
    const released = await run(['lock', 'release', 'alpha', 'gamma', '--yes'])
    expect(released.stdout).toBe(
      'alpha: FAILED: alpha: connection refused by root@127.0.0.1:1: is sshd running?\ngamma: was not locked\n',
    )
    const deployed = await run(['deploy', 'alpha', 'gamma', '--yes', '--json'])
    expect(deployed.stderr).not.toContain('no terminal')
    expect(
      JSON.parse(deployed.stdout)
        .hosts.map((h: { host: string }) => h.host)
        .sort(),
    ).toEqual(['alpha', 'gamma'])
  }, 60_000)

  const hasScript = (() => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()

  it.skipIf(!hasScript)(
    'on a terminal it asks, and only a yes goes on; CI=true counts as no terminal',
    async () => {
      const onTerminal = (args: string[], answer: string, env: NodeJS.ProcessEnv = {}) =>
        new Promise<{ code: number | null; output: string }>((resolve) => {
          const command = [process.execPath, join(REPO, 'bin/run.js'), ...args, '--project', hosts.dir]
            .map((w) => `'${w}'`)
            .join(' ')
          const child = spawn('script', ['-qec', command, '/dev/null'], {
            env: { ...process.env, NO_COLOR: '1', ...hosts.env, CI: '', ...env },
            stdio: ['pipe', 'pipe', 'pipe'],
          })
          let output = ''
          child.stdout.on('data', (c: Buffer) => {
            output += c.toString()
            if (output.includes('[y/N]')) child.stdin.end(`${answer}\n`)
          })
          child.on('close', (code) => resolve({ code, output: output.replace(/\r/g, '') }))
        })
      const declined = await onTerminal(['lock', 'release', 'alpha', 'gamma'], 'n')
      expect(declined.output).toContain('Remove the deploy lock, whoever holds it, on: alpha, gamma? [y/N] ')
      expect(declined.output).toContain('error: cancelled')
      expect(declined.code).toBe(1)
      const ci = await onTerminal(['lock', 'release', 'alpha', 'gamma'], 'y', { CI: 'true' })
      expect(ci.output).toContain(noTerminal('lock release', 2, 'alpha, gamma').split('\n')[0])
      expect(ci.code).toBe(1)
      const accepted = await onTerminal(['lock', 'release', 'alpha', 'gamma'], 'y')
      expect(accepted.output).toContain('alpha: FAILED: alpha: connection refused')
      expect(accepted.output).toContain('gamma: was not locked')
    },
    60_000,
  )
})
