// Builders: schema-checked input (types generated from schemas/) -> the model every service reads.
// Defaults come from the schemas' `default` keywords; the few that depend on other values (a host's
// address, the Compose project, a service's tier) are worked out here.
import type {
  AlertReceiver,
  Gpu,
  HealthCheck,
  Host,
  Model,
  Platform,
  SecretSpec,
  Service,
  SshSettings,
  Stack,
} from './model.js'
import {
  INVENTORY_DEFAULTS,
  STACK_DEFAULTS,
  type InventoryAlertReceiver,
  type InventoryHost,
  type InventoryModel,
  type InventoryPlatform,
  type InventorySsh,
  type StackDocument,
  type StackHealthCheck,
  type StackService,
} from './schema-types.generated.js'

function buildSsh(raw: InventorySsh | undefined): SshSettings {
  const ssh: SshSettings = {}
  if (!raw) return ssh
  if (raw.user !== undefined) ssh.user = raw.user
  if (raw.port !== undefined) ssh.port = raw.port
  if (raw.identity_file !== undefined) ssh.identityFile = raw.identity_file
  if (raw.proxy_jump !== undefined) ssh.proxyJump = raw.proxy_jump
  if (raw.known_hosts !== undefined) ssh.knownHosts = raw.known_hosts
  return ssh
}

export function buildPlatform(raw: InventoryPlatform): Platform {
  const secrets: Record<string, SecretSpec> = {}
  for (const [name, spec] of Object.entries(raw.secrets ?? {})) {
    secrets[name] = {
      name,
      generate: spec.generate ?? INVENTORY_DEFAULTS['platform.secrets.*.generate'],
      length: spec.length ?? INVENTORY_DEFAULTS['platform.secrets.*.length'],
      prefix: spec.prefix ?? INVENTORY_DEFAULTS['platform.secrets.*.prefix'],
      optional: spec.optional ?? INVENTORY_DEFAULTS['platform.secrets.*.optional'],
      ...(spec.description !== undefined ? { description: spec.description } : {}),
    }
  }
  const platform: Platform = {
    name: raw.name,
    baseDir: raw.base_dir ?? INVENTORY_DEFAULTS['platform.base_dir'],
    composeProject: raw.compose_project ?? raw.name,
    releasesKeep: raw.releases_keep ?? INVENTORY_DEFAULTS['platform.releases_keep'],
    ssh: buildSsh(raw.ssh),
    secrets,
    alertReceivers: (raw.alerts?.receivers ?? []).map(buildAlertReceiver),
  }
  if (raw.domain !== undefined) platform.domain = raw.domain
  if (raw.lan_subnet !== undefined) platform.lanSubnet = raw.lan_subnet
  if (raw.image_registry !== undefined) platform.imageRegistry = raw.image_registry
  if (raw.registry_auth)
    platform.registryAuth = { username: raw.registry_auth.username, passwordSecret: raw.registry_auth.password_secret }
  if (raw.builder !== undefined) platform.builder = raw.builder
  if (raw.nas)
    platform.nas = { exports: { ...raw.nas.exports }, ...(raw.nas.host !== undefined ? { host: raw.nas.host } : {}) }
  return platform
}

function buildAlertReceiver(raw: InventoryAlertReceiver): AlertReceiver {
  const receiver: AlertReceiver = {
    name: raw.name,
    sendResolved: raw.send_resolved ?? INVENTORY_DEFAULTS['alertReceiver.send_resolved'],
  }
  if (raw.webhook)
    receiver.webhook = {
      url: raw.webhook.url,
      ...(raw.webhook.bearer_secret !== undefined ? { bearerSecret: raw.webhook.bearer_secret } : {}),
    }
  if (raw.ntfy)
    receiver.ntfy = {
      url: raw.ntfy.url ?? INVENTORY_DEFAULTS['alertReceiver.ntfy.url'],
      topic: raw.ntfy.topic,
      ...(raw.ntfy.token_secret !== undefined ? { tokenSecret: raw.ntfy.token_secret } : {}),
    }
  if (raw.email)
    receiver.email = {
      to: raw.email.to,
      from: raw.email.from,
      smarthost: raw.email.smarthost,
      requireTls: raw.email.require_tls ?? INVENTORY_DEFAULTS['alertReceiver.email.require_tls'],
      ...(raw.email.username !== undefined ? { username: raw.email.username } : {}),
      ...(raw.email.password_secret !== undefined ? { passwordSecret: raw.email.password_secret } : {}),
    }
  return receiver
}

