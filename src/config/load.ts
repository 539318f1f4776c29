// load: read -> YAML with positions -> ajv -> defaults -> semantic rules -> frozen model.
// Returns every problem at once ({project, issues}); nothing here throws for a user mistake.
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Issue } from '../errors.js'
import type { Gpu, HealthCheck, Host, Model, Platform, Project, SecretSpec, Selector, Service, SshSettings, Stack } from './model.js'
import { badDollars, composeVariables, isPlainObject, portsOverlap, publishedPorts, walkStrings, bindSource, type PublishedPort } from './compose.js'
import { imageProblemMessage, imageReferenceProblem } from './image-ref.js'
import type { ProjectLocation } from './project-dir.js'
import { loadValidators, validateWith, type Validators } from './schema.js'
import { selectHosts } from './select.js'
import { serviceForHost } from './service-for-host.js'
import { describeValue, issueAt, readYamlFile, type PathSegment, type SourceFile } from './source.js'
import { compileTemplateIssues } from '../util/template.js'
import { findCycles } from '../util/graph.js'
import { hostCycles } from './host-dependencies.js'

export const DEFAULT_BASE_DIR = '/opt/ai-platform'

export interface Origin {
  source: SourceFile
  path: PathSegment[]
}

export interface LoadResult {
  project: Project | null
  issues: Issue[]
  /** Where each host, service, model and stack was written: `host:NAME`, `service:NAME`, `model:NAME`, `stack:NAME`. */
  origins: Map<string, Origin>
}

let validatorsCache: Promise<Validators> | undefined
function loadOnce(): Promise<Validators> {
  // Compiling the schemas costs ~100 ms: the build precompiles them; a process loads them once.
  validatorsCache ??= loadValidators()
  return validatorsCache
}

