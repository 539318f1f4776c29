// Day-two reads over the pooled connections: preflight, status, locks, history. Nothing here changes a host
// except `releaseLocks`.
import type { ConfirmChange } from '../cli/confirm.js'
import type { Project, Tier } from '../config/model.js'
import { errorMessage } from '../errors.js'
import { resolveTargets } from '../plan/plan.js'
import { forceReleaseLock, readHistory } from '../remote/commands.js'
import { connector, type ConnectChoices, type Connector } from '../remote/connect.js'
import { listProject, replicaSummary, STOPPED_ON_DEMAND, type ContainerState } from '../deploy/containers.js'
import { replicasOn } from '../config/service-for-host.js'
import { gatherFacts, quickFacts, type PreflightCheck } from '../deploy/preflight.js'
import { describeHolder, holderRunning } from '../deploy/lock-holder.js'
import { whoAmI } from '../deploy/release.js'
import { readHostFleetReleases, type FleetRelease } from '../deploy/fleet-release.js'
import { REMOTE_WAIT_MS } from '../util/deadline.js'

export interface InspectOptions extends ConnectChoices {
  /** Each connection and each answer from a host (default REMOTE_WAIT_MS). */
  timeoutMs?: number
}

async function perHost<T>(
  project: Project,
  selectors: string[],
  work: (host: string, connections: Connector, timeoutMs: number) => Promise<T>,
  options: InspectOptions = {},
): Promise<T[]> {
  const hosts = resolveTargets(project, { selectors })
  const timeoutMs = options.timeoutMs ?? REMOTE_WAIT_MS
  const connections = connector(project, {
    acceptNew: options.acceptNew === true,
    attempts: 1,
    readyTimeoutMs: timeoutMs,
    redact: options.redact,
  })
  try {
    return await Promise.all(hosts.map((host) => work(host, connections, timeoutMs)))
  } finally {
    await connections.closeAll()
  }
}

export interface PreflightHost {
  host: string
  ok: boolean
  error?: string
  checks: PreflightCheck[]
}

export async function preflight(project: Project, selectors: string[], options: InspectOptions = {}) {
  const hosts = await perHost(
    project,
    selectors,
    async (host, connections, timeoutMs): Promise<PreflightHost> => {
      try {
        const exec = await connections.get(host)
        const { checks } = await gatherFacts(exec, project, host, timeoutMs)
        return {
          host,
          ok: checks.every((c) => c.ok),
          checks: [
            { name: 'ssh', ok: true, detail: exec.transport === 'local' ? 'local host, no SSH' : 'connected' },
            ...checks,
          ],
        }
      } catch (error) {
        return {
          host,
          ok: false,
          error: errorMessage(error),
          checks: [{ name: 'ssh', ok: false, detail: errorMessage(error) }],
        }
      }
    },
    options,
  )
  return { kind: 'ai-platform/preflight' as const, ok: hosts.every((h) => h.ok), hosts }
}

export interface StatusHost {
  host: string
  reachable: boolean
  error?: string
  release: { id: string; createdAt: string; by: string; hash: string } | null
  compose: string | null
  lock: { holder: string; since: string | null; command: string | null } | null
  /** Each service placed on the host (one-shot ones aside): replicas running of those declared. */
  services: StatusService[]
  containers: { service: string; name: string; state: string; health: string; image: string; status: string }[]
}

export interface StatusService {
  service: string
  running: number
  replicas: number
  /**
   * A replica's state when one is not running, else the newest's; `missing`; by design `scaled to 0`,
   * or `stopped (on demand)` for an on-demand service that runs nothing.
   */
  state: string
  tier: Tier
}

/** Running/declared per service a host should run, read from its containers. */
export function statusServices(project: Project, host: string, containers: readonly ContainerState[]): StatusService[] {
  const at = project.hosts[host]!
  return Object.values(project.services)
    .filter((s) => s.hosts.includes(host) && !s.oneshot)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => {
      const expected = { name: s.name, oneshot: false, replicas: replicasOn(s, at, project.hosts, project.hostOrder) }
      const { running, replicas, state } = replicaSummary(expected, containers)
      // no container at all: an exited or crash-looping one after `up` is shown as what it is
      const stopped = s.tier === 'on-demand' && !containers.some((c) => c.service === s.name)
      return { service: s.name, running, replicas, state: stopped ? STOPPED_ON_DEMAND : state, tier: s.tier }
    })
}

