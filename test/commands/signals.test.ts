// Signals as an operator or a supervisor sends them to the running CLI: SIGTERM ends a run with 143,
// never 0 or 130; Ctrl-C with 130; the signal after a command's last step exits at once, saying what
// it leaves. gamma is this machine (a stub docker lets a deploy reach its lock), alpha refuses SSH.
import { spawn } from 'node:child_process'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
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

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [join(REPO, 'bin/run.js'), ...args, '--project', hosts.dir], {
    env: { ...process.env, NO_COLOR: '1', ...hosts.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  const waitFor = async (what: string, seen: () => boolean, ms = 20_000) => {
    for (const t0 = Date.now(); !seen(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() - t0 > ms) throw new Error(`no ${what} within ${ms} ms:\n${stderr}`)
    }
  }
  return { child, done, waitFor, out: () => stdout, err: () => stderr }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const foreignLock = JSON.stringify({
  token: 'other',
  user: 'eve',
  machine: 'elsewhere',
  pid: 42,
  command: 'deploy all',
  since: '2026-11-23T04:00:00.000Z',
})

describe('signals', () => {
  it("health --watch: SIGTERM ends it with 143; Ctrl-C with the last round's status", async () => {
    const term = start(['health', 'alpha', '--watch', '--interval', '1', '--timeout', '1', '--json'])
    await term.waitFor('a first round', () => term.out().includes('\n'))
    term.child.kill('SIGTERM')
    expect(await term.done).toMatchObject({ code: 143, signal: null })
    const int = start(['health', 'alpha', '--watch', '--interval', '1', '--timeout', '1', '--json'])
    await int.waitFor('a first round', () => int.out().includes('\n'))
    int.child.kill('SIGINT')
    const ended = await int.done
    expect(ended.code).toBe(1)
    expect(JSON.parse(ended.stdout.split('\n')[0]!)).toMatchObject({ ok: false })
  })

  it('deploy --lock-wait: one SIGTERM stops the wait and the run ends with 143 (it was 130)', async () => {
    await mkdir(join(hosts.base, '.lock'))
    await writeFile(join(hosts.base, '.lock/info.json'), foreignLock)
    try {
      const run = start(['deploy', 'gamma', '--lock-wait', '60', '--json'])
      await run.waitFor('the preflight', () => run.err().includes('gamma: preflight ok'))
      await sleep(300)
      run.child.kill('SIGTERM')
      const ended = await run.done
      expect(ended.code, ended.stderr).toBe(143)
      expect(ended.stderr).toContain(
        '\nSIGTERM: starting no new host; hosts in flight finish or roll back. Again to abandon their health waits (they are rolled back).\n',
      )
      const report = JSON.parse(ended.stdout)
      expect(report).toMatchObject({ ok: false, interrupted: true })
      expect(report.hosts[0].error).toBe(
        'gamma is locked by eve@elsewhere (pid 42) since 2026-11-23T04:00:00.000Z (deploy all)',
      )
    } finally {
      await rm(join(hosts.base, '.lock'), { recursive: true, force: true })
    }
  })

  it('deploy: a third signal exits at once with one line naming the host left locked, which lock status then shows as dead', async () => {
    // tar (the release upload on gamma) waits for the gate: the host sits in flight with its lock held.
    const gate = join(hosts.base, '..', 'gate')
    // (at most 30 s, should the gate never open)
    await writeFile(
      join(hosts.bin, 'tar'),
      '#!/bin/sh\ni=0\nwhile [ ! -e "$AIP_TEST_GATE" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\nexit 1\n',
      { mode: 0o755 },
    )
    try {
      const run = start(['deploy', 'gamma', '--json'], { AIP_TEST_GATE: gate })
      await run.waitFor('the lock', () => run.err().includes('gamma: lock ok'))
      for (const expected of ['starting no new host', 'abandoning the health waits in flight']) {
        run.child.kill('SIGTERM')
        await run.waitFor(expected, () => run.err().includes(expected))
      }
      run.child.kill('SIGTERM')
      const ended = await run.done
      expect(ended.code).toBe(143)
      expect(ended.stdout).toBe('')
      expect(ended.stderr.trimEnd().split('\n').at(-1)).toBe(
        'SIGTERM: exiting at once; left mid-deploy: gamma (locked, not switched); `ai-platform lock release gamma` frees its lock (the next deploy from this machine does too).',
      )
      await stat(join(hosts.base, '.lock'))
      const status = await cli(['lock', 'status', 'gamma', '--project', hosts.dir], { env: hosts.env })
      expect(status.stdout).toMatch(
        /^gamma: locked by \S+ \(pid \d+, no longer running: `ai-platform lock release gamma` frees it\) since \S+ \(deploy gamma --json --project \S+\)\n$/,
      )
      expect((await cli(['lock', 'release', 'gamma', '--project', hosts.dir], { env: hosts.env })).code).toBe(0)
    } finally {
      await writeFile(gate, '')
      await sleep(300)
      await rm(join(hosts.bin, 'tar'), { force: true })
      await rm(join(hosts.base, '.lock'), { recursive: true, force: true })
    }
  })
})
