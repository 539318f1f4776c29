// Faults during deploys, verified on the hosts: no half-written release, no lock left behind, every
// host on a whole release, and the next run succeeds.
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fault, fleetHost, type FleetHost } from '../../fleet/fleet.js'
import {
  ensureDeployed,
  HAVE_FLEET,
  hostDocker,
  hostState,
  startDeploy,
  testPlatform,
  waitFor,
  type TestPlatform,
} from '../helpers/platform.js'

const NAMES = ['erebus', 'hephaestus', 'thanatos', 'zelus', 'orpheus', 'kratos', 'nyx', 'hades', 'moros', 'local']
let platform: TestPlatform

/** Every release directory complete, `current` pointing at one, nothing half-written, no lock. */
async function wholeReleases(host: FleetHost): Promise<{ current: string | null; releases: string[] }> {
  const base = host.outside.baseDir
  const releases = (await readdir(join(base, 'releases')).catch(() => [] as string[])).sort()
  expect(
    releases.filter((r) => r.startsWith('.')),
    `${host.name}: hidden upload directories`,
  ).toEqual([])
  for (const id of releases) {
    const files = (await readdir(join(base, 'releases', id))).sort()
    expect([host.name, id, files]).toEqual([
      host.name,
      id,
      ['.env', '.env.sha256', 'compose.yaml', 'files.sha256', 'release.json'],
    ])
    expect(JSON.parse(await readFile(join(base, 'releases', id, 'release.json'), 'utf8')).id).toBe(id)
  }
  await expect(stat(join(base, '.lock')), `${host.name}: lock left behind`).rejects.toThrow()
  const state = await hostState(host)
  if (state.current !== null) expect(releases).toContain(state.current)
  return { current: state.current, releases }
}