export async function loadProject(location: ProjectLocation): Promise<LoadResult> {
  const { dir } = location
  const schemas = await loadOnce()
  const validators = () => schemas
  const issues: Issue[] = []
  const origins = new Map<string, Origin>()
  const inventoryFiles = await listYaml(join(dir, 'inventory'))
  const stackFiles = await listYaml(join(dir, 'stacks'))
  const display = (abs: string): string => relative(dir, abs) || abs

  if (inventoryFiles.length === 0) {
    issues.push({ file: 'inventory/', line: 1, col: 1, path: '', message: 'no inventory files (*.yaml) found', severity: 'error' })
    return { project: null, issues, origins }
  }

  // 1. Inventory files: parse, schema-check, merge.
  let platformRaw: { value: Record<string, unknown>; source: SourceFile } | undefined
  const hostRaw = new Map<string, { value: Record<string, unknown>; source: SourceFile }>()
  const modelRaw = new Map<string, { value: Record<string, unknown>; source: SourceFile; index: number }>()
  // Every file is read at once; their issues are reported in file order.
  const readAll = (files: string[], validate: Validators[keyof Validators]) =>
    Promise.all(
      files.map(async (abs) => {
        const read = await readYamlFile(abs, display(abs))
        if (!read.ok) return { abs, issues: read.issues, checked: null }
        const value = read.value ?? {}
        const found = [...read.warnings, ...validateWith(validate, value, read.source)]
        const clean = !found.some((i) => i.severity === 'error') && isPlainObject(value)
        return { abs, issues: found, checked: clean ? { source: read.source, value: value as Record<string, unknown> } : null }
      }),
    )
  const [inventoryRead, stackRead] = await Promise.all([readAll(inventoryFiles, validators().inventory), readAll(stackFiles, validators().stack)])
  for (const { issues: found, checked } of inventoryRead) {
    issues.push(...found)
    if (!checked) continue
    const { source, value } = checked
    if (isPlainObject(value.platform)) {
      if (platformRaw) {
        issues.push(issueAt(source, ['platform'], `platform is already defined in ${platformRaw.source.display}`, { key: true }))
      } else platformRaw = { value: value.platform, source }
    }
    for (const [name, host] of Object.entries((value.hosts as Record<string, Record<string, unknown>> | undefined) ?? {})) {
      const earlier = hostRaw.get(name)
      if (earlier) {
        issues.push(issueAt(source, ['hosts', name], `duplicate host name: already defined in ${earlier.source.display}`, { key: true }))
        continue
      }
      hostRaw.set(name, { value: host, source })
      origins.set(`host:${name}`, { source, path: ['hosts', name] })
    }
    ;((value.models as Record<string, unknown>[] | undefined) ?? []).forEach((model, index) => {
      const name = String(model.name)
      const earlier = modelRaw.get(name)
      if (earlier) {
        issues.push(issueAt(source, ['models', index, 'name'], `duplicate model: already declared in ${earlier.source.display}`, { got: JSON.stringify(name) }))
        return
      }
      modelRaw.set(name, { value: model, source, index })
      origins.set(`model:${name}`, { source, path: ['models', index] })
    })
  }
  if (!platformRaw) {
    if (!issues.some((i) => i.severity === 'error')) {
      issues.push({ file: display(inventoryFiles[0]!), line: 1, col: 1, path: 'platform', message: 'no platform block in any inventory file', allowed: 'platform: {name: ...} in one file', severity: 'error' })
    }
    return { project: null, issues, origins }
  }
  if (hostRaw.size === 0 && !issues.some((i) => i.severity === 'error')) {
    issues.push({ file: display(inventoryFiles[0]!), line: 1, col: 1, path: 'hosts', message: 'the inventory defines no hosts', severity: 'error' })
  }

  // Rules across files run only on files that passed their schema: a broken file's hosts or services
  // would otherwise show up again as "unknown host" or "unknown service" everywhere.
  const inventoryBroken = hasErrors(issues)
  const platform = buildPlatform(platformRaw.value)
  const hostOrder = [...hostRaw.keys()]
  const hosts: Record<string, Host> = {}
  for (const [name, { value, source }] of hostRaw) {
    hosts[name] = buildHost(name, value, platform)
    issues.push(...hostRules(name, value, source, platform))
  }
  issues.push(...mountWriterRules(hosts, hostOrder, origins))

  // 2. Models and their placement.
  const models: Record<string, Model> = {}
  for (const [name, { value }] of modelRaw) models[name] = buildModel(value)

  // 3. Stacks.
  const stacks: Stack[] = []
  const services: Record<string, Service> = {}
  for (const { abs, issues: found, checked } of stackRead) {
    issues.push(...found)
    if (!checked) continue
    const { source, value } = checked
    const stackName = basenameNoExt(abs)
    issues.push(...nonFiniteNumbers(source, value))
    if (stacks.some((s) => s.name === stackName)) {
      issues.push({ file: source.display, line: 1, col: 1, path: '', message: `duplicate stack name "${stackName}" (stacks/${stackName}.yaml and .yml)`, severity: 'error' })
      continue
    }
    const stack = buildStack(stackName, source, value, hosts, hostOrder, inventoryBroken ? [] : issues)
    origins.set(`stack:${stackName}`, { source, path: [] })
    stacks.push(stack)
    for (const [serviceName, raw] of Object.entries(value.services as Record<string, Record<string, unknown>>)) {
      const earlier = origins.get(`service:${serviceName}`)
      if (earlier) {
        issues.push(issueAt(source, ['services', serviceName], `duplicate service name: already defined in ${earlier.source.display}`, { key: true }))
        continue
      }
      origins.set(`service:${serviceName}`, { source, path: ['services', serviceName] })
      const service = buildService(serviceName, stack, raw)
      services[serviceName] = service
      stack.services.push(serviceName)
      issues.push(...imageRules(service, source, ['services', serviceName]))
    }
    if (isPlainObject(value) && typeof value.version === 'string') {
      issues.push(issueAt(source, ['version'], 'the Compose `version` key is obsolete and is ignored', { key: true, severity: 'warning' }))
    }
  }

  // 4. Rules that need the whole fleet.
  if (inventoryBroken || hasErrors(issues)) {
    return { project: null, issues, origins }
  }
  issues.push(...serviceRules(services, hosts, hostOrder, platform, origins))
  if (!issues.some((i) => i.severity === 'error' && i.message.startsWith('dependency cycle'))) {
    // Acyclic services can still tie hosts in a knot: a on A requires b on B, c on B requires d on A.
    for (const cycle of hostCycles({ services, hostOrder })) {
      const { source, path } = origins.get(`service:${cycle.service}`)!
      issues.push(issueAt(source, [...path, 'x-ai-platform', 'requires'], `host dependency cycle: ${cycle.description}`, { allowed: 'requires that order hosts without cycles' }))
    }
  }
  issues.push(...modelRules(models, hosts, hostOrder, services, origins))
  assignModels(hosts, hostOrder, models)

  // 5. Templates.
  const templates = await readTemplates(join(dir, 'templates'))
  for (const [path, text] of Object.entries(templates)) issues.push(...compileTemplateIssues(`templates/${path}`, text))
  for (const stack of stacks) {
    const origin = origins.get(`stack:${stack.name}`)!
    stack.files.forEach((file, index) => {
      if (templates[file.template] === undefined) {
        issues.push(issueAt(origin.source, ['x-ai-platform', 'files', index, 'template'], 'no such template in templates/', { got: JSON.stringify(file.template) }))
      }
    })
  }

  const project: Project = { dir, bundled: location.bundled, platform, hosts, hostOrder, stacks, services, models, templates }
  return { project: deepFreeze(project), issues, origins }
}