export function buildHost(name: string, raw: InventoryHost, platform: Platform): Host {
  const hardware = raw.hardware ?? {}
  const host: Host = {
    name,
    address: raw.address ?? (platform.domain ? `${name}.${platform.domain}` : name),
    local: raw.local ?? INVENTORY_DEFAULTS['host.local'],
    ssh: { ...platform.ssh, ...buildSsh(raw.ssh) },
    tags: [...(raw.tags ?? [])],
    baseDir: raw.base_dir ?? platform.baseDir,
    mounts: {},
    models: [...(raw.models ?? [])],
  }
  if (raw.description !== undefined) host.description = raw.description
  if (hardware.cpus !== undefined) host.cpus = hardware.cpus
  if (hardware.memory_gb !== undefined) host.memoryGb = hardware.memory_gb
  if (hardware.gpu) {
    const raw = hardware.gpu
    const gpu: Gpu = { vendor: raw.vendor, count: raw.count ?? INVENTORY_DEFAULTS['host.hardware.gpu.count'] }
    if (raw.vram_gb !== undefined) gpu.vramGb = raw.vram_gb
    if (raw.model !== undefined) gpu.model = raw.model
    if (raw.gfx_version !== undefined) gpu.gfxVersion = raw.gfx_version
    if (raw.video_gid !== undefined) gpu.videoGid = raw.video_gid
    if (raw.render_gid !== undefined) gpu.renderGid = raw.render_gid
    host.gpu = gpu
  }
  if (raw.ollama) {
    const { num_parallel, max_loaded_models, max_queue, keep_alive, flash_attention } = raw.ollama
    host.ollama = {
      ...(num_parallel !== undefined ? { numParallel: num_parallel } : {}),
      ...(max_loaded_models !== undefined ? { maxLoadedModels: max_loaded_models } : {}),
      ...(max_queue !== undefined ? { maxQueue: max_queue } : {}),
      ...(keep_alive !== undefined ? { keepAlive: keep_alive } : {}),
      ...(flash_attention !== undefined ? { flashAttention: flash_attention } : {}),
    }
  }
  for (const [exportName, mount] of Object.entries(raw.mounts ?? {})) {
    host.mounts[exportName] = {
      export: exportName,
      path: mount.path,
      mode: mount.mode ?? INVENTORY_DEFAULTS['host.mounts.*.mode'],
    }
  }
  return host
}

export function buildModel(raw: InventoryModel): Model {
  const model: Model = {
    name: raw.name,
    mode: raw.mode ?? INVENTORY_DEFAULTS['model.mode'],
    fallbacks: [...(raw.fallbacks ?? [])],
  }
  if (raw.placement) model.placement = raw.placement
  if (raw.size_gb !== undefined) model.sizeGb = raw.size_gb
  if (raw.timeout_s !== undefined) model.timeoutS = raw.timeout_s
  if (raw.provider)
    model.provider = {
      name: raw.provider.name,
      model: raw.provider.model,
      keySecret: raw.provider.key_secret,
      ...(raw.provider.api_base !== undefined ? { apiBase: raw.provider.api_base } : {}),
    }
  return model
}

