// examples/agents-gateway: 131 agents behind nginx and LiteLLM over Ollama. Loaded and rendered with
// the real loader and renderer; the expectations are derived from the example's own inventory where
// they can be, so that a node added there must show up in what is rendered.
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadProject } from '../../../src/config/load.js'
import type { Project } from '../../../src/config/model.js'
import { renderHosts, type HostRender } from '../../../src/render/render.js'
import { formatIssue } from '../../../src/errors.js'
import { projectFrom, REPO, removeProject } from '../../helpers/project.js'

const EXAMPLE = join(REPO, 'examples/agents-gateway')

/** The rates the example promises per agent type (stacks/gateway.yaml). */
const AGENT_RATES = { opus: '10r/m', sonnet: '20r/m' }

type ComposeService = Record<string, unknown> & {
  deploy?: { replicas?: number }
  environment?: Record<string, string>
  ports?: unknown
}

interface Rendered {
  project: Project
  renders: HostRender[]
}

async function renderExample(dir: string): Promise<Rendered> {
  const { project, issues, origins } = await loadProject({ dir, bundled: false })
  expect(issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([])
  if (!project) throw new Error(`${dir} did not load`)
  const rendered = renderHosts(project, project.hostOrder, { origins })
  expect(rendered.issues.map(formatIssue)).toEqual([])
  return { project, renders: rendered.renders }
}

function servicesOf(render: HostRender): Record<string, ComposeService> {
  return (parse(render.compose.content) as { services: Record<string, ComposeService> }).services
}

/** The one rendered config file ending in `suffix`, with the host that gets it. */
function configFile(renders: HostRender[], suffix: string): { host: string; content: string } {
  const found = renders.flatMap((r) =>
    r.files.filter((f) => f.path.endsWith(suffix)).map((f) => ({ host: r.host, content: f.content })),
  )
  expect(found.map((f) => f.host)).toHaveLength(1)
  return found[0]!
}

/** Every host that runs an Ollama server (a service with an `ollama` health check), with its port. */
function ollamaNodes(project: Project): { host: string; target: string; url: string }[] {
  return project.hostOrder.flatMap((name) => {
    const service = Object.values(project.services).find(
      (s) => s.hosts.includes(name) && s.health.some((c) => c.ollama),
    )
    const port = service?.health.find((c) => c.ollama)?.ollama?.port
    if (port === undefined) return []
    const { address } = project.hosts[name]!
    return [{ host: name, target: `${address}:${port}`, url: `http://${address}:${port}` }]
  })
}

/** The text between `upstream NAME {` and its closing brace. */
function upstreamBlock(conf: string, name: string): string {
  const match = new RegExp(`^upstream ${name} \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(conf)
  if (!match) throw new Error(`no upstream ${name} in:\n${conf}`)
  return match[1]!
}

function upstreamServers(conf: string, name: string): string[] {
  return [...upstreamBlock(conf, name).matchAll(/^\s*server\s+([^\s;]+)[^;]*;/gm)].map((m) => m[1]!)
}

interface Deployment {
  model_name: string
  litellm_params: { model: string; api_base?: string; rpm?: unknown; tpm?: unknown }
}

interface LitellmConfig {
  model_list: Deployment[]
  router_settings: Record<string, unknown>
  litellm_settings: Record<string, unknown> & { cache_params?: Record<string, unknown> }
}

/** One `model@url` per (model, Ollama node serving it), from the inventory. */
function expectedDeployments(project: Project): string[] {
  return ollamaNodes(project)
    .flatMap((node) => project.hosts[node.host]!.models.map((model) => `${model}@${node.url}`))
    .sort()
}

describe('examples/agents-gateway', async () => {
  const { project, renders } = await renderExample(EXAMPLE)
  const renderOf = (host: string) => renders.find((r) => r.host === host)!

  it('loads without errors and renders every host of its inventory', () => {
    expect(renders.map((r) => r.host)).toEqual(project.hostOrder)
    expect(project.hostOrder.length).toBeLessThanOrEqual(4)
    for (const name of project.hostOrder) expect(project.hosts[name]!.address).toMatch(/\.home\.arpa$/)
  })

  it('runs the 131 agents as one service of 131 replicas on one CPU host, rolled 10 at a time with 30 s pauses', () => {
    const agents = project.services.agents!
    expect(agents.hosts).toHaveLength(1)
    const host = agents.hosts[0]!
    expect(project.hosts[host]!.gpu).toBeUndefined()
    const rendered = renderOf(host).services.find((s) => s.name === 'agents')!
    expect(rendered).toMatchObject({ replicas: 131, rollout: { batch: 10, pauseS: 30 }, hasHealthcheck: true })
    const compose = servicesOf(renderOf(host)).agents!
    expect(compose.deploy?.replicas).toBe(131)
    // Replicas cannot share a fixed host port: the agents publish none.
    expect(compose.ports).toBeUndefined()
    // They reach the gateway by its address, with the same agent types nginx limits.
    const gateway = project.hosts[project.services['agent-gateway']!.hosts[0]!]!
    expect(compose.environment?.GATEWAY_URL).toBe(`http://${gateway.address}:8080`)
    expect(compose.entrypoint).toEqual(expect.arrayContaining([expect.stringContaining('X-Agent-Type: $$type')]))
    expect(Number(compose.environment?.AGENTS_TOTAL)).toBe(131)
    expect(Number(compose.environment?.OPUS_AGENTS)).toBe(36)
    // Each request carries its type's priority for LiteLLM's queue (lower first): opus before sonnet.
    expect(Number(compose.environment?.OPUS_PRIORITY)).toBeLessThan(Number(compose.environment?.SONNET_PRIORITY))
    expect(compose.entrypoint).toEqual(expect.arrayContaining([expect.stringContaining('\\"priority\\":$$priority')]))
  })

  it('serves Ollama on NVIDIA GPU nodes only, each with its inventory knobs in its environment', () => {
    const nodes = ollamaNodes(project)
    expect(nodes.length).toBeGreaterThanOrEqual(2)
    for (const { host } of nodes) {
      const settings = project.hosts[host]!.ollama!
      expect(project.hosts[host]!.gpu?.vendor).toBe('nvidia')
      expect(servicesOf(renderOf(host)).ollama!.environment).toMatchObject({
        OLLAMA_NUM_PARALLEL: String(settings.numParallel),
        OLLAMA_MAX_LOADED_MODELS: String(settings.maxLoadedModels),
        OLLAMA_MAX_QUEUE: String(settings.maxQueue),
        OLLAMA_KEEP_ALIVE: settings.keepAlive,
        OLLAMA_FLASH_ATTENTION: settings.flashAttention ? '1' : '0',
      })
    }
  })

  it('nginx limits each agent type at its rate, keyed by agent within the type, on every proxied path', () => {
    const { content: conf } = configFile(renders, 'nginx/gateway.conf')
    const zones = [...conf.matchAll(/^limit_req_zone\s+\$(\w+)\s+zone=(\w+):\w+\s+rate=(\S+);$/gm)]
    expect(Object.fromEntries(zones.map((z) => [z[2], z[3]]))).toEqual(AGENT_RATES)
    expect(zones).toHaveLength(Object.keys(AGENT_RATES).length)
    for (const [, key, zone] of zones) {
      // The zone's key is the agent when X-Agent-Type names this type, empty (not counted) otherwise.
      expect(conf).toMatch(
        new RegExp(`^map \\$agent_type \\$${key} \\{\\n\\s+${zone}\\s+\\$agent_key;\\n\\s+default "";`, 'm'),
      )
      expect(conf.match(new RegExp(`limit_req zone=${zone} `, 'g'))).toHaveLength(2)
    }
    expect(conf).toMatch(/^map \$http_x_agent_type \$agent_type \{\n\s+opus\s+opus;\n\s+sonnet\s+sonnet;/m)
  })

  it('nginx balances least_conn over every Ollama node of the inventory, and proxies the API to LiteLLM', () => {
    const { content: conf, host } = configFile(renders, 'nginx/gateway.conf')
    expect(project.services['agent-gateway']!.hosts).toEqual([host])
    expect(upstreamBlock(conf, 'ollama')).toMatch(/^\s*least_conn;$/m)
    expect(upstreamServers(conf, 'ollama')).toEqual(ollamaNodes(project).map((n) => n.target))
    const litellm = project.hosts[project.services.litellm!.hosts[0]!]!
    expect(upstreamServers(conf, 'litellm')).toEqual([`${litellm.address}:4000`])
    expect(conf).toMatch(/location \/v1\/ \{[^}]*\}[^}]*proxy_pass http:\/\/litellm;/)
  })

  it('LiteLLM has one deployment per Ollama node per model, with rpm/tpm, a Redis cache, cooldowns and fallbacks', () => {
    const config = parse(configFile(renders, 'litellm/config.yaml').content) as LitellmConfig
    const expected = expectedDeployments(project)
    expect(expected.length).toBeGreaterThan(ollamaNodes(project).length) // several models per node
    expect(config.model_list.map((d) => `${d.model_name}@${d.litellm_params.api_base}`).sort()).toEqual(expected)
    for (const d of config.model_list) {
      expect(d.litellm_params.model).toBe(`ollama/${d.model_name}`)
      expect(d.litellm_params.rpm).toSatisfy((n) => Number.isInteger(n) && (n as number) > 0)
      expect(d.litellm_params.tpm).toSatisfy((n) => Number.isInteger(n) && (n as number) > 0)
    }
    expect(config.litellm_settings.cache).toBe(true)
    expect(config.litellm_settings.cache_params).toMatchObject({ type: 'redis' })
    expect(config.router_settings).toMatchObject({
      // the strategy that honours each deployment's rpm/tpm (simple-shuffle would only weigh by them)
      routing_strategy: 'usage-based-routing-v2',
      allowed_fails: 5,
      cooldown_time: 60,
      redis_host: 'os.environ/REDIS_HOST',
      redis_password: 'os.environ/REDIS_PASSWORD',
      // LiteLLM's scheduler polls its priority queue this often
      polling_interval: 0.03,
    })
    // Degradation: each model with a fallback in the inventory falls back in LiteLLM.
    const fallbacks = Object.values(project.models)
      .filter((m) => m.fallbacks.length > 0)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({ [m.name]: m.fallbacks }))
    expect(fallbacks.length).toBeGreaterThan(0)
    expect(config.router_settings.fallbacks).toEqual(fallbacks)
    // LiteLLM reads its Redis and key from the environment the stack gives it, never from the file.
    const env = servicesOf(renderOf(project.services.litellm!.hosts[0]!)).litellm!.environment!
    expect(env.REDIS_HOST).toBe(project.hosts[project.services.redis!.hosts[0]!]!.address)
    expect(env.REDIS_PASSWORD).toBe('${REDIS_PASSWORD}')
  })

  it('Prometheus scrapes the nginx exporter, which reads the gateway stub_status, and the Redis exporter', () => {
    const config = parse(configFile(renders, 'prometheus/prometheus.yml').content) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]
    }
    const scraped = Object.fromEntries(
      config.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]),
    )
    const at = (service: string, port: number) =>
      `${project.hosts[project.services[service]!.hosts[0]!]!.address}:${port}`
    expect(scraped).toEqual({ nginx: [at('nginx-exporter', 9113)], redis: [at('redis-exporter', 9121)] })
    const exporter = servicesOf(renderOf(project.services['nginx-exporter']!.hosts[0]!))['nginx-exporter']!
    expect(exporter.command).toEqual(['--nginx.scrape-uri=http://agent-gateway:8080/stub_status'])
    expect(configFile(renders, 'nginx/gateway.conf').content).toMatch(/location = \/stub_status \{\n\s+stub_status;/)
  })

  describe('an NVIDIA node added to the inventory', async () => {
    const dir = await projectFrom(EXAMPLE, {
      'inventory/hosts.yaml': (text) =>
        `${text}\n  crucible:\n    address: crucible.home.arpa\n    tags: [gpu, ollama]\n    hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 24 } }\n`,
    })
    afterAll(() => removeProject(dir))
    const grown = await renderExample(dir)

    it('joins nginx least_conn upstream and gets a LiteLLM deployment for each model it serves', () => {
      expect(ollamaNodes(grown.project).map((n) => n.host)).toContain('crucible')
      const conf = configFile(grown.renders, 'nginx/gateway.conf').content
      expect(upstreamServers(conf, 'ollama')).toEqual(ollamaNodes(grown.project).map((n) => n.target))
      expect(upstreamServers(conf, 'ollama')).toContain('crucible.home.arpa:11434')
      const config = parse(configFile(grown.renders, 'litellm/config.yaml').content) as LitellmConfig
      const urls = config.model_list.map((d) => `${d.model_name}@${d.litellm_params.api_base}`).sort()
      expect(urls).toEqual(expectedDeployments(grown.project))
      expect(urls.filter((u) => u.endsWith('@http://crucible.home.arpa:11434'))).toEqual(
        Object.keys(grown.project.models)
          .sort()
          .map((m) => `${m}@http://crucible.home.arpa:11434`),
      )
    })
  })
})
