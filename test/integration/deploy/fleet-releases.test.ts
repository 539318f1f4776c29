// Fleet releases on the fleet: a deploy that changes hosts records one id for the platform, here and on
// every host of the run, naming the release each host then runs (read from the hosts themselves); a
// deploy that changes nothing records none; another workstation (no local record) reads the same
// history from the hosts with `releases --remote`.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
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
})
