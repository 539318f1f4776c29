// inventory + stacks + templates -> per-host files. Pure and deterministic: same input, same bytes.
import { createHash } from 'node:crypto'
import type { Issue } from '../errors.js'
import {
  checkPorts,
  composeVariables,
  isPlainObject,
  loopbackPorts,
  replicasOf,
  walkStrings,
} from '../config/compose.js'
import type { Origin } from '../config/origins.js'
import { serviceForHost } from '../config/service-for-host.js'
import type { HealthCheck, Host, OllamaSettings, Project, Service } from '../config/model.js'
import type { PathSegment } from '../config/source.js'
import { describeValue, issueAt } from '../config/source.js'
import { imageProblemMessage, imageReferenceProblem } from '../config/image-ref.js'
import { fleetContext, hostView, type FleetContext } from './context.js'
import { FILES, TemplateEngine } from '../util/template.js'
import { emitYaml } from './yaml-emit.js'
import { imageBuilds, pinnedImages } from './image-build.js'

export const COMPOSE_FILE = 'compose.yaml'
export const ENV_FILE = '.env'
const LABEL_PREFIX = 'ai-platform'

export interface RenderedFile {
  /** Path relative to the host's base directory. */
  path: string
  content: string
  sha256: string
  mode: string
}

export interface RenderedService {
  name: string
  stack: string
  tier: Service['tier']
  phase: Service['phase']
  image: string
  oneshot: boolean
  /** Compose's deploy.replicas on this host: 0 is not running by design. */
  replicas: number
  /** Replaced batch by batch when its definition changes (x-ai-platform.rollout). */
  rollout?: { batch: number; pauseS: number }
  hasHealthcheck: boolean
  /** Its declared checks, recorded with the release so that a rollback is judged by the release's own. */
  health: HealthCheck[]
  /** The checks' ports this host publishes on its loopback only (reached through SSH). */
  loopbackPorts: number[]
}

export interface HostRender {
  host: string
  composeProject: string
  compose: RenderedFile
  /** Config files, content-addressed: `files/<key>/<path>` (fileKey), so a change recreates only the services that mount it. */
  files: RenderedFile[]
  /** Names of the secrets this host's services use (values only ever go to the host's .env). */
  secrets: string[]
  services: RenderedService[]
  /** Hash over every non-secret file and the secret names: equal hashes mean nothing to deploy. */
  hash: string
}

export interface RenderOptions {
  origins?: ReadonlyMap<string, Origin>
  context?: FleetContext
  engine?: TemplateEngine
  /** Service -> the ref of the image built from its source (imageBuilds): read once per run. */
  pinned?: ReadonlyMap<string, string>
}

export interface RenderResult {
  renders: HostRender[]
  issues: Issue[]
}

export function renderHosts(project: Project, hostNames: readonly string[], options: RenderOptions = {}): RenderResult {
  const context = options.context ?? fleetContext(project)
  const engine = options.engine ?? new TemplateEngine()
  const renders: HostRender[] = []
  const issues: Issue[] = []
  const pinned = options.pinned ?? pinImages(project, options, issues)
  if (!pinned) return { renders, issues }
  for (const name of hostNames) {
    const result = renderHost(project, name, { ...options, context, engine, pinned })
    issues.push(...result.issues)
    if (result.render) renders.push(result.render)
  }
  return { renders, issues }
}