async function listYaml(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n))
}

async function readTemplates(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  let entries: string[]
  try {
    entries = (await readdir(dir, { recursive: true })) as string[]
  } catch {
    return out
  }
  for (const entry of entries.sort()) {
    const abs = join(dir, entry)
    try {
      out[entry.split('\\').join('/')] = await readFile(abs, 'utf8')
    } catch {
      // a directory
    }
  }
  return out
}

function basenameNoExt(path: string): string {
  return path.split('/').pop()!.replace(/\.ya?ml$/, '')
}

function buildSsh(raw: unknown): SshSettings {
  const ssh: SshSettings = {}
  if (!isPlainObject(raw)) return ssh
  if (typeof raw.user === 'string') ssh.user = raw.user
  if (typeof raw.port === 'number') ssh.port = raw.port
  if (typeof raw.identity_file === 'string') ssh.identityFile = raw.identity_file
  if (typeof raw.proxy_jump === 'string') ssh.proxyJump = raw.proxy_jump
  if (typeof raw.known_hosts === 'string') ssh.knownHosts = raw.known_hosts
  return ssh
}

function buildPlatform(raw: Record<string, unknown>): Platform {
  const secrets: Record<string, SecretSpec> = {}
  for (const [name, spec] of Object.entries((raw.secrets as Record<string, Record<string, unknown>> | undefined) ?? {})) {
    secrets[name] = {
      name,
      generate: spec.generate !== false,
      length: typeof spec.length === 'number' ? spec.length : 32,
      prefix: typeof spec.prefix === 'string' ? spec.prefix : '',
      optional: spec.optional === true,
      ...(typeof spec.description === 'string' ? { description: spec.description } : {}),
    }
  }
  const nas = raw.nas as { host?: string; exports: Record<string, string> } | undefined
  const platform: Platform = {
    name: String(raw.name),
    baseDir: typeof raw.base_dir === 'string' ? raw.base_dir : DEFAULT_BASE_DIR,
    composeProject: typeof raw.compose_project === 'string' ? raw.compose_project : String(raw.name),
    releasesKeep: typeof raw.releases_keep === 'number' ? raw.releases_keep : 5,
    ssh: buildSsh(raw.ssh),
    secrets,
  }
  if (typeof raw.domain === 'string') platform.domain = raw.domain
  if (typeof raw.lan_subnet === 'string') platform.lanSubnet = raw.lan_subnet
  if (typeof raw.image_registry === 'string') platform.imageRegistry = raw.image_registry
  if (nas) platform.nas = { exports: { ...nas.exports }, ...(nas.host !== undefined ? { host: nas.host } : {}) }
  return platform
}