/** A stack without its services (buildService adds their names), placed on `hosts`. */
export function buildStack(name: string, file: string, raw: StackDocument, hosts: string[]): Stack {
  const meta = raw['x-ai-platform']
  const stack: Stack = {
    name,
    file,
    placement: meta.placement,
    phase: meta.phase,
    tier: meta.tier ?? STACK_DEFAULTS['stackMeta.tier'],
    singleHost: meta.single_host ?? STACK_DEFAULTS['stackMeta.single_host'],
    files: (meta.files ?? []).map((f) => ({
      template: f.template,
      path: f.path,
      mode: f.mode ?? STACK_DEFAULTS['stackMeta.files[].mode'],
    })),
    services: [],
    volumes: { ...raw.volumes },
    networks: { ...raw.networks },
    hosts,
  }
  if (meta.description !== undefined) stack.description = meta.description
  if (meta.max_unavailable_hosts !== undefined) stack.maxUnavailableHosts = meta.max_unavailable_hosts
  return stack
}

export function buildService(name: string, stack: Stack, raw: StackService): Service {
  const meta = raw['x-ai-platform'] ?? {}
  const compose: Record<string, unknown> = {}
  // x-ai-platform and every other x- extension stay out of the compose file.
  for (const [key, value] of Object.entries(raw)) if (!key.startsWith('x-')) compose[key] = value
  const service: Service = {
    name,
    stack: stack.name,
    phase: meta.phase ?? stack.phase,
    tier: meta.tier ?? stack.tier,
    compose,
    requires: [...(meta.requires ?? [])],
    health: (meta.health ?? []).map(buildHealthCheck),
    overrides: (meta.overrides ?? []).map((o) => ({ on: o.on, set: o.set })),
    databases: [...(meta.databases ?? [])],
    oneshot: meta.oneshot ?? STACK_DEFAULTS['serviceMeta.oneshot'],
    hosts: stack.hosts,
  }
  const { gpu, metrics, route, backup, rollout, build } = meta
  if (rollout)
    service.rollout = { batch: rollout.batch, pauseS: rollout.pause_s ?? STACK_DEFAULTS['serviceMeta.rollout.pause_s'] }
  if (build)
    service.build = {
      context: build.context,
      dockerfile: build.dockerfile ?? STACK_DEFAULTS['serviceMeta.build.dockerfile'],
      args: { ...build.args },
      name: build.name ?? name,
    }
  if (gpu)
    service.gpu = {
      count: gpu.count ?? STACK_DEFAULTS['serviceMeta.gpu.count'],
      vendor: gpu.vendor ?? STACK_DEFAULTS['serviceMeta.gpu.vendor'],
      ...(gpu.vram_gb !== undefined ? { vramGb: gpu.vram_gb } : {}),
    }
  if (metrics)
    service.metrics = {
      port: metrics.port,
      path: metrics.path ?? STACK_DEFAULTS['serviceMeta.metrics.path'],
      job: metrics.job ?? name,
      ...(metrics.bearer_secret !== undefined ? { bearerSecret: metrics.bearer_secret } : {}),
    }
  if (route)
    service.route = { name: route.name, port: route.port, path: route.path ?? STACK_DEFAULTS['serviceMeta.route.path'] }
  if (backup)
    service.backup = {
      engine: backup.engine,
      user: backup.user ?? STACK_DEFAULTS['serviceMeta.backup.user'],
      keep: backup.keep ?? STACK_DEFAULTS['serviceMeta.backup.keep'],
    }
  return service
}

function buildHealthCheck(raw: StackHealthCheck): HealthCheck {
  const check: HealthCheck = { required: raw.required ?? STACK_DEFAULTS['healthCheck.required'] }
  if (raw.name !== undefined) check.name = raw.name
  if (raw.http) {
    const { port, path, status, scheme, body } = raw.http
    check.http = {
      port,
      path: path ?? STACK_DEFAULTS['healthCheck.http.path'],
      status: status ?? STACK_DEFAULTS['healthCheck.http.status'],
      scheme: scheme ?? STACK_DEFAULTS['healthCheck.http.scheme'],
      ...(body !== undefined ? { body } : {}),
    }
  }
  if (raw.tcp) check.tcp = { port: raw.tcp.port }
  if (raw.command) check.command = [...raw.command]
  if (raw.ollama) check.ollama = { port: raw.ollama.port }
  return check
}
