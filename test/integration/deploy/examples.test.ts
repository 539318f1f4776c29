// The example platforms (examples/) deployed on the fleet, each on a clean set of test hosts: its hosts,
// stacks, dependencies, published ports, health endpoints, replicas and rollouts as written, on
// stand-in images (generate.ts). `health all` must be green after `models pull`. The agents gateway
// rolls its 131 agent replicas 10 at a time while a probe asks the gateway every 5 s and counts the
// healthy agents. The hosts are reset afterwards: the next file deploys the reference platform afresh.
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { fleetHost, type FleetHost, type HostName } from '../../fleet/fleet.js'
import { REPO } from '../../helpers/project.js'
import { dockerOutside } from '../fleet/helpers.js'
import { HAVE_FLEET, resetFleet, testPlatform, type TestPlatform } from '../helpers/platform.js'

/** Stand-in catalog entries for the examples' models: small blobs, so a pull takes a second. */
function standinCatalog(models: string[]): string {
  const entries = Object.fromEntries(
    models.map((name, i) => [
      name.includes(':') ? name : `${name}:latest`,
      {
        family: 'llama',
        parameterSize: '1B',
        quantization: 'Q4_0',
        parameterCount: 1_000_000_000,
        contextLength: 4096,
        embeddingLength: 2048,
        capabilities: ['completion'],
        layers: [{ type: 'model', size: 2_000_000 + i * 1000 }],
      },
    ]),
  )
  return JSON.stringify({ models: entries })
}

/** Every model of the example's inventory is in the Ollama stand-ins' catalog. */
const withCatalog = (models: string[]) => (service: string, def: Record<string, any>) => {
  if (def.image === 'aip/ollama-standin:1') def.environment.OLLAMA_STANDIN_CATALOG = standinCatalog(models)
  void service
}

interface Example {
  dir: string
  hostMap: Record<string, HostName>
  models: string[]
}

let platform: TestPlatform | undefined
const platforms: TestPlatform[] = []
const used = new Set<HostName>()

async function deployExample(example: Example, mutate?: (service: string, def: Record<string, any>) => void) {
  const fleetHosts = Object.values(example.hostMap)
  platform = await testPlatform({ source: join(REPO, example.dir), hostMap: example.hostMap })
  platforms.push(platform)
  for (const h of fleetHosts) used.add(h)
  await resetFleet(platform.fleet, 'ai-platform', fleetHosts)
  const catalog = withCatalog(example.models)
  await platform.regenerate({
    mutate: (service, def) => {
      catalog(service, def)
      mutate?.(service, def)
    },
  })
  const validate = await platform.cli(['validate', '--json'])
  expect(validate.code, validate.stdout + validate.stderr).toBe(0)
  const started = Date.now()
  const deploy = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never'])
  expect(deploy.code, deploy.stderr.split('\n').slice(-30).join('\n')).toBe(0)
  const seconds = (Date.now() - started) / 1000
  expect(deploy.json.hosts.map((h: { status: string }) => h.status)).toEqual(
    Object.keys(example.hostMap).map(() => 'deployed'),
  )
  if (example.models.length > 0) {
    const pull = await platform.cli(['models', 'pull', '--yes', '--json'])
    expect(pull.code, pull.stderr).toBe(0)
  }
  const health = await platform.cli(['health', 'all', '--json'])
  expect(health.code, health.stdout.slice(0, 4000)).toBe(0)
  return { platform, seconds, deploy, health }
}