function buildHost(name: string, raw: Record<string, unknown>, platform: Platform): Host {
  const hardware = (raw.hardware as Record<string, unknown> | undefined) ?? {}
  const gpuRaw = hardware.gpu as Record<string, unknown> | undefined
  const address = typeof raw.address === 'string' ? raw.address : platform.domain ? `${name}.${platform.domain}` : name
  const host: Host = {
    name,
    address,
    local: raw.local === true,
    ssh: { ...platform.ssh, ...buildSsh(raw.ssh) },
    tags: [...((raw.tags as string[] | undefined) ?? [])],
    baseDir: typeof raw.base_dir === 'string' ? raw.base_dir : platform.baseDir,
    mounts: {},
    models: [...((raw.models as string[] | undefined) ?? [])],
  }
  if (typeof raw.description === 'string') host.description = raw.description
  if (typeof hardware.cpus === 'number') host.cpus = hardware.cpus
  if (typeof hardware.memory_gb === 'number') host.memoryGb = hardware.memory_gb
  if (gpuRaw) {
    const gpu: Gpu = { vendor: gpuRaw.vendor as Gpu['vendor'], count: typeof gpuRaw.count === 'number' ? gpuRaw.count : 1 }
    if (typeof gpuRaw.vram_gb === 'number') gpu.vramGb = gpuRaw.vram_gb
    if (typeof gpuRaw.model === 'string') gpu.model = gpuRaw.model
    if (typeof gpuRaw.gfx_version === 'string') gpu.gfxVersion = gpuRaw.gfx_version
    if (typeof gpuRaw.video_gid === 'number') gpu.videoGid = gpuRaw.video_gid
    if (typeof gpuRaw.render_gid === 'number') gpu.renderGid = gpuRaw.render_gid
    host.gpu = gpu
  }
  for (const [exportName, mount] of Object.entries((raw.mounts as Record<string, Record<string, unknown>> | undefined) ?? {})) {
    host.mounts[exportName] = { export: exportName, path: String(mount.path), mode: mount.mode === 'rw' ? 'rw' : 'ro' }
  }
  return host
}

function hostRules(name: string, raw: Record<string, unknown>, source: SourceFile, platform: Platform): Issue[] {
  const issues: Issue[] = []
  const exportsKnown = Object.keys(platform.nas?.exports ?? {})
  for (const exportName of Object.keys((raw.mounts as object | undefined) ?? {})) {
    if (!exportsKnown.includes(exportName)) {
      issues.push(
        issueAt(source, ['hosts', name, 'mounts', exportName], 'mounts an export the NAS does not have', {
          key: true,
          allowed: exportsKnown.length > 0 ? exportsKnown.join(', ') : 'none (platform.nas.exports is empty)',
          got: JSON.stringify(exportName),
        }),
      )
    }
  }
  const gpu = (raw.hardware as { gpu?: Record<string, unknown> } | undefined)?.gpu
  for (const key of ['gfx_version', 'video_gid', 'render_gid']) {
    if (gpu && gpu[key] !== undefined && gpu.vendor !== 'amd') {
      issues.push(issueAt(source, ['hosts', name, 'hardware', 'gpu', key], `${key} applies to AMD GPUs only`, { key: true, got: `vendor ${String(gpu.vendor)}` }))
    }
  }
  return issues
}

