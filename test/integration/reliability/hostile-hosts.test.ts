// Hosts that are broken, slow or hostile cannot hurt the operator: every wait on them ends by its
// deadline, what they print is bounded, and nothing they answer reaches the terminal as a control
// sequence. Each test puts one host in that state for real (a fault switch, a file on the host).
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fault, fleetHost } from '../../fleet/fleet.js'
import { ensureDeployed, HAVE_FLEET, hostState, testPlatform, type TestPlatform } from '../helpers/platform.js'

let platform: TestPlatform

const hasControls = (text: string) => ['\u001b', '\u0007', '\u202e'].some((c) => text.includes(c))

const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; s: number }> => {
  const t0 = Date.now()
  const value = await work()
  return { value, s: (Date.now() - t0) / 1000 }
}

describe.skipIf(!HAVE_FLEET)('hostile, broken and slow hosts', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('a host whose Docker API takes requests and never answers: health, status and deploy end by their deadlines', async () => {
    const zelus = fleetHost(platform.fleet, 'zelus')
    const before = await hostState(zelus)
    await fault('zelus', 'docker-hang')
    try {
      const health = await timed(() => platform.cli(['health', 'zelus', '--timeout', '2', '--json']))
      expect(health.value.code).toBe(1)
      const containers = health.value.json.hosts[0].checks.filter((c: any) => c.check === 'container')
      expect(containers.length).toBeGreaterThan(0)
      for (const check of containers)
        expect(check).toMatchObject({
          status: 'fail',
          detail: 'the Docker API (list containers): no answer within 2 s',
        })
      expect(health.s).toBeLessThan(15)

      const status = await timed(() => platform.cli(['status', 'zelus', '--timeout', '3', '--json']))
      expect(status.value.code).toBe(1)
      expect(status.value.json.hosts[0]).toMatchObject({
        host: 'zelus',
        reachable: false,
        error: 'zelus: the Docker API (list containers): no answer within 3 s',
      })
      expect(status.s).toBeLessThan(15)

      const deploy = await timed(() => platform.cli(['deploy', 'zelus', '--force', '--yes', '--json']))
      expect(deploy.value.code).toBe(1)
      const report = deploy.value.json.hosts[0]
      expect(report.error).toBe('zelus: the Docker API (inspect images): no answer within 30 s')
      expect(report.rollback).toMatchObject({ status: 'none' })
      expect(deploy.s).toBeLessThan(60)
      const after = await hostState(zelus)
      expect(after.current).toBe(before.current)
      expect(after.containers.map((c) => c.id)).toEqual(before.containers.map((c) => c.id))
    } finally {
      await fault('zelus', 'docker-unhang')
    }
    const lock = await platform.cli(['lock', 'status', 'zelus', '--json'])
    expect(lock.json.hosts[0].lock).toBeNull()
  }, 240_000)

  it('backup of a host whose Docker API never answers ends by its deadline with the clear error; nothing is written', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const backups = join(erebus.outside.baseDir, 'backups')
    const listing = async () => (await readdir(backups, { recursive: true }).catch(() => [])).sort()
    const before = await listing()
    await fault('erebus', 'docker-hang')
    try {
      const backup = await timed(() => platform.cli(['backup', 'erebus', '--json']))
      expect(backup.value.code).toBe(1)
      expect(backup.value.json.backups).toEqual([
        expect.objectContaining({
          host: 'erebus',
          ok: false,
          error: 'erebus: the Docker API (list containers): no answer within 30 s',
        }),
      ])
      expect(backup.s).toBeLessThan(60)
      expect(await listing()).toEqual(before)
    } finally {
      await fault('erebus', 'docker-unhang')
    }
  }, 240_000)

  it('a host printing far more than any answer needs (an 80 MiB history line) gets an error, not a crash', async () => {
    const thanatos = fleetHost(platform.fleet, 'thanatos')
    const history = join(thanatos.outside.baseDir, 'history.jsonl')
    await rename(history, `${history}.kept`)
    try {
      await writeFile(history, `{"event":"${'x'.repeat(80 * 1024 * 1024)}"}\n`)
      const run = await platform.cli(['audit', 'thanatos', 'hephaestus', '--remote', '--json'])
      expect(run.code).toBe(1)
      expect(run.stderr).not.toMatch(/hit a bug|RangeError|at /)
      expect(run.json.errors).toEqual([
        {
          host: 'thanatos',
          error: expect.stringMatching(
            /^thanatos: `tail -n 20 \/opt\/ai-platform\/history\.jsonl` printed more than 64 MiB; stopped reading it$/,
          ),
        },
      ])
      expect(run.json.entries.filter((e: any) => e.host === 'hephaestus').length).toBeGreaterThan(0)
    } finally {
      await rename(`${history}.kept`, history)
    }
    expect((await readFile(history, 'utf8')).length).toBeLessThan(1024 * 1024)
  }, 120_000)

  it('escape sequences a host plants (lock holder, history, a config file) reach the terminal escaped', async () => {
    // a host whose release has config files, for diff
    let name = ''
    for (const candidate of ['moros', 'orpheus', 'erebus', 'hephaestus']) {
      if (((await hostState(fleetHost(platform.fleet, candidate))).release?.files ?? []).length > 0) {
        name = candidate
        break
      }
    }
    expect(name).not.toBe('')
    const host = fleetHost(platform.fleet, name)
    const base = host.outside.baseDir
    const evil = '\u001b]0;pwned\u0007\u001b[2K\u001b]8;;https://evil.example\u001b\\link\u202eexe.txt'
    const state = await hostState(host)
    const file = join(base, state.release.files[0])
    const fileBefore = await readFile(file, 'utf8')
    const historyBefore = await readFile(join(base, 'history.jsonl'), 'utf8')
    await mkdir(join(base, '.lock'))
    await writeFile(
      join(base, '.lock', 'info.json'),
      `${JSON.stringify({ token: 'planted', user: evil, machine: 'elsewhere', pid: 1, command: evil, since: '2026-11-30T00:00:00Z' })}\n`,
    )
    await appendFile(
      join(base, 'history.jsonl'),
      `${JSON.stringify({ time: '2026-11-30T00:00:00Z', event: 'deployed', release: evil, user: evil, machine: 'm' })}\n`,
    )
    await writeFile(file, `${fileBefore}${evil}\n`)
    try {
      const runs = await Promise.all(
        [
          ['lock', 'status', name],
          ['status', name],
          ['audit', name, '--remote'],
          ['diff', name],
        ].map((args) => platform.cli(args)),
      )
      for (const run of runs) {
        const shown = run.stdout + run.stderr
        expect(shown).toContain('\\x1b]0;pwned\\x07\\x1b[2K\\x1b]8;;https://evil.example')
        expect(hasControls(shown)).toBe(false)
      }
      const json = await platform.cli(['lock', 'status', name, '--json'])
      expect(json.json.hosts[0].lock.holder).toContain(evil) // the data itself, exact
      expect(hasControls(json.stdout)).toBe(false)
    } finally {
      await rm(join(base, '.lock'), { recursive: true, force: true })
      await writeFile(join(base, 'history.jsonl'), historyBefore)
      await writeFile(file, fileBefore)
    }
  }, 120_000)
})
