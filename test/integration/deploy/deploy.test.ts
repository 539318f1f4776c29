// Deploy on the real fleet, asserting on what the hosts run and record (their engines and disks),
// not on the CLI's own report alone.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost, type FleetHost } from '../../fleet/fleet.js'
import {
  HAVE_FLEET,
  hostState,
  resetFleet,
  testPlatform,
  type HostState,
  type TestPlatform,
} from '../helpers/platform.js'

const NAMES = ['erebus', 'hephaestus', 'thanatos', 'zelus', 'orpheus', 'kratos', 'nyx', 'hades', 'moros', 'local']
let platform: TestPlatform
let plan: any

async function states(): Promise<Record<string, HostState>> {
  const entries = await Promise.all(
    NAMES.map(async (name) => [name, await hostState(fleetHost(platform.fleet, name))] as const),
  )
  return Object.fromEntries(entries)
}

const ids = (state: HostState) => Object.fromEntries(state.containers.map((c) => [c.service, c.id]))

describe.skipIf(!HAVE_FLEET)('deploy on the fleet', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await resetFleet(platform.fleet)
    plan = (await platform.cli(['plan', 'all', '--json'])).json
  }, 120_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('deploys all ten hosts in dependency order', async () => {
    const run = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never'])
    expect(run.stderr).not.toContain('FAILED')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.hosts.map((h: any) => [h.host, h.status])).toEqual(plan.hosts.map((h: any) => [h.name, 'deployed']))
    const all = await states()
    for (const host of plan.hosts) {
      const state = all[host.name]!
      // The host runs the release the plan rendered, every non-on-demand service up.
      expect(state.release.hash, host.name).toBe(host.hash)
      expect(state.current).toBe(state.release.id)
      const expected = host.services
        .filter((s: any) => s.tier !== 'on-demand')
        .map((s: any) => s.name)
        .sort()
      expect(
        state.containers.map((c) => c.service),
        host.name,
      ).toEqual(expected)
      for (const c of state.containers) {
        const oneshot = host.services.find((s: any) => s.name === c.service).oneshot
        expect([c.service, c.state], host.name).toEqual([c.service, oneshot ? 'exited' : 'running'])
        if (!oneshot) expect([c.service, c.health]).toEqual([c.service, 'healthy'])
      }
      expect(state.history.map((h) => h.event)).toEqual(['deployed'])
    }
    // Order, from the engines' own clocks: a host's containers were created after every container of
    // each host it depends on.
    for (const host of plan.hosts) {
      const first = Math.min(...all[host.name]!.containers.map((c) => Date.parse(c.created)))
      for (const dep of host.dependsOn) {
        const last = Math.max(...all[dep.host]!.containers.map((c) => Date.parse(c.created)))
        expect(first, `${host.name} after ${dep.host}`).toBeGreaterThan(last)
      }
    }
  }, 600_000)

  it('drives Compose v2 and v1, as a non-root deploy user, with a 0600 .env', async () => {
    const run = await platform.cli(['status', 'all', '--json'])
    for (const name of NAMES) {
      const host: FleetHost = fleetHost(platform.fleet, name)
      const state = await hostState(host)
      const versions = new Set(state.containers.map((c) => c.composeVersion.split('.')[0]))
      expect([name, [...versions]]).toEqual([name, [host.compose === 'v1' ? '1' : '2']])
      const reported = run.json.hosts.find((h: any) => h.host === name)
      expect(reported.compose.startsWith(host.compose)).toBe(true)
      if (name === 'local') continue
      const env = await stat(join(host.outside.baseDir, 'current', '.env'))
      expect(env.mode & 0o777).toBe(0o600)
      expect(env.uid).not.toBe(0)
    }
  })

  it('a redeploy of unchanged hosts changes nothing anywhere', async () => {
    const before = await states()
    const run = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never'])
    expect(run.code, run.stderr).toBe(0)
    expect(new Set(run.json.hosts.map((h: any) => h.status))).toEqual(new Set(['unchanged']))
    const after = await states()
    for (const name of NAMES) {
      expect(ids(after[name]!), name).toEqual(ids(before[name]!))
      expect(after[name]!.current).toBe(before[name]!.current)
      expect(after[name]!.history).toEqual(before[name]!.history)
    }
  }, 300_000)

  it('a one-service change redeploys only its host, and recreates only that service', async () => {
    const before = await states()
    await platform.regenerate({ mutate: (name, def) => name === 'grafana' && (def.environment.GF_LOG_LEVEL = 'warn') })
    const run = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.hosts.filter((h: any) => h.status !== 'unchanged').map((h: any) => [h.host, h.status])).toEqual([
      ['moros', 'deployed'],
    ])
    const after = await states()
    for (const name of NAMES.filter((n) => n !== 'moros')) expect(ids(after[name]!), name).toEqual(ids(before[name]!))
    const moros = { before: ids(before.moros!), after: ids(after.moros!) }
    const changed = Object.keys(moros.after).filter((s) => moros.after[s] !== moros.before[s])
    expect(changed).toEqual(['grafana'])
    expect(after.moros!.current).not.toBe(before.moros!.current)
    expect(after.moros!.release.previous).toBe(before.moros!.current)
  }, 300_000)

  it('a host whose service fails its health check is rolled back; its dependents are skipped; others go on', async () => {
    const before = await states()
    // hephaestus's service registry now fails its container health check; erebus gets a harmless change.
    await platform.regenerate({
      mutate: (name, def) => {
        if (name === 'grafana') def.environment.GF_LOG_LEVEL = 'warn'
        if (name === 'service-registry') def.healthcheck.test = ['CMD', 'false']
        if (name === 'redis') def.environment.CHANGED = '1'
      },
    })
    const run = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never', '--health-timeout', '60'])
    expect(run.code).toBe(1)
    const status = Object.fromEntries(run.json.hosts.map((h: any) => [h.host, h.status]))
    expect(status).toEqual({
      erebus: 'deployed',
      kratos: 'unchanged',
      nyx: 'unchanged',
      hades: 'unchanged',
      local: 'unchanged',
      hephaestus: 'failed',
      orpheus: 'unchanged',
      thanatos: 'skipped',
      zelus: 'unchanged',
      moros: 'skipped',
    })
    const heph = run.json.hosts.find((h: any) => h.host === 'hephaestus')
    expect(heph.error).toContain('service-registry unhealthy')
    expect(heph.rollback).toMatchObject({ status: 'done', release: before.hephaestus!.current })
    const after = await states()
    // On the host: back on the previous release, its service registry healthy again, the rollback recorded.
    expect(after.hephaestus!.current).toBe(before.hephaestus!.current)
    expect(after.hephaestus!.containers.find((c) => c.service === 'service-registry')).toMatchObject({
      state: 'running',
      health: 'healthy',
    })
    expect(after.hephaestus!.history.at(-1)).toMatchObject({ event: 'rolled-back', to: before.hephaestus!.current })
    expect(ids(after.thanatos!)).toEqual(ids(before.thanatos!))
    expect(after.erebus!.current).not.toBe(before.erebus!.current)
    const locks = await platform.cli(['lock', 'status', 'all', '--json'])
    expect(locks.json.hosts.filter((h: any) => h.lock !== null)).toEqual([])
  }, 600_000)
})