// Ollama servers sharing one store do not coordinate their writes (protocols.md §1.2): one writer per export.
function mountWriterRules(hosts: Record<string, Host>, order: string[], origins: Map<string, Origin>): Issue[] {
  const writers = new Map<string, string[]>()
  for (const name of order) {
    for (const mount of Object.values(hosts[name]!.mounts)) {
      if (mount.mode === 'rw') writers.set(mount.export, [...(writers.get(mount.export) ?? []), name])
    }
  }
  const issues: Issue[] = []
  for (const [exportName, names] of writers) {
    if (names.length < 2) continue
    for (const name of names.slice(1)) {
      const origin = origins.get(`host:${name}`)!
      issues.push(
        issueAt(origin.source, [...origin.path, 'mounts', exportName, 'mode'], `export "${exportName}" already has a writer (${names[0]}); concurrent writers corrupt a shared model store`, {
          allowed: 'one host with mode rw per export',
          got: names.join(', '),
        }),
      )
    }
  }
  return issues
}

function buildModel(raw: Record<string, unknown>): Model {
  const model: Model = {
    name: String(raw.name),
    mode: (raw.mode as Model['mode'] | undefined) ?? 'chat',
    fallbacks: [...((raw.fallbacks as string[] | undefined) ?? [])],
  }
  if (isPlainObject(raw.placement)) model.placement = raw.placement as Selector
  if (typeof raw.size_gb === 'number') model.sizeGb = raw.size_gb
  if (typeof raw.timeout_s === 'number') model.timeoutS = raw.timeout_s
  return model
}

function buildStack(name: string, source: SourceFile, raw: Record<string, unknown>, hosts: Record<string, Host>, order: string[], issues: Issue[]): Stack {
  const meta = raw['x-ai-platform'] as Record<string, unknown>
  const placement = meta.placement as Selector
  const selection = selectHosts(placement, hosts, order)
  issues.push(...selectionIssues(source, ['x-ai-platform', 'placement'], placement, selection, order))
  const stack: Stack = {
    name,
    file: source.display,
    placement,
    phase: meta.phase as Stack['phase'],
    tier: (meta.tier as Stack['tier'] | undefined) ?? 'core',
    files: ((meta.files as Record<string, string>[] | undefined) ?? []).map((f) => ({ template: f.template!, path: f.path!, mode: f.mode ?? '0644' })),
    services: [],
    volumes: isPlainObject(raw.volumes) ? { ...raw.volumes } : {},
    networks: isPlainObject(raw.networks) ? { ...raw.networks } : {},
    hosts: selection.hosts,
  }
  if (typeof meta.description === 'string') stack.description = meta.description
  return stack
}

function selectionIssues(source: SourceFile, path: PathSegment[], selector: Selector, selection: ReturnType<typeof selectHosts>, order: string[]): Issue[] {
  const issues: Issue[] = []
  for (const name of selection.unknownHosts) {
    const list = selector.hosts?.includes(name) ? 'hosts' : 'exclude'
    const index = (selector[list] ?? []).indexOf(name)
    issues.push(issueAt(source, [...path, list, index], 'unknown host', { allowed: order.join(', '), got: JSON.stringify(name) }))
  }
  for (const tag of selection.unknownTags) {
    const index = (selector.tags ?? []).indexOf(tag)
    issues.push(issueAt(source, [...path, 'tags', index], 'no host carries this tag', { got: JSON.stringify(tag) }))
  }
  return issues
}