export async function status(project: Project, selectors: string[], options: InspectOptions = {}) {
  const hosts = await perHost(
    project,
    selectors,
    async (host, connections, timeoutMs): Promise<StatusHost> => {
      try {
        const exec = await connections.get(host)
        const [{ facts, lock }, containers] = await Promise.all([
          gatherFacts(exec, project, host, timeoutMs),
          listProject(exec, project.platform.composeProject, { timeoutMs }),
        ])
        const current = facts?.current ?? null
        return {
          host,
          reachable: true,
          release: current
            ? {
                id: current.id,
                createdAt: current.createdAt,
                by: `${current.by.user}@${current.by.machine}`,
                hash: current.hash,
              }
            : null,
          compose: facts ? `${facts.compose.variant} ${facts.compose.version}` : null,
          lock: lock ? { holder: lock.who, since: lock.since, command: lock.command } : null,
          services: statusServices(project, host, containers),
          containers: containers
            .sort((a, b) => a.service.localeCompare(b.service))
            .map((c) => ({
              service: c.service,
              name: c.name,
              state: c.state,
              health: c.health,
              image: c.image,
              status: c.status,
            })),
        }
      } catch (error) {
        return {
          host,
          reachable: false,
          error: errorMessage(error),
          release: null,
          compose: null,
          lock: null,
          services: [],
          containers: [],
        }
      }
    },
    options,
  )
  return { kind: 'ai-platform/status' as const, hosts }
}

export interface LockHost {
  host: string
  reachable: boolean
  error?: string
  /** pidRunning: whether the holder's process runs, known only for a holder on this machine (else null). */
  lock: { holder: string; since: string | null; command: string | null; pidRunning: boolean | null } | null
}

/** Who holds each host's lock: only the lock is read, so a host whose Docker is down still answers. */
export async function lockStatus(project: Project, selectors: string[], options: InspectOptions = {}) {
  const { machine } = whoAmI()
  const hosts = await perHost(
    project,
    selectors,
    async (host, connections, timeoutMs): Promise<LockHost> => {
      try {
        const exec = await connections.get(host)
        const { lock } = await quickFacts(exec, project.hosts[host]!.baseDir, timeoutMs)
        if (!lock) return { host, reachable: true, lock: null }
        const running = holderRunning(lock, machine)
        return {
          host,
          reachable: true,
          lock: {
            holder: describeHolder(lock, host, running),
            since: lock.since,
            command: lock.command,
            pidRunning: running,
          },
        }
      } catch (error) {
        return { host, reachable: false, error: errorMessage(error), lock: null }
      }
    },
    options,
  )
  return { kind: 'ai-platform/locks' as const, ok: hosts.every((h) => h.reachable), hosts }
}

/** Removes the deploy lock, whoever holds it: `confirm` is asked first, with the hosts it would unlock. */
export async function releaseLocks(
  project: Project,
  selectors: string[],
  options: InspectOptions & { confirm: ConfirmChange },
) {
  await options.confirm({
    action: 'Remove the deploy lock, whoever holds it, on',
    hosts: resolveTargets(project, { selectors }),
  })
  const hosts = await perHost(
    project,
    selectors,
    async (host, connections, timeoutMs) => {
      try {
        const exec = await connections.get(host)
        const before = (await gatherFacts(exec, project, host, timeoutMs)).lock
        await exec.run(forceReleaseLock(project.hosts[host]!.baseDir), { timeoutMs })
        return { host, released: before !== null, holder: before?.who ?? null }
      } catch (error) {
        return { host, released: false, holder: null, error: errorMessage(error) }
      }
    },
    options,
  )
  return { kind: 'ai-platform/lock-release' as const, ok: hosts.every((h) => !('error' in h)), hosts }
}

export async function hostHistory(
  project: Project,
  selectors: string[],
  options: InspectOptions & { limit?: number } = {},
) {
  const read = async (host: string, connections: Connector, timeoutMs: number) => {
    try {
      const exec = await connections.get(host)
      const result = await exec.run(readHistory(project.hosts[host]!.baseDir, options.limit ?? 1000), {
        check: false,
        timeoutMs,
      })
      const entries = result.code === 0 ? parseHistory(result.stdout) : []
      return { host, entries }
    } catch (error) {
      return { host, entries: [], error: errorMessage(error) }
    }
  }
  return perHost(project, selectors, read, options)
}

/** Each host's own record of the fleet releases it took part in (its newest `limit`). */
export async function hostFleetReleases(
  project: Project,
  selectors: string[],
  options: InspectOptions & { limit: number },
): Promise<{ host: string; releases: FleetRelease[]; rejected: number; error?: string }[]> {
  return perHost(
    project,
    selectors,
    (host, connections, timeoutMs) => readHostFleetReleases(connections, project, host, options.limit, timeoutMs),
    options,
  )
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** history.jsonl as the host sent it: one JSON object per line; other lines are skipped. */
export function parseHistory(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').flatMap((line) => {
    if (line.trim() === '') return []
    try {
      const value: unknown = JSON.parse(line)
      return isRecord(value) ? [value] : []
    } catch {
      return []
    }
  })
}
