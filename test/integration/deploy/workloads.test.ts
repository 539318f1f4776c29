// Workloads on the fleet, asserted on the hosts: a service's replicas (every one running before the
// deploy is called healthy; `replicas: 0` is not running, by design, and is healthy so) and a stack's
// max_unavailable_hosts (never more of its hosts updating at once, read from each host's own release
// record and history).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { ensureDeployed, HAVE_FLEET, hostState, testPlatform, type TestPlatform } from '../helpers/platform.js'

let platform: TestPlatform

/** redis-exporter on erebus as N replicas: no host port (container-only), no check that needs one. */
const replicated = (replicas: number) => (service: string, def: Record<string, any>) => {
  if (service !== 'redis-exporter') return
  def.ports = ['9121']
  def.deploy = { ...def.deploy, replicas }
  delete def['x-ai-platform'].health
}

describe.skipIf(!HAVE_FLEET)('workloads', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.regenerate({})
    await ensureDeployed(platform).catch(() => undefined)
    await platform?.cleanup()
  })

  it('replicas: every one runs and is healthy before the deploy says so; status counts them; 0 is stopped by design', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    await platform.regenerate({ mutate: replicated(3) })
    const three = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never'])
    expect(three.code, three.stderr).toBe(0)
    expect(three.json.hosts[0].status).toBe('deployed')
    const running = (await hostState(erebus)).containers.filter((c) => c.service === 'redis-exporter')
    expect(running.map((c) => `${c.state} ${c.health}`)).toEqual([
      'running healthy',
      'running healthy',
      'running healthy',
    ])
    const status = await platform.cli(['status', 'erebus', '--json'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.json.hosts[0].services.find((s: any) => s.service === 'redis-exporter')).toMatchObject({
      running: 3,
      replicas: 3,
    })

    await platform.regenerate({ mutate: replicated(0) })
    const started = Date.now()
    const zero = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never', '--health-timeout', '60'])
    expect(zero.code, zero.stderr).toBe(0)
    expect(Date.now() - started).toBeLessThan(45_000) // no wait for a container that is not meant to run
    expect((await hostState(erebus)).containers.filter((c) => c.service === 'redis-exporter')).toEqual([])
    const health = await platform.cli(['health', 'erebus', '--json'])
    expect(health.code, health.stdout).toBe(0)
    const text = await platform.cli(['status', 'erebus'])
    expect(text.stdout).toMatch(/^ {2}redis-exporter +0\/0 +scaled to 0$/m)
  }, 300_000)

  it('max_unavailable_hosts: 1 updates the four Ollama nodes one at a time, as their own records show', async () => {
    const nodes = ['orpheus', 'kratos', 'nyx', 'hades']
    await platform.regenerate({
      mutate: (service, def) => service === 'ollama' && Object.assign(def.environment, { ROLLOUT: 'one-at-a-time' }),
    })
    await platform.edit('stacks/ollama.yaml', (text) => {
      expect(text).toMatch(/^x-ai-platform:\n/)
      return text.replace(/^x-ai-platform:\n/, 'x-ai-platform:\n  max_unavailable_hosts: 1\n')
    })
    const plan = await platform.cli(['plan', ...nodes, '--json'])
    expect(plan.json.limits).toEqual([
      expect.objectContaining({ stack: 'ollama', maxUnavailableHosts: 1, hosts: expect.arrayContaining(nodes) }),
    ])
    const run = await platform.cli(['deploy', ...nodes, '--yes', '--json', '--pull', 'never', '--concurrency', '4'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.hosts.map((h: any) => h.status)).toEqual(['deployed', 'deployed', 'deployed', 'deployed'])
    // each host's update: from its release record's creation (after its lock) to its `deployed` history line
    const windows = await Promise.all(
      nodes.map(async (name) => {
        const state = await hostState(fleetHost(platform.fleet, name))
        const done = state.history.findLast((e) => e.release === state.current && e.event === 'deployed')
        return { name, from: Date.parse(state.release.createdAt), to: Date.parse(done.time) }
      }),
    )
    windows.sort((a, b) => a.from - b.from)
    for (let i = 1; i < windows.length; i++) {
      expect(
        windows[i]!.from,
        `${windows[i]!.name} started before ${windows[i - 1]!.name} ended`,
      ).toBeGreaterThanOrEqual(windows[i - 1]!.to)
    }
  }, 600_000)
})