function buildService(name: string, stack: Stack, raw: Record<string, unknown>): Service {
  const meta = (raw['x-ai-platform'] as Record<string, unknown> | undefined) ?? {}
  const compose: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) if (key !== 'x-ai-platform' && !key.startsWith('x-')) compose[key] = value
  const gpu = meta.gpu as { count?: number | 'all'; vendor?: 'nvidia' | 'amd' | 'any' } | undefined
  const metrics = meta.metrics as { port: number; path?: string; job?: string } | undefined
  const route = meta.route as { name: string; port: number; path?: string } | undefined
  const service: Service = {
    name,
    stack: stack.name,
    phase: stack.phase,
    tier: (meta.tier as Service['tier'] | undefined) ?? stack.tier,
    compose,
    requires: [...((meta.requires as string[] | undefined) ?? [])],
    health: ((meta.health as Record<string, unknown>[] | undefined) ?? []).map(buildHealthCheck),
    overrides: ((meta.overrides as { on: Selector; set: Record<string, unknown> }[] | undefined) ?? []).map((o) => ({ on: o.on, set: o.set })),
    databases: [...((meta.databases as string[] | undefined) ?? [])],
    oneshot: meta.oneshot === true,
    hosts: stack.hosts,
  }
  if (gpu) service.gpu = { count: gpu.count ?? 1, vendor: gpu.vendor ?? 'any' }
  if (metrics) service.metrics = { port: metrics.port, path: metrics.path ?? '/metrics', job: metrics.job ?? name }
  if (route) service.route = { name: route.name, port: route.port, path: route.path ?? '/' }
  const backup = meta.backup as { engine: 'postgres'; user?: string; keep?: number } | undefined
  if (backup) service.backup = { engine: backup.engine, user: backup.user ?? 'postgres', keep: backup.keep ?? 7 }
  return service
}