export function renderHost(
  project: Project,
  hostName: string,
  options: RenderOptions = {},
): { render: HostRender | null; issues: Issue[] } {
  const host = project.hosts[hostName]
  if (!host) throw new Error(`renderHost: unknown host ${hostName}`)
  const fleet = options.context ?? fleetContext(project)
  const engine = options.engine ?? new TemplateEngine()
  const fileTargets = new Map<string, string>()
  const context = { ...fleet, host: hostView(host, project), [FILES]: fileTargets }
  const issues: Issue[] = []
  const pinned = options.pinned ?? pinImages(project, options, issues)
  if (!pinned) return { render: null, issues }
  const locate = (
    key: string,
    path: PathSegment[],
    message: string,
    extra: { allowed?: string; got?: string } = {},
  ): Issue => {
    const origin = options.origins?.get(key)
    if (origin) return issueAt(origin.source, [...origin.path, ...path], message, extra)
    return { file: key, line: 1, col: 1, path: path.join('.'), message, severity: 'error', ...extra }
  }

  // Config files first: services mount them by path.
  const files: RenderedFile[] = []
  const stacks = project.stacks.filter((s) => s.hosts.includes(hostName))
  for (const stack of stacks) {
    stack.files.forEach((file, index) => {
      if (fileTargets.has(file.path)) {
        issues.push(
          locate(
            `stack:${stack.name}`,
            ['x-ai-platform', 'files', index, 'path'],
            `host "${hostName}" already gets a file at this path from another stack`,
            { got: JSON.stringify(file.path) },
          ),
        )
        return
      }
      const text = project.templates[file.template]
      if (text === undefined) return // reported by validation
      const result = engine.render(`templates/${file.template}`, text, context)
      if (!result.ok) {
        issues.push({ ...result.issue, message: `${result.issue.message} (rendering for host ${hostName})` })
        fileTargets.set(file.path, `${host.baseDir}/files/unrendered/${file.path}`) // reported once, above
        return
      }
      const sha = sha256(result.text)
      // Keyed by path and mode as well as content: the same text at another path is another entry
      // (keyed by content alone, it was never uploaded there, and Docker bind-mounted an empty directory).
      const path = `files/${fileKey(file.path, file.mode, sha)}/${file.path}`
      files.push({ path, content: result.text, sha256: sha, mode: file.mode })
      fileTargets.set(file.path, `${host.baseDir}/${path}`)
    })
  }
  // Services.
  const services = Object.values(project.services)
    .filter((s) => s.hosts.includes(hostName))
    .sort((a, b) => a.name.localeCompare(b.name))
  const definitions = new Map<string, Record<string, unknown>>()
  for (const service of services) {
    const raw = serviceForHost(service, host, project.hosts, project.hostOrder)
    const interpolated = interpolate(raw, context, engine, (path, message, got, allowed) =>
      issues.push(
        locate(`service:${service.name}`, path, message, {
          ...(got !== undefined ? { got } : {}),
          ...(allowed !== undefined ? { allowed } : {}),
        }),
      ),
    )
    const built = pinned.get(service.name)
    // Built from source: the build's ref wins over any image an override sets.
    definitions.set(
      service.name,
      built ? { ...(interpolated as object), image: built } : (interpolated as Record<string, unknown>),
    )
    const image = (interpolated as Record<string, unknown>).image
    if (
      typeof raw.image === 'string' &&
      raw.image.includes('{{') &&
      typeof image === 'string' &&
      image !== raw.image &&
      composeVariables(image).length === 0
    ) {
      // Filled in per host, so checked here: the loader sees only the template.
      const problem = imageReferenceProblem(image)
      if (problem)
        issues.push(
          locate(
            `service:${service.name}`,
            imageSite(service, raw.image),
            `${imageProblemMessage(problem)} (rendered for host ${hostName})`,
            { allowed: problem.allowed, got: describeValue(image) },
          ),
        )
    }
  }
  const composeServices: Record<string, unknown> = {}
  for (const service of services) {
    composeServices[service.name] = finishService(service, definitions.get(service.name)!, definitions, host, project)
  }

  const volumes: Record<string, unknown> = {}
  const networks: Record<string, unknown> = {}
  for (const stack of stacks) {
    for (const [kind, target, source] of [
      ['volume', volumes, stack.volumes],
      ['network', networks, stack.networks],
    ] as const) {
      for (const [name, definition] of Object.entries(source)) {
        if (name in target && JSON.stringify(target[name]) !== JSON.stringify(definition)) {
          issues.push(
            locate(
              `stack:${stack.name}`,
              [`${kind}s`, name],
              `${kind} "${name}" is defined differently by another stack on host "${hostName}"`,
            ),
          )
        }
        target[name] = definition ?? {}
      }
    }
  }

  const document: Record<string, unknown> = { services: composeServices }
  if (Object.keys(volumes).length > 0) document.volumes = volumes
  if (Object.keys(networks).length > 0) document.networks = networks
  const header = `# Rendered by ai-platform for host ${hostName} (platform ${project.platform.name}).\n# Do not edit on the host: the next deploy replaces it.\n`
  const composeText = header + emitYaml(document)

  const secrets = new Set<string>()
  walkStrings(document, [], (text) => {
    for (const use of composeVariables(text)) if (project.platform.secrets[use.name]) secrets.add(use.name)
  })
  const secretNames = [...secrets].sort()

  if (issues.length > 0) return { render: null, issues }
  const compose: RenderedFile = { path: COMPOSE_FILE, content: composeText, sha256: sha256(composeText), mode: '0644' }
  // The checks are part of a release (its record carries them): changing one is a change to deploy.
  const checks = services
    .filter((s) => s.health.length > 0)
    .map((s) => `checks\0${s.name}\0${JSON.stringify(s.health)}`)
  const hashInput = [compose, ...files]
    .map((f) => `${f.path}\0${f.sha256}`)
    .concat(
      secretNames.map((s) => `secret\0${s}`),
      checks,
    )
  return {
    render: {
      host: hostName,
      composeProject: project.platform.composeProject,
      compose,
      files: files.sort((a, b) => a.path.localeCompare(b.path)),
      secrets: secretNames,
      services: services.map((s) => {
        const definition = composeServices[s.name] as Record<string, unknown>
        return {
          name: s.name,
          stack: s.stack,
          tier: s.tier,
          phase: s.phase,
          image: String(definition.image),
          oneshot: s.oneshot,
          replicas: replicasOf(definition),
          hasHealthcheck: isPlainObject(definition.healthcheck) && definition.healthcheck.disable !== true,
          health: s.health,
          loopbackPorts: loopbackPorts(checkPorts(s.health), definition.ports),
          ...(s.rollout ? { rollout: { ...s.rollout } } : {}),
        }
      }),
      hash: sha256(hashInput.join('\n')),
    },
    issues,
  }
}