describe.skipIf(!HAVE_FLEET)('faults during deploys', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('a host unreachable before the deploy (sshd stopped): clear error, dependents skipped, nothing changed; the next run succeeds', async () => {
    const before = await hostState(fleetHost(platform.fleet, 'hephaestus'))
    await fault('hephaestus', 'sshd-stop')
    try {
      const run = await platform.cli(['deploy', 'all', '--yes', '--force', '--json', '--pull', 'never'])
      expect(run.code).toBe(1)
      const status = Object.fromEntries(run.json.hosts.map((h: any) => [h.host, h.status]))
      expect(status.hephaestus).toBe('failed')
      expect(run.json.hosts.find((h: any) => h.host === 'hephaestus').error).toBe(
        'hephaestus: connection refused by deploy@10.77.0.12:22: is sshd running?',
      )
      expect([status.thanatos, status.moros]).toEqual(['skipped', 'skipped'])
      expect(status.erebus).toBe('deployed')
      expect((await hostState(fleetHost(platform.fleet, 'hephaestus'))).current).toBe(before.current)
    } finally {
      await fault('hephaestus', 'sshd-start')
    }
    const next = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never'])
    expect(next.code, next.stderr).toBe(0)
    for (const name of NAMES) await wholeReleases(fleetHost(platform.fleet, name))
  }, 600_000)

  it('the link cut after the switch: the host fails naming the step and what it may run; the next run records the release and goes on', async () => {
    const moros = fleetHost(platform.fleet, 'moros')
    const before = await hostState(moros)
    await platform.regenerate({ mutate: (name, def) => name === 'grafana' && (def.environment.RELIABILITY = 'cut') })
    const run = startDeploy(platform, ['moros', '--json', '--pull', 'never'])
    await waitFor('the switch on moros', async () => /moros: switch ok/.test(run.output()), 60_000, 50)
    await fault('moros', 'link-down')
    const t0 = Date.now()
    let result
    try {
      result = await run.done
    } finally {
      await fault('moros', 'link-up')
    }
    const cutAfter = Date.now() - t0
    const report = JSON.parse(result.stdout)
    expect(result.code).toBe(1)
    const host = report.hosts[0]
    expect(host.status).toBe('failed')
    // keepalives (5 s x 3) notice the dead link; the step and the host's possible state are named
    expect(host.error).toMatch(
      new RegExp(
        `^moros: the connection was lost during (up|health); the host was switched to ${host.release} and may run it unrecorded: the next deploy records it and goes on from there$`,
      ),
    )
    expect(host.rollback).toMatchObject({ status: 'failed', release: before.current })
    expect(cutAfter).toBeLessThan(45_000)
    // current points at the new release, which history does not name yet
    const cut = await hostState(moros)
    expect(cut.current).toBe(host.release)
    expect(cut.history.some((h) => h.release === host.release)).toBe(false)
    // The lock could not be released over a dead link; this machine's next deploy sees its holder is gone.
    const next = await platform.cli(['deploy', 'moros', '--json', '--pull', 'never'])
    expect(next.code, next.stderr).toBe(0)
    expect(next.json.hosts[0]).toMatchObject({ recovered: host.release, previous: host.release, release: host.release })
    // Cut off, the host may still have finished the release on its own: repaired or unchanged are both whole.
    expect(['repaired', 'unchanged']).toContain(next.json.hosts[0].status)
    const state = await wholeReleases(moros)
    expect(state.current).toBe(host.release)
    expect((await hostState(moros)).history.filter((h) => h.release === host.release).map((h) => h.event)[0]).toBe(
      'recovered',
    )
    // status and the host's own history now agree on what it runs
    const status = await platform.cli(['status', 'moros', '--json'])
    expect(JSON.stringify(status.json)).toContain(host.release)
    const audit = await platform.cli(['audit', 'moros', '--remote', '--json'])
    expect(JSON.stringify(audit.json)).toContain(host.release)
  }, 600_000)

  it('compose fails on a port already taken: the host is rolled back, verified on the host', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const before = await hostState(erebus)
    // Something else holds 9999 on erebus; the new release wants to publish it.
    const docker = hostDocker(erebus)
    const squatter = await docker.createContainer({
      Image: 'aip/standin:1',
      name: 'squatter',
      Env: ['STANDIN_HTTP_PORTS=80'],
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '9999' }] } },
    })
    await squatter.start()
    try {
      await platform.regenerate({
        mutate: (name, def) => name === 'redis-exporter' && (def.ports = ['9121:9121', '9999:9998']),
      })
      const run = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never'])
      expect(run.code).toBe(1)
      const host = run.json.hosts[0]
      expect(host.error).toMatch(/port is already allocated|address already in use/)
      expect(host.rollback).toMatchObject({ status: 'done', release: before.current })
      const after = await hostState(erebus)
      expect(after.current).toBe(before.current)
      expect(after.containers.filter((c) => c.state !== 'running' && c.service !== 'postgres-init')).toEqual([])
      expect(after.history.at(-1)).toMatchObject({ event: 'rolled-back', to: before.current })
      await wholeReleases(erebus)
    } finally {
      await squatter.remove({ force: true })
      await platform.regenerate({})
    }
  }, 600_000)

  it('a missing image fails the host before anything is switched', async () => {
    const zelus = fleetHost(platform.fleet, 'zelus')
    const before = await hostState(zelus)
    await platform.regenerate({ mutate: (name, def) => name === 'neo4j' && (def.image = 'aip/does-not-exist:1') })
    try {
      const run = await platform.cli(['deploy', 'zelus', '--json', '--pull', 'never'])
      expect(run.code).toBe(1)
      expect(run.json.hosts[0].error).toBe('zelus: images missing and --pull never: aip/does-not-exist:1')
      expect(run.json.hosts[0].rollback).toEqual({ status: 'none', release: before.current })
      const after = await hostState(zelus)
      expect(after.current).toBe(before.current)
      expect(after.containers.map((c) => c.id)).toEqual(before.containers.map((c) => c.id))
      await wholeReleases(zelus)
    } finally {
      await platform.regenerate({})
    }
  }, 300_000)

  it('two deploys to one host at once: one proceeds, the other refuses and names the holder', async () => {
    await platform.regenerate({ mutate: (name, def) => name === 'qdrant' && (def.environment.RUN = 'two') })
    const [a, b] = await Promise.all([
      platform.cli(['deploy', 'erebus', '--json', '--pull', 'never']),
      platform.cli(['deploy', 'erebus', '--json', '--pull', 'never']),
    ])
    const outcomes = [a, b].map((r) => r.json.hosts[0])
    const winner = outcomes.find((h) => h.status === 'deployed')
    const loser = outcomes.find((h) => h.status !== 'deployed')
    expect(winner).toBeDefined()
    // The loser either found the lock held, or (if the winner had finished) the host already up to date.
    if (loser.status === 'failed')
      expect(loser.error).toMatch(/^erebus is locked by \S+@\S+ \(pid \d+\) since \S+ \(deploy erebus/)
    else expect(loser.status).toBe('unchanged')
    await wholeReleases(fleetHost(platform.fleet, 'erebus'))
    await platform.regenerate({})
  }, 300_000)

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} in the middle of deploy all: no new host starts, every host on a whole release, no lock left`, async () => {
      const run = startDeploy(platform, ['all', '--yes', '--force', '--json', '--pull', 'never'])
      await waitFor(
        'the first hosts switching',
        async () => /(erebus|kratos|nyx|hades): switch ok/.test(run.output()),
        120_000,
        50,
      )
      run.child.kill(signal)
      const result = await run.done
      // 128 + the signal's number, as a shell reports it: 130 for SIGINT, 143 for SIGTERM
      expect(result.code).toBe(signal === 'SIGINT' ? 130 : 143)
      const report = JSON.parse(result.stdout)
      expect(report.interrupted).toBe(true)
      const statuses = report.hosts.map((h: any) => h.status)
      expect(statuses).toContain('cancelled')
      expect(statuses.every((s: string) => ['deployed', 'cancelled', 'failed', 'unchanged'].includes(s))).toBe(true)
      for (const name of NAMES) await wholeReleases(fleetHost(platform.fleet, name))
      const next = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never'])
      expect(next.code, next.stderr).toBe(0)
    }, 600_000)
  }

  it('a second Ctrl-C abandons the health waits: those hosts are rolled back, and their locks released', async () => {
    // hephaestus's registry never becomes healthy, so its deploy sits in the health wait.
    await platform.regenerate({
      mutate: (name, def) => name === 'service-registry' && (def.healthcheck.test = ['CMD', 'false']),
    })
    const before = await hostState(fleetHost(platform.fleet, 'hephaestus'))
    const run = startDeploy(platform, ['hephaestus', '--json', '--pull', 'never', '--health-timeout', '300'])
    await waitFor('hephaestus waiting for health', async () => /hephaestus: up ok/.test(run.output()), 120_000, 50)
    run.child.kill('SIGINT')
    await new Promise((r) => setTimeout(r, 500))
    run.child.kill('SIGINT')
    const result = await run.done
    expect(result.code).toBe(130)
    expect(result.stderr).toContain(
      '\nSIGINT: abandoning the health waits in flight; those hosts are rolled back. Ctrl-C again to exit at once.\n',
    )
    const report = JSON.parse(result.stdout)
    expect(report.hosts[0]).toMatchObject({ status: 'failed', rollback: { status: 'done', release: before.current } })
    expect(report.hosts[0].error).toMatch(
      /^hephaestus: (interrupted while waiting for health|service-registry unhealthy)/,
    )
    expect((await hostState(fleetHost(platform.fleet, 'hephaestus'))).current).toBe(before.current)
    await wholeReleases(fleetHost(platform.fleet, 'hephaestus'))
    await platform.regenerate({})
  }, 600_000)

  it('a third Ctrl-C exits at once, naming the host it leaves mid-deploy; its lock shows a dead holder and the next deploy takes it over', async () => {
    await platform.regenerate({
      mutate: (name, def) => name === 'service-registry' && (def.healthcheck.test = ['CMD', 'false']),
    })
    try {
      const run = startDeploy(platform, ['hephaestus', '--json', '--pull', 'never', '--health-timeout', '300'])
      await waitFor('hephaestus waiting for health', async () => /hephaestus: up ok/.test(run.output()), 120_000, 50)
      run.child.kill('SIGINT')
      await waitFor(
        'the first step said',
        async () => run.output().includes('SIGINT: starting no new host'),
        10_000,
        50,
      )
      run.child.kill('SIGINT')
      await waitFor(
        'the second step said',
        async () => run.output().includes('SIGINT: abandoning the health waits'),
        10_000,
        50,
      )
      // at once: the rollback the second Ctrl-C started is still running
      run.child.kill('SIGINT')
      const result = await run.done
      expect(result.code).toBe(130)
      expect(result.stdout).toBe('')
      expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(
        'SIGINT: exiting at once; left mid-deploy: hephaestus (switched to a release not yet checked healthy); `ai-platform lock release hephaestus` frees its lock (the next deploy from this machine does too).',
      )
      const lock = await platform.cli(['lock', 'status', 'hephaestus', '--json'])
      expect(lock.json.hosts[0].lock).toMatchObject({
        pidRunning: false,
        holder: expect.stringContaining('no longer running: `ai-platform lock release hephaestus` frees it'),
      })
    } finally {
      await platform.regenerate({})
    }
    const next = await platform.cli(['deploy', 'hephaestus', '--json', '--pull', 'never'])
    expect(next.code, next.stderr).toBe(0)
    await wholeReleases(fleetHost(platform.fleet, 'hephaestus'))
  }, 600_000)
})