/** `.inf` and `.nan` pass the schema as numbers, but no compose file can hold them (the renderer refused them as a bug). */
function nonFiniteNumbers(source: SourceFile, value: unknown, path: PathSegment[] = []): Issue[] {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return []
    return [issueAt(source, path, 'is not a finite number', { allowed: 'a finite number, or a quoted string such as ".inf"', got: Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf' })]
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => nonFiniteNumbers(source, item, [...path, index]))
  if (isPlainObject(value)) return Object.entries(value).flatMap(([key, item]) => nonFiniteNumbers(source, item, [...path, key]))
  return []
}

/**
 * Image references Docker would refuse at the pull, in the service and in each override. Values with
 * `{{...}}` are checked once rendered (render.ts); those with Compose variables take their value on
 * the host, from .env, and are left to Compose.
 */
function imageRules(service: Service, source: SourceFile, path: PathSegment[]): Issue[] {
  const sites: { image: unknown; at: PathSegment[] }[] = [{ image: service.compose.image, at: [...path, 'image'] }]
  service.overrides.forEach((override, index) => {
    if ('image' in override.set) sites.push({ image: override.set.image, at: [...path, 'x-ai-platform', 'overrides', index, 'set', 'image'] })
  })
  const issues: Issue[] = []
  for (const { image, at } of sites) {
    if (typeof image !== 'string' || image.includes('{{') || composeVariables(image).length > 0) continue
    const problem = imageReferenceProblem(image)
    if (problem) issues.push(issueAt(source, at, imageProblemMessage(problem), { allowed: problem.allowed, got: describeValue(image) }))
  }
  return issues
}

function buildHealthCheck(raw: Record<string, unknown>): HealthCheck {
  const check: HealthCheck = { required: raw.required !== false }
  if (typeof raw.name === 'string') check.name = raw.name
  if (isPlainObject(raw.http)) {
    const http = raw.http as { port: number; path?: string; status?: number; body?: string; scheme?: 'http' | 'https' }
    check.http = { port: http.port, path: http.path ?? '/', status: http.status ?? 200, scheme: http.scheme ?? 'http', ...(http.body !== undefined ? { body: http.body } : {}) }
  }
  if (isPlainObject(raw.tcp)) check.tcp = { port: (raw.tcp as { port: number }).port }
  if (Array.isArray(raw.command)) check.command = [...(raw.command as string[])]
  if (isPlainObject(raw.ollama)) check.ollama = { port: (raw.ollama as { port: number }).port }
  return check
}

function serviceRules(services: Record<string, Service>, hosts: Record<string, Host>, order: string[], platform: Platform, origins: Map<string, Origin>): Issue[] {
  const issues: Issue[] = []
  const declared = Object.keys(platform.secrets)
  for (const service of Object.values(services)) {
    const { source, path } = origins.get(`service:${service.name}`)!
    const meta = [...path, 'x-ai-platform']
    service.requires.forEach((required, index) => {
      const target = services[required]
      if (!target) {
        issues.push(issueAt(source, [...meta, 'requires', index], 'requires an unknown service', { allowed: Object.keys(services).sort().join(', '), got: JSON.stringify(required) }))
      } else if (required === service.name) {
        issues.push(issueAt(source, [...meta, 'requires', index], 'a service cannot require itself', { got: JSON.stringify(required) }))
      } else if (service.hosts.length > 0 && target.hosts.length === 0) {
        issues.push(issueAt(source, [...meta, 'requires', index], `requires "${required}", which is placed on no host`, { got: JSON.stringify(required) }))
      }
    })
    service.overrides.forEach((override, index) => {
      const selection = selectHosts(override.on, hosts, order)
      issues.push(...selectionIssues(source, [...meta, 'overrides', index, 'on'], override.on, selection, order))
      if ('x-ai-platform' in override.set) {
        issues.push(issueAt(source, [...meta, 'overrides', index, 'set', 'x-ai-platform'], 'overrides set Compose keys only', { key: true }))
      }
    })
    // GPU needs against each host's hardware.
    if (service.gpu) {
      for (const hostName of service.hosts) {
        const host = hosts[hostName]!
        if (!host.gpu) {
          issues.push(issueAt(source, [...meta, 'gpu'], `needs a GPU, but host "${hostName}" has none`, { allowed: 'hosts with hardware.gpu', got: hostName }))
        } else if (service.gpu.vendor !== 'any' && service.gpu.vendor !== host.gpu.vendor) {
          issues.push(issueAt(source, [...meta, 'gpu', 'vendor'], `needs an ${service.gpu.vendor} GPU, but host "${hostName}" has ${host.gpu.vendor}`, { allowed: service.gpu.vendor, got: host.gpu.vendor }))
        } else if (typeof service.gpu.count === 'number' && service.gpu.count > host.gpu.count) {
          issues.push(issueAt(source, [...meta, 'gpu', 'count'], `needs ${service.gpu.count} GPUs, but host "${hostName}" has ${host.gpu.count}`, { got: String(service.gpu.count) }))
        }
      }
    }
    // Secrets: every ${VAR} without a default must be a declared secret.
    const variableSites: { text: string; at: PathSegment[] }[] = []
    walkStrings(service.compose, [...path], (text, at) => variableSites.push({ text, at }))
    service.overrides.forEach((override, index) => walkStrings(override.set, [...meta, 'overrides', index, 'set'], (text, at) => variableSites.push({ text, at })))
    for (const { text, at } of variableSites) {
      if (badDollars(text)) {
        issues.push(issueAt(source, at, 'has a $ that Compose cannot interpolate', { allowed: '${NAME}, $NAME, or $$ for a literal dollar', got: describeValue(text) }))
        continue
      }
      for (const use of composeVariables(text)) {
        if (use.hasDefault || declared.includes(use.name)) continue
        issues.push(
          issueAt(source, at, `uses \${${use.name}}, which is not a declared secret`, {
            allowed: declared.length > 0 ? `${declared.join(', ')} (platform.secrets), or \${${use.name}:-default}` : 'secrets declared under platform.secrets',
            got: use.name,
          }),
        )
      }
    }
    // Bind mounts stay inside the host's base directory or absolute paths, overrides included.
    const volumeLists: { volumes: unknown; at: PathSegment[] }[] = [{ volumes: service.compose.volumes, at: [...path, 'volumes'] }]
    service.overrides.forEach((override, index) => volumeLists.push({ volumes: override.set.volumes, at: [...meta, 'overrides', index, 'set', 'volumes'] }))
    for (const { volumes, at } of volumeLists) {
      if (!Array.isArray(volumes)) continue
      volumes.forEach((volume, index) => {
        const bind = bindSource(volume)
        if (bind !== null && /(^|\/)\.\.(\/|$)/.test(bind)) {
          issues.push(issueAt(source, [...at, index], 'bind mount source must not climb out with ..', { allowed: 'an absolute path, or ./path inside the host base directory', got: describeValue(bind) }))
        }
      })
    }
  }
  // Published ports per host, after each host's overrides.
  for (const hostName of order) {
    const seen: { port: PublishedPort; service: string }[] = []
    for (const service of Object.values(services)) {
      if (!service.hosts.includes(hostName)) continue
      const definition = serviceForHost(service, hosts[hostName]!, hosts, order)
      for (const port of publishedPorts(definition.ports)) {
        const clash = seen.find((s) => portsOverlap(s.port, port))
        if (clash) {
          const { source, path } = origins.get(`service:${service.name}`)!
          issues.push(
            issueAt(source, [...path, 'ports', port.index], `host "${hostName}" already publishes ${port.protocol} port ${port.from} for service "${clash.service}"`, {
              allowed: 'one service per published port on a host',
              got: `${port.from}/${port.protocol}`,
            }),
          )
        } else seen.push({ port, service: service.name })
      }
    }
  }
  issues.push(...cycleIssues(services, origins))
  return issues
}

function cycleIssues(services: Record<string, Service>, origins: Map<string, Origin>): Issue[] {
  const edges = new Map<string, string[]>()
  for (const service of Object.values(services)) edges.set(service.name, service.requires.filter((r) => services[r] !== undefined && r !== service.name))
  return findCycles(edges).map((cycle) => {
    const { source, path } = origins.get(`service:${cycle[0]!}`)!
    return issueAt(source, [...path, 'x-ai-platform', 'requires'], `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`, { allowed: 'requires without cycles' })
  })
}

function modelRules(models: Record<string, Model>, hosts: Record<string, Host>, order: string[], services: Record<string, Service>, origins: Map<string, Origin>): Issue[] {
  const issues: Issue[] = []
  const ollamaHosts = new Set(Object.values(services).filter((s) => s.health.some((c) => c.ollama)).flatMap((s) => s.hosts))
  for (const model of Object.values(models)) {
    const { source, path } = origins.get(`model:${model.name}`)!
    if (model.placement) {
      const selection = selectHosts(model.placement, hosts, order)
      issues.push(...selectionIssues(source, [...path, 'placement'], model.placement, selection, order))
      for (const hostName of selection.hosts) {
        if (!ollamaHosts.has(hostName)) {
          issues.push(issueAt(source, [...path, 'placement'], `places the model on "${hostName}", which runs no Ollama service`, { allowed: [...ollamaHosts].join(', ') || 'none', got: hostName }))
        }
      }
    }
    model.fallbacks.forEach((fallback, index) => {
      if (!models[fallback]) issues.push(issueAt(source, [...path, 'fallbacks', index], 'unknown model', { allowed: Object.keys(models).join(', '), got: JSON.stringify(fallback) }))
    })
  }
  for (const name of order) {
    const { source, path } = origins.get(`host:${name}`)!
    hosts[name]!.models.forEach((model, index) => {
      if (!models[model]) {
        issues.push(issueAt(source, [...path, 'models', index], 'unknown model: declare it under models:', { allowed: Object.keys(models).join(', ') || 'none declared', got: JSON.stringify(model) }))
      } else if (!ollamaHosts.has(name)) {
        issues.push(issueAt(source, [...path, 'models', index], 'this host runs no Ollama service to serve the model', { got: JSON.stringify(model) }))
      }
    })
  }
  return issues
}

function assignModels(hosts: Record<string, Host>, order: string[], models: Record<string, Model>): void {
  for (const model of Object.values(models)) {
    if (!model.placement) continue
    for (const name of selectHosts(model.placement, hosts, order).hosts) {
      const host = hosts[name]!
      if (!host.models.includes(model.name)) host.models.push(model.name)
    }
  }
  for (const name of order) hosts[name]!.models.sort()
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error')
}
