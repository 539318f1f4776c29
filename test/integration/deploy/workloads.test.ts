// Workloads on the fleet, asserted on the hosts: a service's replicas (every one running before the
// deploy is called healthy; `replicas: 0` is not running, by design, and is healthy so) and a stack's
// max_unavailable_hosts (never more of its hosts updating at once, read from each host's own release
// record and history); a rolling update of 20 replicas in batches of 5 (a probe never sees fewer than 15
// healthy; a failing batch leaves the old ones running).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { dockerOutside } from '../fleet/helpers.js'
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

  it('rollout: 20 replicas replaced 5 at a time, never fewer than 15 healthy; a failing batch leaves the old ones running', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const rolled =
      (version: string, healthy = true) =>
      (service: string, def: Record<string, any>) => {
        if (service !== 'redis-exporter') return
        replicated(20)(service, def)
        Object.assign(def.environment, { VERSION: version, STANDIN_START_DELAY: '1' })
        // unhealthy: the health path the check asks for never appears
        if (!healthy) def.environment.STANDIN_HEALTH_PATHS = '/elsewhere'
        def.healthcheck = { ...def.healthcheck, interval: '2s', retries: 2, start_period: '1s' }
        def['x-ai-platform'].rollout = { batch: 5, pause_s: 1 }
      }
    const healthyIds = async () => {
      const r = await dockerOutside(erebus, [
        'ps',
        '-q',
        '--no-trunc',
        '--filter',
        'label=com.docker.compose.service=redis-exporter',
        '--filter',
        'health=healthy',
      ])
      return r.stdout.split('\n').filter(Boolean)
    }
    /** Runs a deploy while counting the healthy replicas every 300 ms: the run's result and the lowest count. */
    const probed = async (args: string[]) => {
      let lowest = Infinity
      let done = false
      const probe = (async () => {
        while (!done) {
          lowest = Math.min(lowest, (await healthyIds()).length)
          await new Promise((r) => setTimeout(r, 300))
        }
      })()
      const run = await platform.cli(args).finally(() => (done = true))
      await probe
      return { run, lowest }
    }

    await platform.regenerate({ mutate: rolled('1') })
    const first = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never'])
    expect(first.code, first.stderr).toBe(0)
    const v1 = await healthyIds()
    expect(v1).toHaveLength(20)

    await platform.regenerate({ mutate: rolled('2') })
    const started = Date.now()
    const { run: second, lowest } = await probed(['deploy', 'erebus', '--json', '--pull', 'never'])
    expect(second.code, second.stderr).toBe(0)
    const seconds = (Date.now() - started) / 1000
    expect(second.json.hosts[0].rollouts).toEqual([{ service: 'redis-exporter', batches: 4, replaced: 20 }])
    expect(lowest).toBeGreaterThanOrEqual(15)
    const v2 = await healthyIds()
    expect(v2).toHaveLength(20)
    expect(v2.filter((id) => v1.includes(id))).toEqual([]) // every replica replaced
    console.info(`[rollout] 20 replicas in 4 batches of 5 in ${seconds.toFixed(1)} s; lowest healthy count ${lowest}`)

    await platform.regenerate({ mutate: rolled('3', false) })
    const { run: failed, lowest: lowestFailing } = await probed([
      'deploy',
      'erebus',
      '--json',
      '--pull',
      'never',
      '--health-timeout',
      '60',
    ])
    expect(failed.code).toBe(1)
    const report = failed.json.hosts[0]
    expect(report.failedStep).toBe('rollout')
    expect(report.error).toMatch(
      /redis-exporter batch 1\/4 failed, rollout stopped with 20 old containers still running/,
    )
    expect(report.rollback).toMatchObject({ status: 'done' })
    expect(lowestFailing).toBeGreaterThanOrEqual(15)
    const after = await hostState(erebus)
    expect(after.containers.filter((c) => c.service === 'redis-exporter')).toHaveLength(20)
    expect((await healthyIds()).sort()).toEqual([...v2].sort()) // the very containers that ran before
  }, 600_000)

  it('rollout under Compose v1 (thanatos): 4 replicas in 2 batches, every one replaced', async () => {
    const thanatos = fleetHost(platform.fleet, 'thanatos')
    expect(thanatos.compose).toBe('v1')
    const rolled = (version: string) => (service: string, def: Record<string, any>) => {
      if (service !== 'openapi-calculator') return
      def.ports = ['8000']
      def.deploy = { ...def.deploy, replicas: 4 }
      delete def['x-ai-platform'].health
      Object.assign(def.environment, { VERSION: version })
      def.healthcheck = { ...def.healthcheck, interval: '2s', start_period: '1s' }
      def['x-ai-platform'].rollout = { batch: 2 }
    }
    const ids = async () =>
      (await hostState(thanatos)).containers
        .filter((c) => c.service === 'openapi-calculator' && c.state === 'running' && c.health === 'healthy')
        .map((c) => c.id)
    await platform.regenerate({ mutate: rolled('1') })
    const first = await platform.cli(['deploy', 'thanatos', '--json', '--pull', 'never'])
    expect(first.code, first.stderr).toBe(0)
    const before = await ids()
    expect(before).toHaveLength(4)
    await platform.regenerate({ mutate: rolled('2') })
    const second = await platform.cli(['deploy', 'thanatos', '--json', '--pull', 'never'])
    expect(second.code, second.stderr).toBe(0)
    expect(second.json.hosts[0].rollouts).toEqual([{ service: 'openapi-calculator', batches: 2, replaced: 4 }])
    const after = await ids()
    expect(after).toHaveLength(4)
    expect(after.filter((id) => before.includes(id))).toEqual([])
  }, 300_000)
})