describe.skipIf(!HAVE_FLEET)('example platforms on the fleet', () => {
  afterAll(async () => {
    if (platform) await resetFleet(platform.fleet, 'ai-platform', [...used])
    for (const p of platforms) await p.cleanup()
  })

  // Failed in 5 of 8 runs with "the Docker API (list containers): no answer within 30 s" until the SSH
  // connector's dial-stdio sockets stopped leaking from Node's http agent (see drainOnDestroy).
  it('agents-gateway: 131 agents rolled 10 at a time; the gateway answers and no fewer than 131 agents are healthy throughout', async () => {
    const example: Example = {
      dir: 'examples/agents-gateway',
      // the agents on a Compose v2 host, the gateway and one Ollama node on v1 hosts
      hostMap: { switchboard: 'hephaestus', hive: 'erebus', forge: 'orpheus', kiln: 'kratos' },
      models: ['llama3.1:8b', 'llama3.2:3b', 'tinyllama'],
    }
    // 131 health checks on one 2-core machine: every 10 s (each batch waits for its first check); the
    // rollout's pause shortened to 2 s.
    const agents = (version: string) => (service: string, def: Record<string, any>) => {
      if (service !== 'agents') return
      def.healthcheck = { ...def.healthcheck, interval: '10s', retries: 3, start_period: '1s' }
      def.environment.VERSION = version
      expect(def['x-ai-platform'].rollout).toEqual({ batch: 10, pause_s: 30 })
      def['x-ai-platform'].rollout = { batch: 10, pause_s: 2 }
    }
    const first = await deployExample(example, agents('1'))
    const hive = fleetHost(first.platform.fleet, 'erebus')
    const gateway = fleetHost(first.platform.fleet, 'hephaestus')
    const healthyAgents = async (host: FleetHost) => {
      const r = await dockerOutside(host, [
        'ps',
        '-q',
        '--no-trunc',
        '--filter',
        'label=com.docker.compose.service=agents',
        '--filter',
        'health=healthy',
      ])
      return r.stdout.split('\n').filter(Boolean)
    }
    const v1 = await healthyAgents(hive)
    expect(v1).toHaveLength(131)
    console.info(`[examples] agents-gateway: 4 hosts, 131 agents deployed in ${first.seconds.toFixed(1)} s`)

    await first.platform.regenerate({
      mutate: (service, def) => {
        withCatalog(example.models)(service, def)
        agents('2')(service, def)
      },
    })
    let done = false
    let lowest = Infinity
    let asked = 0
    const failures: string[] = []
    const probe = (async () => {
      while (!done) {
        const [ids, answer] = await Promise.all([
          healthyAgents(hive),
          request(`http://${gateway.address}:8080/healthz`, { headersTimeout: 2000, bodyTimeout: 2000 })
            .then(async (r) => `${r.statusCode} ${(await r.body.text()).trim()}`)
            .catch((error: Error) => error.message),
        ])
        lowest = Math.min(lowest, ids.length)
        asked++
        if (!answer.startsWith('200')) failures.push(answer)
        // every 5 s: the count asks the same engine the rollout does, under 131 health checks
        await new Promise((r) => setTimeout(r, 5000))
      }
    })()
    const started = Date.now()
    const rolled = await first.platform.cli(['deploy', 'hive', '--json', '--pull', 'never']).finally(() => {
      done = true
    })
    await probe
    const seconds = (Date.now() - started) / 1000
    expect(rolled.code, rolled.stderr.split('\n').slice(-20).join('\n')).toBe(0)
    expect(rolled.json.hosts[0].rollouts).toEqual([{ service: 'agents', batches: 14, replaced: 131 }])
    expect(failures).toEqual([])
    expect(asked).toBeGreaterThan(14)
    expect(lowest).toBeGreaterThanOrEqual(131)
    const v2 = await healthyAgents(hive)
    expect(v2).toHaveLength(131)
    expect(v2.filter((id) => v1.includes(id))).toEqual([]) // every agent replaced
    console.info(
      `[examples] agents-gateway rollout: 131 agents in 14 batches of 10 in ${seconds.toFixed(1)} s; ` +
        `lowest healthy ${lowest}; gateway asked ${asked} times, ${failures.length} failures`,
    )
  }, 1_500_000)

  it('sutazai: the tiered catalog on four hosts, healthy; an on-demand agent started and stopped with up/down', async () => {
    const example: Example = {
      dir: 'examples/sutazai',
      hostMap: { gateway: 'zelus', cortex: 'nyx', workbench: 'thanatos', observer: 'moros' },
      models: ['tinyllama', 'qwen2.5:3b', 'deepseek-coder:6.7b', 'llava:7b', 'nomic-embed-text'],
    }
    const { platform: p, seconds, health } = await deployExample(example)
    const stopped = health.json.hosts
      .flatMap((h: any) => h.checks.map((c: any) => ({ ...c, host: h.host })))
      .filter((c: any) => c.status === 'stopped')
    expect(stopped.length).toBeGreaterThan(0) // the on-demand tier: stopped by design, not failed
    console.info(`[examples] sutazai: 4 hosts deployed in ${seconds.toFixed(1)} s`)
    const up = await p.cli(['up', 'workbench', 'letta', '--json'])
    expect(up.code, up.stderr).toBe(0)
    // progress says what it waits for when that changes, not once per poll
    const lines = up.stderr.split('\n').filter(Boolean)
    expect(lines.filter((l, i) => l === lines[i - 1])).toEqual([])
    const workbench = fleetHost(p.fleet, 'thanatos')
    const running = await dockerOutside(workbench, ['ps', '-q', '--filter', 'label=com.docker.compose.service=letta'])
    expect(running.stdout.trim()).not.toBe('')
    const healthUp = await p.cli(['health', 'workbench', '--json'])
    expect(healthUp.code, healthUp.stdout.slice(0, 3000)).toBe(0)
    const down = await p.cli(['down', 'workbench', 'letta', '--json'])
    expect(down.code, down.stderr).toBe(0)
    const gone = await dockerOutside(workbench, ['ps', '-aq', '--filter', 'label=com.docker.compose.service=letta'])
    expect(gone.stdout.trim()).toBe('')
  }, 900_000)

  it('fastapi-platform: databases, the one-shot migrations, three workers, the API and the TLS edge, healthy', async () => {
    const example: Example = {
      dir: 'examples/fastapi-platform',
      hostMap: { vault: 'erebus', conductor: 'thanatos', lookout: 'hephaestus' },
      models: [],
    }
    const { platform: p, seconds } = await deployExample(example)
    const conductor = fleetHost(p.fleet, 'thanatos')
    const workers = await dockerOutside(conductor, [
      'ps',
      '-q',
      '--filter',
      'label=com.docker.compose.service=worker',
      '--filter',
      'health=healthy',
    ])
    expect(workers.stdout.split('\n').filter(Boolean)).toHaveLength(3)
    const migrations = await dockerOutside(conductor, [
      'ps',
      '-a',
      '--format',
      '{{.Status}}',
      '--filter',
      'label=com.docker.compose.service=migrations',
    ])
    expect(migrations.stdout.trim()).toMatch(/^Exited \(0\)/)
    console.info(`[examples] fastapi-platform: 3 hosts deployed in ${seconds.toFixed(1)} s`)
  }, 900_000)
})
