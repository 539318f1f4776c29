// On-demand services on the fleet, asserted on the hosts: `up` starts one on the current release and waits for its health, `health` and
// `status` show it, `down` removes its container and only its, both record a history line; a deploy
// of a new release keeps a started one running on that release, and leaves a stopped one stopped. erebus
// runs Compose v2, thanatos v1.
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { dockerOutside } from '../fleet/helpers.js'
import { ensureDeployed, HAVE_FLEET, hostState, testPlatform, type TestPlatform } from '../helpers/platform.js'

let platform: TestPlatform

/** redis-exporter on erebus and openapi-calculator on thanatos made on demand. */
const onDemand =
  (extra: Record<string, string> = {}) =>
  (service: string, def: Record<string, any>) => {
    if (service !== 'redis-exporter' && service !== 'openapi-calculator') return
    def['x-ai-platform'] = { ...def['x-ai-platform'], tier: 'on-demand' }
    def.environment = { ...def.environment, ...extra }
  }

const exporter = async () =>
  (await hostState(fleetHost(platform.fleet, 'erebus'))).containers.filter((c) => c.service === 'redis-exporter')

describe.skipIf(!HAVE_FLEET)('on-demand services', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await platform.regenerate({ mutate: onDemand() })
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.regenerate({})
    await ensureDeployed(platform).catch(() => undefined)
    await platform?.cleanup()
  })

  it('deploy leaves it stopped; health and status say stopped (on demand), not failed', async () => {
    const deploy = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never', '--force'])
    expect(deploy.code, deploy.stderr).toBe(0)
    expect(await exporter()).toEqual([])
    const health = await platform.cli(['health', 'erebus', '--json'])
    expect(health.code, health.stdout).toBe(0)
    expect(
      health.json.hosts[0].checks.find((c: any) => c.service === 'redis-exporter' && c.check === 'container'),
    ).toMatchObject({ status: 'stopped', detail: 'stopped (on demand)' })
    const status = await platform.cli(['status', 'erebus'])
    expect(status.stdout).toMatch(/^ {2}redis-exporter +0\/1 +stopped \(on demand\)$/m)
  }, 300_000)

  it('up starts it on the current release and waits for it; down removes only its container', async () => {
    const before = (await hostState(fleetHost(platform.fleet, 'erebus'))).containers.filter(
      (c) => c.service !== 'redis-exporter',
    )
    const up = await platform.cli(['up', 'erebus', 'redis-exporter', '--json', '--health-timeout', '120'])
    expect(up.code, up.stderr).toBe(0)
    expect(up.json).toMatchObject({ kind: 'ai-platform/up', host: 'erebus', services: ['redis-exporter'] })
    expect(up.json.states).toEqual([expect.objectContaining({ name: 'redis-exporter', running: 1, state: 'running' })])
    expect((await exporter()).map((c) => c.state)).toEqual(['running'])
    const health = await platform.cli(['health', 'erebus', '--json'])
    expect(health.code, health.stdout).toBe(0)
    expect(
      health.json.hosts[0].checks.find((c: any) => c.service === 'redis-exporter' && c.check === 'container'),
    ).toMatchObject({ status: 'ok' })
    const erebus = await hostState(fleetHost(platform.fleet, 'erebus'))
    expect(erebus.history.at(-1)).toMatchObject({
      event: 'started',
      release: erebus.current,
      services: ['redis-exporter'],
    })

    const down = await platform.cli(['down', 'erebus', 'redis-exporter', '--json'])
    expect(down.code, down.stderr).toBe(0)
    expect(await exporter()).toEqual([])
    const after = (await hostState(fleetHost(platform.fleet, 'erebus'))).containers.filter(
      (c) => c.service !== 'redis-exporter',
    )
    // nothing else was touched: the same containers, not recreated
    expect(after.map((c) => c.id).sort()).toEqual(before.map((c) => c.id).sort())
    expect((await hostState(fleetHost(platform.fleet, 'erebus'))).history.at(-1)).toMatchObject({ event: 'stopped' })
    // both recorded in the local audit log, on the release they ran on
    const audit = (await readFile(platform.auditLog, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(audit.slice(-2)).toEqual([
      expect.objectContaining({
        host: 'erebus',
        status: 'started',
        release: erebus.current,
        services: ['redis-exporter'],
      }),
      expect.objectContaining({
        host: 'erebus',
        status: 'stopped',
        release: erebus.current,
        services: ['redis-exporter'],
      }),
    ])
  }, 300_000)

  it('a deploy of a new release keeps a started one running, recreated on the new release', async () => {
    const up = await platform.cli(['up', 'erebus', 'redis-exporter', '--health-timeout', '120'])
    expect(up.code, up.stderr).toBe(0)
    await platform.regenerate({ mutate: onDemand({ ON_DEMAND_ROUND: '2' }) })
    const deploy = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never'])
    expect(deploy.code, deploy.stderr).toBe(0)
    expect(deploy.json.hosts[0].steps.map((s: any) => s.step)).toContain('on-demand')
    const running = await exporter()
    expect(running.map((c) => c.state)).toEqual(['running'])
    const env = await dockerOutside(fleetHost(platform.fleet, 'erebus'), [
      'inspect',
      '--format',
      '{{range .Config.Env}}{{println .}}{{end}}',
      (await exporter())[0]!.id,
    ])
    expect(env.stdout.split('\n')).toContain('ON_DEMAND_ROUND=2') // on the new release's definition
    const down = await platform.cli(['down', 'erebus', 'redis-exporter'])
    expect(down.code, down.stderr).toBe(0)
  }, 300_000)

  it('up and down under Compose v1 (thanatos)', async () => {
    const thanatos = fleetHost(platform.fleet, 'thanatos')
    expect(thanatos.compose).toBe('v1')
    const calculator = async () =>
      (await hostState(thanatos)).containers.filter((c) => c.service === 'openapi-calculator')
    expect(await calculator()).toEqual([])
    const up = await platform.cli(['up', 'thanatos', 'openapi-calculator', '--json', '--health-timeout', '120'])
    expect(up.code, up.stderr).toBe(0)
    expect((await calculator()).map((c) => c.state)).toEqual(['running'])
    const down = await platform.cli(['down', 'thanatos', 'openapi-calculator', '--json'])
    expect(down.code, down.stderr).toBe(0)
    expect(await calculator()).toEqual([])
  }, 300_000)

  // Not here: the proxy's 503 page for a stopped on-demand route (needs the edge stack's Traefik and
  // on-demand-page on the fleet's hephaestus, and a routed on-demand service).
})
