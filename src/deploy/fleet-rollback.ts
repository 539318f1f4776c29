// `ai-platform rollback --fleet [ID]`: every host of a fleet release back on the release it ran then.
// Planned before anything changes: each host's current release and the releases it keeps are read, a
// host that no longer keeps its release (or whose release the record does not know) refuses the whole
// rollback, hosts already there are left alone. Then host by host in reverse dependency order (a host
// goes back before those it depends on), each under its lock and gated on its release's own checks
// (rollbackHost); the first that fails stops the run, back on the release it ran, and the hosts not
// started are reported as such: no host is left half-switched.
import { UserError } from '../errors.js'
import type { Project } from '../config/model.js'
import { hostDependencies } from '../config/host-dependencies.js'
import { readReleases } from '../remote/commands.js'
import type { Connector } from '../remote/connect.js'
import { layer } from '../util/graph.js'
import { errorMessage } from '../errors.js'
import { quickFacts } from './preflight.js'
import { parseKept, rollbackHost, type RollbackOptions } from './rollback.js'
import type { HostInput } from './engine.js'
import type { FleetRelease } from './fleet-release.js'

export interface FleetRollbackHost {
  host: string
  /** What it runs now (null: nothing, or unreadable). */
  from: string | null
  to: string
  action: 'rollback' | 'already'
}

export interface FleetRollbackPlan {
  target: FleetRelease
  /** In the order they go back: reverse dependency order. */
  hosts: FleetRollbackHost[]
}

/**
 * The fleet release to go back to: ID when given, else the one before the newest (the platform before
 * the last change). `releases` oldest first, as mergeFleetReleases gives them.
 */
export function pickFleetRelease(releases: readonly FleetRelease[], id: string | null): FleetRelease {
  if (releases.length === 0)
    throw new UserError(
      'no fleet release is recorded, here or on the hosts',
      'A deploy that changes a host records one; `ai-platform releases --remote` lists them.',
    )
  if (id !== null) {
    const found = releases.find((r) => r.id === id)
    if (!found)
      throw new UserError(
        `no fleet release ${id}`,
        `Known: ${releases
          .slice(-5)
          .map((r) => r.id)
          .join(', ')} (\`ai-platform releases --remote\` lists them all).`,
      )
    return found
  }
  if (releases.length < 2)
    throw new UserError(
      `${releases[0]!.id} is the only fleet release: there is none before it to go back to`,
      'Name one with `rollback --fleet ID`.',
    )
  return releases[releases.length - 2]!
}

/** Hosts in the order a rollback takes them: those that depend on others first (reverse waves). */
export function reverseDependencyOrder(project: Pick<Project, 'services' | 'hostOrder'>, hosts: string[]): string[] {
  const inSet = new Set(hosts)
  const deps = hostDependencies(project)
  const dependsOn = new Map(hosts.map((h) => [h, (deps.get(h) ?? []).map((e) => e.host).filter((d) => inSet.has(d))]))
  const order = project.hostOrder.filter((h) => inSet.has(h))
  return layer(dependsOn, order).reverse().flat()
}

/** Reads every host of the fleet release and decides; refuses (UserError) before anything changes. */
export async function planFleetRollback(
  project: Project,
  target: FleetRelease,
  connections: Connector,
): Promise<FleetRollbackPlan> {
  const unknown = target.hosts.filter((h) => !project.hosts[h.host]).map((h) => h.host)
  if (unknown.length > 0)
    throw new UserError(
      `${target.id} names hosts the inventory no longer has: ${unknown.join(', ')}`,
      'Put them back in inventory/hosts.yaml to roll them back, or roll back the others one by one.',
    )
  const unnamed = target.hosts.filter((h) => h.release === null).map((h) => `${h.host} (${h.status})`)
  if (unnamed.length > 0)
    throw new UserError(
      `${target.id} does not name the release of ${unnamed.join(', ')}: it cannot be restored as recorded`,
      'Pick another fleet release (`ai-platform releases`), or roll back hosts one by one.',
    )
  const read = await Promise.all(
    target.hosts.map(async (h) => {
      const exec = await connections.get(h.host)
      const baseDir = project.hosts[h.host]!.baseDir
      const [facts, kept] = await Promise.all([
        quickFacts(exec, baseDir),
        exec.run(readReleases(baseDir), { timeoutMs: 30_000 }),
      ])
      const releases = parseKept(kept.stdout).releases.map((r) => r.id)
      return { host: h.host, to: h.release!, from: facts.current?.id ?? null, keeps: releases.includes(h.release!) }
    }),
  )
  const gone = read.filter((r) => !r.keeps && r.from !== r.to)
  if (gone.length > 0)
    throw new UserError(
      `${gone.map((r) => `${r.host} no longer keeps ${r.to}`).join('; ')}: nothing was changed`,
      'Releases beyond platform.releases_keep are pruned; roll the other hosts back one by one, or pick a newer fleet release.',
    )
  const byHost = new Map(read.map((r) => [r.host, r]))
  const order = reverseDependencyOrder(
    project,
    read.map((r) => r.host),
  )
  return {
    target,
    hosts: order.map((host) => {
      const r = byHost.get(host)!
      return { host, from: r.from, to: r.to, action: r.from === r.to ? 'already' : 'rollback' }
    }),
  }
}

export interface FleetRollbackResult {
  host: string
  from: string | null
  to: string
  status: 'rolled-back' | 'already' | 'failed' | 'not-started'
  error?: string
}

/** Goes host by host in the plan's order; stops at the first failure (that host is back where it was). */
export async function runFleetRollback(
  input: HostInput,
  options: RollbackOptions,
  plan: FleetRollbackPlan,
  log: (line: string) => void,
): Promise<FleetRollbackResult[]> {
  const results: FleetRollbackResult[] = []
  let stopped = false
  for (const h of plan.hosts) {
    if (h.action === 'already') {
      results.push({ host: h.host, from: h.from, to: h.to, status: 'already' })
      continue
    }
    if (stopped || options.abort.aborted) {
      results.push({ host: h.host, from: h.from, to: h.to, status: 'not-started' })
      continue
    }
    log(`${h.host}: rolling back from ${h.from ?? 'nothing'} to ${h.to}`)
    try {
      await rollbackHost(input, options, h.host, h.to)
      results.push({ host: h.host, from: h.from, to: h.to, status: 'rolled-back' })
      log(`${h.host}: on ${h.to}, healthy`)
    } catch (error) {
      stopped = true
      // the message and how the host is left (rollbackHost's hint: back on what it ran, healthy or not)
      const hint = error instanceof UserError && error.hint ? ` ${error.hint}` : ''
      const message = input.redact(`${errorMessage(error)}${hint}`)
      results.push({ host: h.host, from: h.from, to: h.to, status: 'failed', error: message })
      log(`${h.host}: FAILED: ${message}`)
    }
  }
  return results
}