/** The refs of the images built from source, or null with an issue when a build context cannot be read. */
function pinImages(project: Project, options: RenderOptions, issues: Issue[]): Map<string, string> | null {
  try {
    return pinnedImages(imageBuilds(project))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === undefined) throw error
    const service = Object.values(project.services).find((s) => s.build)
    const origin = service ? options.origins?.get(`service:${service.name}`) : undefined
    const message = `cannot read a build context: ${code} ${(error as NodeJS.ErrnoException).path ?? ''}`.trim()
    issues.push(
      origin
        ? issueAt(origin.source, [...origin.path, 'x-ai-platform', 'build'], message)
        : { file: 'stacks/', line: 1, col: 1, path: '', message, severity: 'error' },
    )
    return null
  }
}

/** A config file's directory in the host's store: 16 hex digits of sha256 over its path, mode and content. */
export function fileKey(path: string, mode: string, contentSha256: string): string {
  return sha256(`${path}\0${mode}\0${contentSha256}`).slice(0, 16)
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function interpolate(
  value: unknown,
  context: Record<string, unknown>,
  engine: TemplateEngine,
  report: (path: PathSegment[], message: string, got?: string, allowed?: string) => void,
  path: PathSegment[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value
    const result = engine.render('(stack value)', value, context)
    if (result.ok) return result.text
    report(path, result.issue.message, result.issue.got, result.issue.allowed)
    return value
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, context, engine, report, [...path, i]))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value))
      out[key] = interpolate(item, context, engine, report, [...path, key])
    return out
  }
  return value
}

/** Where the image a host gets was written: the service's own `image`, or the last override setting this text. */
function imageSite(service: Service, image: string): PathSegment[] {
  if (service.compose.image === image) return ['image']
  const index = service.overrides.findLastIndex((o) => o.set.image === image)
  return index === -1 ? ['image'] : ['x-ai-platform', 'overrides', index, 'set', 'image']
}

function toMap(value: unknown): Record<string, unknown> {
  if (isPlainObject(value)) return { ...value }
  const out: Record<string, unknown> = {}
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = String(item)
      const eq = text.indexOf('=')
      if (eq === -1) out[text] = null
      else out[text.slice(0, eq)] = text.slice(eq + 1)
    }
  }
  return out
}

