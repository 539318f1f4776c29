// The pure planner: targets -> host dependency graph -> waves. `plan --json`, `deploy --dry-run` and
// `deploy` all use the object built here: one plan, whatever runs it.
import { UserError } from '../errors.js'
import type { Phase, Project } from '../config/model.js'
import { PHASES } from '../config/model.js'
import type { HostRender } from '../render/render.js'
import { hostCycles, hostDependencies, type HostEdge } from '../config/host-dependencies.js'
import { findCycles, layer } from '../util/graph.js'

export interface PlanService {
  name: string
  image: string
  stack: string
  tier: string
  phase: string
  oneshot: boolean
}

export interface PlanHost {
  name: string
  wave: number
  transport: 'ssh' | 'local'
  address: string
  user: string | null
  port: number | null
  baseDir: string
  dependsOn: HostEdge[]
  hash: string
  services: PlanService[]
  files: { path: string; sha256: string; bytes: number }[]
  /** Secret names only: values never leave the secrets file except into the host's .env. */
  secrets: string[]
}

/** A stack's bound on its hosts deploying at once, and the hosts of this plan it bounds (plan order). */
export interface StackLimit {
  stack: string
  maxUnavailableHosts: number
  hosts: string[]
}

export interface Plan {
  kind: 'ai-platform/plan'
  version: 1
  platform: string
  /** The platform directory. */
  project: string
  /** True when no platform was chosen and the bundled reference platform is planned (the printer says so). */
  bundled: boolean
  composeProject: string
  targets: { selectors: string[]; phase: Phase | null; withDeps: boolean }
  waves: { wave: number; hosts: string[] }[]
  hosts: PlanHost[]
  /** Stacks with `max_unavailable_hosts` that run on a host of this plan: the deploy honours each. */
  limits: StackLimit[]
  summary: { hosts: number; waves: number; services: number; files: number }
}

export interface TargetOptions {
  selectors: readonly string[]
  phase?: Phase | undefined
  withDeps?: boolean | undefined
}

export function resolveTargets(project: Project, options: TargetOptions): string[] {
  const selectors = options.selectors.length > 0 ? options.selectors : ['all']
  const picked = new Set<string>()
  const unknown: string[] = []
  for (const selector of selectors) {
    if (selector === 'all') {
      project.hostOrder.forEach((h) => picked.add(h))
    } else if (selector.startsWith('@')) {
      const tag = selector.slice(1)
      const tagged = project.hostOrder.filter((h) => project.hosts[h]!.tags.includes(tag))
      if (tagged.length === 0) unknown.push(selector)
      tagged.forEach((h) => picked.add(h))
    } else if (project.hosts[selector]) {
      picked.add(selector)
    } else {
      unknown.push(selector)
    }
  }
  if (unknown.length > 0) {
    const tags = [...new Set(project.hostOrder.flatMap((h) => project.hosts[h]!.tags))].sort()
    throw new UserError(
      `unknown target${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
      `Targets are host names (${project.hostOrder.join(', ')}), tags (${tags.map((t) => `@${t}`).join(', ')}) or all.`,
    )
  }
  let hosts = project.hostOrder.filter((h) => picked.has(h))
  if (options.phase !== undefined) {
    if (!PHASES.includes(options.phase))
      throw new UserError(`unknown phase: ${options.phase}`, `Phases are ${PHASES.join(', ')}.`)
    const phase = options.phase
    hosts = hosts.filter((h) => Object.values(project.services).some((s) => s.phase === phase && s.hosts.includes(h)))
  }
  if (options.withDeps === true) {
    const deps = hostDependencies(project)
    const queue = [...hosts]
    const all = new Set(hosts)
    while (queue.length > 0) {
      for (const edge of deps.get(queue.shift()!) ?? []) {
        if (!all.has(edge.host)) {
          all.add(edge.host)
          queue.push(edge.host)
        }
      }
    }
    hosts = project.hostOrder.filter((h) => all.has(h))
  }
  if (hosts.length === 0) {
    throw new UserError(`no hosts match ${selectors.join(' ')}${options.phase ? ` in phase ${options.phase}` : ''}`)
  }
  return hosts
}

export function buildPlan(project: Project, renders: readonly HostRender[], options: TargetOptions): Plan {
  const hosts = renders.map((r) => r.host)
  const deps = hostDependencies(project)
  const inPlan = new Set(hosts)
  const dependsOn = new Map<string, string[]>(
    hosts.map((h) => [
      h,
      deps
        .get(h)!
        .map((e) => e.host)
        .filter((d) => inPlan.has(d)),
    ]),
  )
  const cycles = findCycles(dependsOn)
  if (cycles.length > 0) {
    throw new UserError(
      `host dependency cycle: ${
        hostCycles(project)
          .map((c) => c.description)
          .join('; ') || cycles.map((c) => c.join(' -> ')).join('; ')
      }`,
    )
  }
  const waves = layer(dependsOn, hosts)
  const waveOf = new Map<string, number>()
  waves.forEach((wave, i) => wave.forEach((h) => waveOf.set(h, i + 1)))
  const planHosts: PlanHost[] = renders.map((render) => {
    const host = project.hosts[render.host]!
    const files = [render.compose, ...render.files]
    return {
      name: host.name,
      wave: waveOf.get(host.name)!,
      transport: host.local ? 'local' : 'ssh',
      address: host.address,
      user: host.local ? null : (host.ssh.user ?? null),
      port: host.local ? null : (host.ssh.port ?? null),
      baseDir: host.baseDir,
      dependsOn: deps.get(host.name)!.map((e) => ({ host: e.host, because: e.because.map((b) => ({ ...b })) })),
      hash: render.hash,
      services: render.services.map((s) => ({
        name: s.name,
        image: s.image,
        stack: s.stack,
        tier: s.tier,
        phase: s.phase,
        oneshot: s.oneshot,
      })),
      files: files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: Buffer.byteLength(f.content) })),
      secrets: [...render.secrets],
    }
  })
  planHosts.sort((a, b) => a.wave - b.wave || hosts.indexOf(a.name) - hosts.indexOf(b.name))
  const limits = project.stacks.flatMap((stack): StackLimit[] => {
    if (stack.maxUnavailableHosts === undefined) return []
    const bounded = planHosts.filter((h) => h.services.some((s) => s.stack === stack.name)).map((h) => h.name)
    return bounded.length > 0
      ? [{ stack: stack.name, maxUnavailableHosts: stack.maxUnavailableHosts, hosts: bounded }]
      : []
  })
  return {
    kind: 'ai-platform/plan',
    version: 1,
    platform: project.platform.name,
    project: project.dir,
    bundled: project.bundled,
    composeProject: project.platform.composeProject,
    targets: {
      selectors: options.selectors.length > 0 ? [...options.selectors] : ['all'],
      phase: options.phase ?? null,
      withDeps: options.withDeps === true,
    },
    waves: waves.map((w, i) => ({ wave: i + 1, hosts: [...w] })),
    hosts: planHosts,
    limits,
    summary: {
      hosts: planHosts.length,
      waves: waves.length,
      services: planHosts.reduce((n, h) => n + h.services.length, 0),
      files: planHosts.reduce((n, h) => n + h.files.length, 0),
    },
  }
}
