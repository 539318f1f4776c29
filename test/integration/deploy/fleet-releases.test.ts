// Fleet releases on the fleet: a deploy that changes hosts records one id for the platform, here and on
// every host of the run, naming the release each host then runs (read from the hosts themselves); a
// deploy that changes nothing records none; another workstation (no local record) reads the same
// history from the hosts with `releases --remote`.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { dockerOutside } from '../fleet/helpers.js'
import { ensureDeployed, HAVE_FLEET, hostState, testPlatform, type TestPlatform } from '../helpers/platform.js'

let platform: TestPlatform

describe.skipIf(!HAVE_FLEET)('fleet releases', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 900_000)

  afterAll(async () => {
    await platform?.regenerate({})
    await ensureDeployed(platform).catch(() => undefined)
    await platform?.cleanup()
  })

  it('one id for the hosts a deploy changed and the ones it left alone, recorded here and on each host', async () => {
    const targets = ['erebus', 'thanatos', 'kratos']
    await platform.regenerate({
      mutate: (service, def) => {
        if (service === 'redis-exporter' || service === 'openapi-calculator') def.environment.FLEET_RELEASE = '2'
      },
    })
    const run = await platform.cli(['deploy', ...targets, '--yes', '--json', '--pull', 'never'])
    expect(run.code, run.stderr).toBe(0)
    const statuses = Object.fromEntries(run.json.hosts.map((h: any) => [h.host, h.status]))
    expect(statuses).toEqual({ erebus: 'deployed', thanatos: 'deployed', kratos: 'unchanged' })
    const id = run.json.fleetRelease.id as string
    expect(id).toMatch(/^fleet-\d{8}T\d{6}Z-[0-9a-f]{8}$/)
    expect([...run.json.fleetRelease.recordedOn].sort()).toEqual([...targets].sort())

    // what each host really runs, read from its disk, is what the fleet release names
    const runs = Object.fromEntries(
      await Promise.all(
        targets.map(async (h) => [h, (await hostState(fleetHost(platform.fleet, h))).current] as const),
      ),
    )
    for (const h of targets) {
      const line = (await readFile(join(fleetHost(platform.fleet, h).outside.baseDir, 'fleet-releases.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .at(-1)!
      const recorded = JSON.parse(line)
      expect(recorded.id).toBe(id)
      expect(Object.fromEntries(recorded.hosts.map((x: any) => [x.host, x.release]))).toEqual(runs)
    }
    const local = await platform.cli(['releases', '--json'])
    expect(local.code, local.stderr).toBe(0)
    expect(local.json.releases.at(-1)).toMatchObject({
      id,
      hosts: targets.map((h) => ({ host: h, release: runs[h], status: statuses[h] })),
    })

    // nothing changed: no new fleet release
    const again = await platform.cli(['deploy', ...targets, '--yes', '--json', '--pull', 'never'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.json.fleetRelease).toBeUndefined()
    expect((await platform.cli(['releases', '--json'])).json.releases.at(-1).id).toBe(id)

    // another workstation: no local record, the hosts' records give the same history
    const elsewhere = await mkdtemp(join(tmpdir(), 'aip-other-workstation-'))
    try {
      const env = { AIP_AUDIT_LOG: join(elsewhere, 'audit.jsonl') }
      const none = await platform.cli(['releases', '--json'], env)
      expect(none.json.releases).toEqual([])
      const remote = await platform.cli(['releases', ...targets, '--remote', '--json'], env)
      expect(remote.code, remote.stderr).toBe(0)
      expect(remote.json.releases.at(-1)).toEqual(local.json.releases.at(-1))
      const text = await platform.cli(['releases', ...targets, '--remote'], env)
      expect(text.stdout).toContain(`${id}  `)
      expect(text.stdout).toMatch(new RegExp(`^ {2}kratos +${runs.kratos} +unchanged$`, 'm'))
    } finally {
      await rm(elsewhere, { recursive: true, force: true })
    }
  }, 900_000)

  it('rollback --fleet: the plan first, then every host back on its release of then, in reverse dependency order; a host that fails stops the run; hosts already there are left alone', async () => {
    const hosts = ['erebus', 'thanatos', 'moros']
    const version = (v: string) => (service: string, def: Record<string, any>) => {
      if (['redis-exporter', 'openapi-calculator', 'pushgateway'].includes(service)) def.environment.FLEET_TEST = v
    }
    const deployed = async (v: string) => {
      await platform.regenerate({ mutate: version(v) })
      const run = await platform.cli(['deploy', ...hosts, '--yes', '--json', '--pull', 'never'])
      expect(run.code, run.stderr).toBe(0)
      const currents = Object.fromEntries(
        await Promise.all(hosts.map(async (h) => [h, (await hostState(fleetHost(platform.fleet, h))).current])),
      )
      return { id: run.json.fleetRelease.id as string, currents }
    }
    const changed: Record<string, string> = {
      erebus: 'redis-exporter',
      thanatos: 'openapi-calculator',
      moros: 'pushgateway',
    }
    /** FLEET_TEST of the running container of the service each host changes, read from its engine. */
    const versions = async () =>
      Object.fromEntries(
        await Promise.all(
          hosts.map(async (h) => {
            const host = fleetHost(platform.fleet, h)
            const id = (
              await dockerOutside(host, ['ps', '-q', '--filter', `label=com.docker.compose.service=${changed[h]}`])
            ).stdout.trim()
            const env = JSON.parse((await dockerOutside(host, ['inspect', '-f', '{{json .Config.Env}}', id])).stdout)
            return [h, (env as string[]).find((e) => e.startsWith('FLEET_TEST='))]
          }),
        ),
      )
    const currents = async () =>
      Object.fromEntries(
        await Promise.all(hosts.map(async (h) => [h, (await hostState(fleetHost(platform.fleet, h))).current])),
      )
    const a = await deployed('A')
    const b = await deployed('B')

    const dry = await platform.cli(['rollback', '--fleet', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.json).toMatchObject({ kind: 'ai-platform/rollback-fleet', dryRun: true, target: a.id })
    expect(dry.stderr).toContain(`rollback to ${a.id}`)
    const order = dry.json.hosts.map((h: any) => h.host)
    // Prometheus requires the exporters of every other host: moros goes back first; the others are free
    expect([order[0], [...order.slice(1)].sort()]).toEqual(['moros', ['erebus', 'thanatos']])
    expect(await currents()).toEqual(b.currents) // a dry run changes nothing

    const run = await platform.cli(['rollback', '--fleet', '--yes', '--json'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.hosts.map((h: any) => [h.host, h.status, h.to])).toEqual(
      order.map((h: string) => [h, 'rolled-back', a.currents[h]]),
    )
    expect(await currents()).toEqual(a.currents)
    // the containers are the release's: on every host, the changed service runs FLEET_TEST=A again
    expect(await versions()).toEqual({ erebus: 'FLEET_TEST=A', thanatos: 'FLEET_TEST=A', moros: 'FLEET_TEST=A' })
    // in the plan's order, by each host's own history
    const times = await Promise.all(
      order.map(async (h: string) => {
        const state = await hostState(fleetHost(platform.fleet, h))
        return Date.parse(state.history.findLast((e) => e.event === 'rolled-back' && e.to === a.currents[h]).time)
      }),
    )
    expect([...times].sort((x, y) => x - y)).toEqual(times)
    const listed = await platform.cli(['releases', '--json'])
    expect(listed.json.releases.at(-1)).toMatchObject({
      id: run.json.fleetRelease.id,
      hosts: hosts.map((h) => ({ host: h, release: a.currents[h], status: 'rolled-back' })),
    })

    // C, then back to A with A's release on the second host of the order broken: its services never
    // serve their health paths, so that host fails its health gate
    const c = await deployed('C')
    const broken = order[1] as string
    const compose = join(
      fleetHost(platform.fleet, broken).outside.baseDir,
      'releases',
      a.currents[broken],
      'compose.yaml',
    )
    const whole = await readFile(compose, 'utf8')
    await writeFile(compose, whole.replace(/^( +STANDIN_HEALTH_PATHS:) .*$/gm, '$1 /nowhere'))
    const failed = await platform.cli(['rollback', '--fleet', a.id, '--yes', '--json', '--health-timeout', '30'])
    expect(failed.code).toBe(1)
    expect(failed.json.ok).toBe(false)
    expect(failed.json.hosts.map((h: any) => [h.host, h.status])).toEqual([
      [order[0], 'rolled-back'],
      [broken, 'failed'],
      [order[2], 'not-started'],
    ])
    expect(failed.json.hosts[1].error).toMatch(/rollback to \d{8}T\d{6}Z-[0-9a-f]{8} failed: .* unhealthy/)
    expect(failed.json.hosts[1].error).toContain(`The host is back on ${c.currents[broken]}, healthy.`)
    expect(failed.json.fleetRelease).toBeUndefined()
    const after = await currents()
    expect(after[order[0]]).toBe(a.currents[order[0]])
    expect(after[broken]).toBe(c.currents[broken]) // back on what it ran, whole
    expect(after[order[2]]).toBe(c.currents[order[2]])
    const state = await hostState(fleetHost(platform.fleet, broken))
    expect(state.containers.filter((x) => x.state !== 'running' && x.state !== 'exited')).toEqual([])
    const health = await platform.cli(['health', broken, '--json'])
    expect(health.code, health.stdout.slice(0, 2000)).toBe(0)

    // the release mended, the same rollback again: the host already on A is left alone (same
    // containers), the other two go back
    await writeFile(compose, whole)
    const untouched = (await hostState(fleetHost(platform.fleet, order[0]))).containers.map((x) => x.id)
    const again = await platform.cli(['rollback', '--fleet', a.id, '--yes', '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.json.hosts.map((h: any) => [h.host, h.status])).toEqual([
      [order[0], 'already'],
      [broken, 'rolled-back'],
      [order[2], 'rolled-back'],
    ])
    expect((await hostState(fleetHost(platform.fleet, order[0]))).containers.map((x) => x.id)).toEqual(untouched)
    expect(await currents()).toEqual(a.currents)
    expect(await versions()).toEqual({ erebus: 'FLEET_TEST=A', thanatos: 'FLEET_TEST=A', moros: 'FLEET_TEST=A' })

    // a host that no longer keeps its release of B: refused before anything changes, naming it
    const last = order[2] as string
    await rm(join(fleetHost(platform.fleet, last).outside.baseDir, 'releases', b.currents[last]), {
      recursive: true,
      force: true,
    })
    const before = await currents()
    const refused = await platform.cli(['rollback', '--fleet', b.id, '--yes'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`error: ${last} no longer keeps ${b.currents[last]}: nothing was changed`)
    expect(await currents()).toEqual(before)
  }, 900_000)
})