/** Labels, restart policy, log rotation, GPU access, profiles and same-host ordering. */
function finishService(
  service: Service,
  definition: Record<string, unknown>,
  all: Map<string, Record<string, unknown>>,
  host: Host,
  project: Project,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...definition }
  out.labels = {
    ...toMap(definition.labels),
    [`${LABEL_PREFIX}.platform`]: project.platform.name,
    [`${LABEL_PREFIX}.host`]: host.name,
    [`${LABEL_PREFIX}.service`]: service.name,
    [`${LABEL_PREFIX}.stack`]: service.stack,
    [`${LABEL_PREFIX}.tier`]: service.tier,
    [`${LABEL_PREFIX}.phase`]: service.phase,
  }
  if (out.restart === undefined) out.restart = service.oneshot ? 'no' : 'unless-stopped'
  if (out.logging === undefined) out.logging = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } }
  if (service.tier === 'on-demand') {
    const profiles = Array.isArray(definition.profiles) ? (definition.profiles as string[]) : []
    out.profiles = [...new Set([...profiles, 'on-demand'])]
  }
  if (service.gpu && host.gpu) {
    if (host.gpu.vendor === 'nvidia') {
      const deploy = isPlainObject(out.deploy) ? { ...out.deploy } : {}
      const resources = isPlainObject(deploy.resources) ? { ...deploy.resources } : {}
      const reservations = isPlainObject(resources.reservations) ? { ...resources.reservations } : {}
      const devices = Array.isArray(reservations.devices) ? [...(reservations.devices as unknown[])] : []
      devices.push({ driver: 'nvidia', count: service.gpu.count, capabilities: ['gpu'] })
      reservations.devices = devices
      resources.reservations = reservations
      deploy.resources = resources
      out.deploy = deploy
    } else {
      const devices = Array.isArray(out.devices) ? (out.devices as string[]) : []
      out.devices = [...new Set([...devices, '/dev/kfd', '/dev/dri'])]
      // By number, from the inventory: a group name resolves in the image's /etc/group, which may
      // lack it or number it differently from the host's device nodes. None given, none added.
      const gids = [host.gpu.videoGid, host.gpu.renderGid].filter((gid): gid is number => gid !== undefined)
      if (gids.length > 0) {
        const groups = Array.isArray(out.group_add) ? (out.group_add as (string | number)[]) : []
        out.group_add = [...new Set([...groups, ...gids])]
      }
      const environment = toMap(out.environment)
      if (host.gpu.gfxVersion !== undefined) environment.HSA_OVERRIDE_GFX_VERSION ??= host.gpu.gfxVersion
      // ROCm sees the GPUs the service asked for, as NVIDIA's reservation count does: 0..n-1.
      const count = service.gpu.count === 'all' ? host.gpu.count : Math.min(service.gpu.count, host.gpu.count)
      environment.ROCR_VISIBLE_DEVICES ??= Array.from({ length: count }, (_, i) => i).join(',')
      out.environment = environment
    }
  }
  const knobs = host.ollama ? ollamaEnvironment(host.ollama) : {}
  if (Object.keys(knobs).length > 0 && service.health.some((c) => c.ollama))
    out.environment = { ...toMap(out.environment), ...knobs }
  // Requirements on this host become Compose depends_on; those on other hosts are ordered by the planner.
  const dependsOn = toDependsOn(definition.depends_on)
  for (const required of service.requires) {
    const target = all.get(required)
    if (!target || dependsOn[required]) continue
    const oneshot = project.services[required]?.oneshot === true
    const healthcheck = isPlainObject(target.healthcheck) && target.healthcheck.disable !== true
    dependsOn[required] = {
      condition: oneshot ? 'service_completed_successfully' : healthcheck ? 'service_healthy' : 'service_started',
    }
  }
  if (Object.keys(dependsOn).length > 0) out.depends_on = dependsOn
  return out
}

function toDependsOn(value: unknown): Record<string, { condition: string }> {
  if (Array.isArray(value))
    return Object.fromEntries(value.map((name) => [String(name), { condition: 'service_started' }]))
  if (isPlainObject(value)) return { ...(value as Record<string, { condition: string }>) }
  return {}
}

/** A node's Ollama settings (inventory `ollama:`) as the server reads them from its environment. */
function ollamaEnvironment(settings: OllamaSettings): Record<string, string> {
  const env: Record<string, string> = {}
  if (settings.numParallel !== undefined) env.OLLAMA_NUM_PARALLEL = String(settings.numParallel)
  if (settings.maxLoadedModels !== undefined) env.OLLAMA_MAX_LOADED_MODELS = String(settings.maxLoadedModels)
  if (settings.maxQueue !== undefined) env.OLLAMA_MAX_QUEUE = String(settings.maxQueue)
  if (settings.keepAlive !== undefined) env.OLLAMA_KEEP_ALIVE = settings.keepAlive
  if (settings.flashAttention !== undefined) env.OLLAMA_FLASH_ATTENTION = settings.flashAttention ? '1' : '0'
  return env
}
