// The validated, frozen model of a platform: what every service (render, plan, deploy, health, models) reads.
import type { InventorySelector } from './schema-types.generated.js'

export type GpuVendor = 'nvidia' | 'amd'
export type Phase = 'infra' | 'ai' | 'monitor'
export type Tier = 'core' | 'persistent' | 'on-demand'

export const PHASES: readonly Phase[] = ['infra', 'ai', 'monitor']

/** Which hosts: kept as written (schemas/inventory.schema.json, definitions.selector). */
export type Selector = InventorySelector

export interface SecretSpec {
  name: string
  description?: string
  generate: boolean
  length: number
  prefix: string
  optional: boolean
}

export interface SshSettings {
  user?: string
  port?: number
  identityFile?: string
  proxyJump?: string
  knownHosts?: string
}

export interface Gpu {
  vendor: GpuVendor
  count: number
  vramGb?: number
  model?: string
  gfxVersion?: string
  /** AMD: the host's video and render group ids, added to GPU containers by number. */
  videoGid?: number
  renderGid?: number
}

export interface Mount {
  /** NAS export name. */
  export: string
  path: string
  mode: 'ro' | 'rw'
}

export interface Host {
  name: string
  address: string
  local: boolean
  ssh: SshSettings
  tags: string[]
  description?: string
  cpus?: number
  memoryGb?: number
  gpu?: Gpu
  baseDir: string
  mounts: Record<string, Mount>
  /** Models this node serves: its own list plus every model rule that selects it. Sorted. */
  models: string[]
  /** Ollama server settings for this node, rendered as OLLAMA_* into its Ollama service. */
  ollama?: OllamaSettings
}

export interface OllamaSettings {
  numParallel?: number
  maxLoadedModels?: number
  maxQueue?: number
  keepAlive?: string
  flashAttention?: boolean
}

export interface Model {
  name: string
  mode: 'chat' | 'completion' | 'embedding'
  placement?: Selector
  sizeGb?: number
  timeoutS?: number
  fallbacks: string[]
  /** Served by an external provider through LiteLLM, not by Ollama. */
  provider?: { name: string; model: string; keySecret: string; apiBase?: string }
}

export interface HealthCheck {
  name?: string
  required: boolean
  http?: { port: number; path: string; status: number; body?: string; scheme: 'http' | 'https' }
  tcp?: { port: number }
  command?: string[]
  ollama?: { port: number }
}

export interface ServiceOverride {
  on: Selector
  set: Record<string, unknown>
}

export interface Service {
  name: string
  /** Stack file name without extension. */
  stack: string
  phase: Phase
  tier: Tier
  /** The Compose service definition as written, without x-ai-platform. */
  compose: Record<string, unknown>
  requires: string[]
  gpu?: { count: number | 'all'; vendor: GpuVendor | 'any'; vramGb?: number }
  health: HealthCheck[]
  overrides: ServiceOverride[]
  /** bearerSecret: a declared secret Prometheus sends as a bearer token (read from /run/secrets/NAME). */
  metrics?: { port: number; path: string; job: string; bearerSecret?: string }
  route?: { name: string; port: number; path: string }
  databases: string[]
  oneshot: boolean
  /** Replicas replaced `batch` at a time, new ones healthy before old ones go (x-ai-platform.rollout). */
  rollout?: { batch: number; pauseS: number }
  backup?: { engine: 'postgres'; user: string; keep: number }
  /** Hosts the service is placed on, in inventory order. */
  hosts: string[]
  /** Built from source by `images build`; the render pins `image` to the build's ref (src/render/image-build.ts). */
  build?: ServiceBuild
}

export interface ServiceBuild {
  /** Relative to the platform directory, as written. */
  context: string
  /** Relative to the context. */
  dockerfile: string
  args: Record<string, string>
  /** The repository under platform.image_registry. */
  name: string
}

export interface StackFile {
  template: string
  path: string
  mode: string
}

export interface Stack {
  name: string
  file: string
  description?: string
  placement: Selector
  phase: Phase
  tier: Tier
  /** The stack's services form one cluster: it must be placed on exactly one host. */
  singleHost: boolean
  /** At most this many of the stack's hosts deploying at once in a run; absent: no bound beyond --concurrency. */
  maxUnavailableHosts?: number
  files: StackFile[]
  services: string[]
  volumes: Record<string, unknown>
  networks: Record<string, unknown>
  hosts: string[]
}

export interface Platform {
  name: string
  domain?: string
  baseDir: string
  composeProject: string
  releasesKeep: number
  lanSubnet?: string
  imageRegistry?: string
  /** The log-in to imageRegistry: the password is the value of a declared secret. */
  registryAuth?: { username: string; passwordSecret: string }
  /** The host `images build` builds on by default. */
  builder?: string
  nas?: { host?: string; exports: Record<string, string> }
  ssh: SshSettings
  secrets: Record<string, SecretSpec>
  /** Where Alertmanager sends alerts (platform.alerts.receivers), in inventory order. */
  alertReceivers: AlertReceiver[]
}

/** One Alertmanager receiver: exactly one of webhook, ntfy or email (checked by the alert rules). */
export interface AlertReceiver {
  name: string
  sendResolved: boolean
  webhook?: { url: string; bearerSecret?: string }
  ntfy?: { url: string; topic: string; tokenSecret?: string }
  email?: {
    to: string
    from: string
    smarthost: string
    username?: string
    passwordSecret?: string
    requireTls: boolean
  }
}

export interface Project {
  /** Absolute directory holding inventory/, stacks/, templates/. */
  dir: string
  /** True when no project was found and the bundled reference platform is used. */
  bundled: boolean
  platform: Platform
  hosts: Record<string, Host>
  /** Host names in inventory order. */
  hostOrder: string[]
  stacks: Stack[]
  services: Record<string, Service>
  models: Record<string, Model>
  /** Template path (relative to templates/) -> its text. */
  templates: Record<string, string>
}
