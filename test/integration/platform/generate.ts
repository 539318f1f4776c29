// The test platform: the reference platform's hosts, stacks, dependencies, published ports and health
// endpoints, on stand-in images, generated for the fleet's addresses (strict host keys on).
import { createHash } from 'node:crypto'
import { cp, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { loadProject } from '../../../src/config/load.js'
import { publishedPorts, bindSource } from '../../../src/config/compose.js'
import type { Service } from '../../../src/config/model.js'
import { REPO } from '../../helpers/project.js'
import type { Fleet, HostName } from '../../fleet/fleet.js'

export const STANDIN_IMAGE = 'aip/standin:1'
export const OLLAMA_IMAGE = 'aip/ollama-standin:1'
/** Where each test host keeps its "NAS" model store (a plain directory made by the tests). */
export const MODELS_DIR = '/opt/ai-platform/nas/models'

const SYSTEM_MOUNTS = /^(\/proc|\/sys|\/var\/run|\/var\/lib\/docker|\/dev|~|\/$|\/:)/

export interface GenerateOptions {
  /** The platform directory to generate from (default: the reference platform at the repository's root). */
  source?: string
  /** Its hosts on the fleet's (host -> fleet host); default: each host on the fleet host of its name. */
  hostMap?: Record<string, HostName>
  /** Set by the generator: hosts whose model store is their own data directory. */
  gpuHosts?: string[]
  /** More models for the inventory (e.g. one the registry does not have). */
  extraModels?: { name: string; placement: Record<string, unknown> }[]
  /** Ollama stand-in download rate (bytes/s or '20MB'). */
  ollamaRate?: string
  /** Stacks to leave out (by file name without extension). */
  skipStacks?: string[]
  /** Health check timing for stand-ins, seconds. */
  healthInterval?: string
  /** Services that keep their real definition, on a locally built image (service -> image). */
  realImages?: Record<string, string>
  /** Last word on a generated service definition (tests use it to change or break one service). */
  mutate?: (service: string, definition: Record<string, any>) => void
}

export async function generateTestPlatform(fleet: Fleet, dir: string, options: GenerateOptions = {}): Promise<void> {
  const source = options.source ?? REPO
  const { project, issues } = await loadProject({ dir: source, bundled: false })
  if (!project) throw new Error(`${source} does not load: ${JSON.stringify(issues)}`)
  await mkdir(join(dir, 'inventory'), { recursive: true })
  await mkdir(join(dir, 'stacks'), { recursive: true })
  await cp(join(source, 'templates'), join(dir, 'templates'), { recursive: true })

  const byName = new Map<string, Fleet['hosts'][number]>(fleet.hosts.map((h) => [h.name, h]))
  const platform = {
    name: 'fleet',
    base_dir: '/opt/ai-platform',
    compose_project: 'ai-platform',
    releases_keep: 3,
    lan_subnet: fleet.subnet,
    image_registry: 'registry.invalid',
    nas: { exports: { models: '/tank/models' } },
    ssh: { user: 'deploy', identity_file: fleet.identityFile, known_hosts: fleet.knownHostsFile },
    secrets: Object.fromEntries(
      Object.values(project.platform.secrets).map((s) => [
        s.name,
        {
          ...(s.prefix ? { prefix: s.prefix } : {}),
          ...(s.optional ? { optional: true } : {}),
          ...(!s.generate ? { generate: false } : {}),
        },
      ]),
    ),
  }
  const hosts: Record<string, unknown> = {}
  for (const name of project.hostOrder) {
    const ref = project.hosts[name]!
    const fleetName = options.hostMap ? options.hostMap[name] : name
    const fleetHost = fleetName === undefined ? undefined : byName.get(fleetName)
    if (!fleetHost) throw new Error(`the fleet has no host for ${name} (${fleetName ?? 'not in hostMap'})`)
    const host: Record<string, unknown> = { address: fleetHost.address, tags: ref.tags }
    if (ref.local) {
      host.local = true
      host.base_dir = fleetHost.baseDir
    }
    const hardware: Record<string, unknown> = {}
    if (ref.cpus) hardware.cpus = ref.cpus
    if (ref.memoryGb) hardware.memory_gb = ref.memoryGb
    if (ref.gpu)
      hardware.gpu = {
        vendor: ref.gpu.vendor,
        count: ref.gpu.count,
        ...(ref.gpu.vramGb ? { vram_gb: ref.gpu.vramGb } : {}),
      }
    if (Object.keys(hardware).length > 0) host.hardware = hardware
    if (ref.ollama) {
      const o = ref.ollama
      host.ollama = {
        ...(o.numParallel !== undefined ? { num_parallel: o.numParallel } : {}),
        ...(o.maxLoadedModels !== undefined ? { max_loaded_models: o.maxLoadedModels } : {}),
        ...(o.maxQueue !== undefined ? { max_queue: o.maxQueue } : {}),
        ...(o.keepAlive !== undefined ? { keep_alive: o.keepAlive } : {}),
        ...(o.flashAttention !== undefined ? { flash_attention: o.flashAttention } : {}),
      }
    }
    // Fleet hosts have private /opt: a "shared" store could not be shared, so each Ollama node keeps
    // its own (sharing is covered by the unit tests of the pull planner). zelus keeps its mount.
    if (Object.keys(ref.mounts).length > 0 && !ref.gpu)
      host.mounts = Object.fromEntries(
        Object.entries(ref.mounts).map(([k, m]) => [k, { path: MODELS_DIR, mode: m.mode }]),
      )
    hosts[name] = host
  }
  const models: Record<string, unknown>[] = Object.values(project.models).map((m) => ({
    name: m.name,
    mode: m.mode,
    ...(m.placement ? { placement: m.placement } : {}),
    ...(m.fallbacks.length ? { fallbacks: m.fallbacks } : {}),
    ...(m.timeoutS ? { timeout_s: m.timeoutS } : {}),
  }))
  models.push(...(options.extraModels ?? []))
  await writeFile(join(dir, 'inventory/platform.yaml'), stringify({ platform, models }))
  // Fixed (but random-looking) secrets: every test file renders the same releases, so a file whose
  // platform is already deployed redeploys nothing.
  const secrets = Object.keys(platform.secrets).map(
    (name) => `${name}=${createHash('sha256').update(`aip-test-secret-${name}`).digest('hex').slice(0, 32)}\n`,
  )
  await writeFile(join(dir, 'secrets.env'), secrets.join(''), { mode: 0o600 })
  await writeFile(join(dir, 'inventory/hosts.yaml'), stringify({ hosts }))

  for (const stack of project.stacks) {
    if (options.skipStacks?.includes(stack.name) || stack.hosts.length === 0) continue
    const services: Record<string, unknown> = {}
    for (const name of stack.services) {
      const real = options.realImages?.[name]
      const definition = real
        ? realService(project.services[name]!, real)
        : standIn(project.services[name]!, {
            ...options,
            gpuHosts: project.hostOrder.filter((h) => project.hosts[h]!.gpu),
          })
      options.mutate?.(name, definition)
      services[name] = definition
    }
    const meta: Record<string, unknown> = { placement: stack.placement, phase: stack.phase }
    if (stack.tier !== 'core') meta.tier = stack.tier
    if (stack.singleHost) meta.single_host = true
    if (stack.maxUnavailableHosts !== undefined) meta.max_unavailable_hosts = stack.maxUnavailableHosts
    if (stack.files.length > 0) meta.files = stack.files.map((f) => ({ template: f.template, path: f.path }))
    const document: Record<string, unknown> = { 'x-ai-platform': meta, services }
    if (Object.keys(stack.volumes).length > 0) document.volumes = stack.volumes
    await writeFile(join(dir, 'stacks', `${stack.name}.yaml`), stringify(document, { lineWidth: 0 }))
  }
}

/** The service as the catalog defines it, on a local image; CPU limits and reservations dropped (2-core machine). */
function realService(service: Service, image: string): Record<string, unknown> {
  const out = structuredClone(service.compose) as Record<string, any>
  out.image = image
  const memory = out.deploy?.resources?.limits?.memory
  delete out.deploy
  if (memory) out.deploy = { resources: { limits: { memory } } }
  const meta: Record<string, unknown> = {}
  if (service.requires.length > 0) meta.requires = service.requires
  if (service.health.length > 0)
    meta.health = service.health.map((c) => ({
      ...(c.http ? { http: { port: c.http.port, path: c.http.path } } : {}),
      ...(c.tcp ? { tcp: c.tcp } : {}),
      ...(c.required ? {} : { required: false }),
    }))
  if (service.databases.length > 0) meta.databases = service.databases
  if (service.oneshot) meta.oneshot = true
  if (service.backup) meta.backup = { ...service.backup }
  if (Object.keys(meta).length > 0) out['x-ai-platform'] = meta
  return out
}

/** The same service on a stand-in image: same name, published ports, environment, health endpoints and dependencies. */
function standIn(service: Service, options: GenerateOptions): Record<string, unknown> {
  const compose = service.compose
  const isOllama = service.health.some((c) => c.ollama)
  const tcpPorts = new Set(service.health.flatMap((c) => (c.tcp ? [c.tcp.port] : [])))
  const ports = (compose.ports as unknown[] | undefined) ?? []
  const published = publishedPorts(ports)
  const containerPorts = ports.map((p) => {
    if (typeof p === 'object' && p !== null) return Number((p as { target: number }).target)
    const spec = String(p).split('/')[0]!
    return Number(spec.split(':').pop()!.split('-')[0])
  })
  const http: number[] = []
  const tcp: number[] = []
  containerPorts.forEach((containerPort, i) => {
    const hostPort = published.find((p) => p.index === i)?.from
    if (hostPort !== undefined && tcpPorts.has(hostPort)) tcp.push(containerPort)
    else http.push(containerPort)
  })
  if (http.length === 0) http.push(8080)
  const healthPaths = new Set(
    ['/health', ...service.health.flatMap((c) => (c.http ? [c.http.path] : []))].filter((p) => p !== '/'),
  )
  const environment: Record<string, unknown> = { ...(toMap(compose.environment) ?? {}) }
  // Each check is a process in the container: on a 2-core machine running ~55 stand-ins, every 2 s is too much.
  const interval = options.healthInterval ?? '5s'
  const out: Record<string, unknown> = {}
  if (isOllama) {
    out.image = OLLAMA_IMAGE
    Object.assign(environment, { OLLAMA_MODELS: '/models', OLLAMA_STANDIN_RATE: options.ollamaRate ?? '20MB' })
    delete environment.OLLAMA_NOPRUNE
    // `ollama list` is a Node process: check it less often.
    out.healthcheck = {
      test: ['CMD', 'ollama', 'list'],
      interval: '10s',
      timeout: '8s',
      retries: 5,
      start_period: '5s',
    }
  } else {
    out.image = STANDIN_IMAGE
    Object.assign(environment, {
      STANDIN_NAME: service.name,
      STANDIN_HTTP_PORTS: http.join(','),
      STANDIN_TCP_PORTS: tcp.join(','),
      STANDIN_HEALTH_PATHS: [...healthPaths].join(','),
    })
    if (service.oneshot) out.command = ['sh', '-c', 'echo done']
    else
      out.healthcheck = {
        test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${http[0]}/health`],
        interval,
        timeout: '3s',
        retries: 3,
        start_period: '2s',
      }
  }
  out.environment = environment
  // The fleet's `local` is a namespace: its loopback is not the machine's, so publish on all addresses.
  if (ports.length > 0) out.ports = ports.map((p) => (typeof p === 'string' ? p.replace(/^127\.0\.0\.1:/, '') : p))
  // Keep the bind mounts under the base directory and the rendered config files ({{...}} sources);
  // drop the hosts' system paths. Ollama keeps its models in its own data directory (see above).
  const volumes = ((compose.volumes as unknown[] | undefined) ?? [])
    .map((v) => {
      if (
        typeof v !== 'string' ||
        !v.startsWith('{{host.mounts.models.path}}') ||
        !options.gpuHosts?.some((h) => service.hosts.includes(h))
      )
        return v
      return isOllama
        ? '{{host.data_dir}}/ollama-models:/models'
        : v.replace('{{host.mounts.models.path}}', '{{host.data_dir}}/ollama-models')
    })
    .filter((v) => {
      const source = typeof v === 'string' && v.startsWith('{{') ? v.split(':')[0]! : bindSource(v)
      return source !== null && !SYSTEM_MOUNTS.test(source)
    })
  if (volumes.length > 0) out.volumes = volumes
  const deploy = compose.deploy as { replicas?: number; resources?: { limits?: { memory?: string } } } | undefined
  const memory = deploy?.resources?.limits?.memory
  if (memory) out.deploy = { resources: { limits: { memory } } }
  if (deploy?.replicas !== undefined) out.deploy = { ...(out.deploy as object), replicas: deploy.replicas }
  const meta: Record<string, unknown> = { phase: service.phase }
  if (service.rollout) meta.rollout = { batch: service.rollout.batch, pause_s: service.rollout.pauseS }
  if (service.requires.length > 0) meta.requires = service.requires
  if (service.health.length > 0)
    meta.health = service.health.map((c) => ({
      ...(c.http ? { http: { port: c.http.port, path: c.http.path } } : {}),
      ...(c.tcp ? { tcp: c.tcp } : {}),
      ...(c.ollama ? { ollama: c.ollama } : {}),
      ...(c.required ? {} : { required: false }),
    }))
  if (service.metrics)
    meta.metrics = { port: service.metrics.port, path: service.metrics.path, job: service.metrics.job }
  if (service.route) meta.route = { name: service.route.name, port: service.route.port }
  if (service.databases.length > 0) meta.databases = service.databases
  if (service.oneshot) meta.oneshot = true
  // The fleet's GPU hosts accept NVIDIA reservations and have /dev/kfd and /dev/dri stand-ins.
  if (service.gpu) meta.gpu = { count: service.gpu.count, vendor: service.gpu.vendor }
  if (service.backup) meta.backup = { ...service.backup }
  const stackTier = service.tier
  if (stackTier === 'on-demand') meta.tier = 'on-demand'
  if (Object.keys(meta).length > 0) out['x-ai-platform'] = meta
  return out
}

function toMap(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) return Object.fromEntries(value.map((v) => String(v).split(/=(.*)/s).slice(0, 2)))
  return value as Record<string, unknown> | undefined
}
