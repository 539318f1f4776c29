// What deploy and rollback do to one host beyond running a builder: take its lock (reading its facts
// under it), record a history line and prune, wait for health. Decisions are made elsewhere, from
// what these return.
import type { Project } from '../config/model.js'
import { UserError } from '../errors.js'
import { HttpPool, serviceChecks, type CheckedService } from '../health/checks.js'
import {
  acquireLock,
  heartbeatLock,
  parseRecorded,
  pruneReleases,
  recordHistory,
  takeOverLock,
  type LockInfo,
} from '../remote/commands.js'
import type { Executor } from '../remote/executor.js'
import { factsScript } from '../remote/facts.js'
import { NoAnswer, readWithin, REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'
import { retry } from '../util/retry.js'
import {
  containerLogTail,
  evaluateReadiness,
  listProject,
  replicaSummary,
  type ContainerState,
  type ExpectedService,
} from './containers.js'
import { parseHistoryEntries, releasesToPrune } from './history.js'
import { describeHolder, holderRunning, parseHolder, type LockHolder } from './lock-holder.js'
import { processAlive } from '../util/process-alive.js'
import { gatherFacts, parseQuickFacts, type HostFacts, type QuickFacts } from './preflight.js'
import type { DeployInput } from './engine.js'
import type { ReleaseRecord } from './release.js'
import { recordedReplicas, whoAmI } from './release.js'
import type { HostRender } from '../render/render.js'

/** A step on a host failed for a reason already worded for the user (host first). */
export class StepFailure extends Error {}

export interface LockOptions {
  lockWaitS: number
  lockStaleS: number
  command: string
  stop: AbortSignal
}

/** A lock whose holder has not written a heartbeat for this long is stale: any taker may break it. */
export const LOCK_STALE_S = 15 * 60

/**
 * Keeps a held lock fresh (a heartbeat a minute, each failure ignored: the next one may pass, and a
 * lock lost to a breaker is found by the release): returns the function that stops it.
 */
export function keepLockFresh(exec: Executor, baseDir: string, token: string): () => void {
  const timer = setInterval(
    () => void exec.run(heartbeatLock(baseDir, token), { check: false, timeoutMs: 20_000 }).catch(() => undefined),
    60_000,
  )
  return () => clearInterval(timer)
}

export function lockToken(): string {
  return `${whoAmI().machine}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2, 10)}`
}

/**
 * Takes the host's deploy lock, waiting up to --lock-wait, and returns what the host runs as read
 * under the lock: another deploy may have landed while this one waited.
 */
export async function lockHost(
  exec: Executor,
  host: { name: string; baseDir: string },
  token: string,
  options: LockOptions,
): Promise<QuickFacts> {
  const { user, machine } = whoAmI()
  const info: LockInfo = {
    token,
    user,
    machine,
    pid: process.pid,
    command: options.command,
    since: new Date().toISOString(),
  }
  const facts = factsScript({ baseDir: host.baseDir, mounts: [], gpu: null, full: false })
  const attempt = async (): Promise<QuickFacts> => {
    const result = await exec.run(acquireLock(host.baseDir, info, options.lockStaleS, facts), { timeoutMs: 30_000 })
    if (result.stdout.startsWith('acquired')) return parseQuickFacts(result.stdout)
    const holder = parseHolder(result.stdout)
    // A deploy from this machine whose process is gone (killed, or cut off from the host) cannot
    // release its lock: it is stale now, not in 15 minutes.
    if (holder.machine === machine && holder.pid !== null && holder.token && !processAlive(holder.pid)) {
      const taken = await exec.run(takeOverLock(host.baseDir, info, holder.token, facts), {
        timeoutMs: 30_000,
        check: false,
      })
      if (taken.stdout.startsWith('acquired')) return parseQuickFacts(taken.stdout)
    }
    throw new LockHeld(holder)
  }
  try {
    // Jittered: deploys waiting for the same lock do not all ask again at the same moment.
    return await retry(attempt, {
      attempts: Infinity,
      ...LOCK_POLL,
      deadline: Date.now() + options.lockWaitS * 1000,
      signal: options.stop,
      retryable: (error) => error instanceof LockHeld,
    })
  } catch (error) {
    if (!(error instanceof LockHeld)) throw error
    const holder = error.holder
    throw new UserError(
      `${host.name} is locked by ${describeHolder(holder, host.name, holderRunning(holder, machine))}${holder.since ? ` since ${holder.since}` : ''}${holder.command ? ` (${holder.command})` : ''}`,
      options.lockWaitS > 0
        ? `Still locked after waiting ${options.lockWaitS} s. If that deploy is dead, \`ai-platform lock release ${host.name}\` frees it.`
        : `Wait for it with --lock-wait SECONDS, or if that deploy is dead, \`ai-platform lock release ${host.name}\`.`,
    )
  }
}

/** Another deploy holds the lock: worth asking again until --lock-wait runs out. */
class LockHeld extends Error {
  constructor(readonly holder: LockHolder) {
    super('locked')
  }
}

/** How often a waiting deploy asks for a held lock again. */
const LOCK_POLL = { baseMs: 250, capMs: 2000 }

/**
 * Appends a history line, then prunes: `keep` releases stay, the live one and healthy ones first. Only
 * the line counts: a prune that fails (a file the deploy user cannot remove) is retried by the next
 * record, never a reason to roll back a healthy host.
 */
export async function recordAndPrune(exec: Executor, baseDir: string, line: string, keep: number): Promise<void> {
  const recorded = await exec.run(recordHistory(baseDir, line), { timeoutMs: 30_000 })
  const { live, releases, history } = parseRecorded(recorded.stdout)
  const prune = releasesToPrune(releases, live, parseHistoryEntries(history), keep)
  if (prune.length > 0)
    await exec.run(pruneReleases(baseDir, prune), { timeoutMs: 60_000, check: false }).catch(() => undefined)
}

/** What a host runs and how to judge it: the containers expected, and each service's own checks. */
export interface HealthTarget {
  host: string
  composeProject: string
  expected: ExpectedService[]
  /** null: the release recorded no checks (written by an older ai-platform): containers only. */
  checks: CheckedService[] | null
}

/** A release about to be deployed is judged by the checks the inventory declares now. */
export function renderTarget(render: HostRender): HealthTarget {
  const running = render.services.filter((s) => s.tier !== 'on-demand')
  return {
    host: render.host,
    composeProject: render.composeProject,
    expected: running.map((s) => ({ name: s.name, oneshot: s.oneshot, replicas: s.replicas })),
    // A service scaled to 0 has nothing to answer its checks.
    checks: running
      .filter((s) => !s.oneshot && s.replicas > 0 && s.health.length > 0)
      .map((s) => ({ name: s.name, health: s.health, loopbackPorts: s.loopbackPorts })),
  }
}

/** A release a host keeps is judged by the checks it was deployed with, from its record. */
export function recordTarget(host: string, record: ReleaseRecord): HealthTarget {
  const running = record.services.filter((s) => s.tier !== 'on-demand')
  const recorded = running.every((s) => s.health !== undefined)
  return {
    host,
    composeProject: record.composeProject,
    // The release's own count: a rollback is judged by what that release ran.
    expected: running.map((s) => ({ name: s.name, oneshot: s.oneshot, replicas: recordedReplicas(s) })),
    checks: recorded
      ? running
          .filter((s) => !s.oneshot && recordedReplicas(s) > 0 && s.health!.length > 0)
          .map((s) => ({ name: s.name, health: s.health!, loopbackPorts: s.loopbackPorts ?? [] }))
      : null,
  }
}

export interface HealthWait {
  healthTimeoutS: number
  /** Each read of the host (default REMOTE_WAIT_MS): one with no answer by then is asked again. */
  readTimeoutMs?: number
  abort: AbortSignal
  /** Masks secret values in the container log lines an error quotes. */
  redact: (text: string) => string
}

/** A service after a deploy: its replicas' state (`scaled to 0` when it runs none by design), running/declared. */
export type ServiceState = { name: string; state: string; health: string; running: number; replicas: number }

/** Containers first (running, Docker health), then the services' own checks: the same code `health` runs. */
export async function waitHealthy(
  exec: Executor,
  project: Project,
  target: HealthTarget,
  options: HealthWait,
  onProgress: (text: string) => void,
): Promise<ServiceState[]> {
  const dispatcher = new HttpPool(5000)
  try {
    return await waitHealthyWith(exec, project, target, options, onProgress, dispatcher)
  } finally {
    await dispatcher.close().catch(() => undefined)
  }
}

async function waitHealthyWith(
  exec: Executor,
  project: Project,
  target: HealthTarget,
  options: HealthWait,
  onProgress: (text: string) => void,
  dispatcher: HttpPool,
): Promise<ServiceState[]> {
  const docker = exec.docker()
  const deadline = Date.now() + options.healthTimeoutS * 1000
  const each = options.readTimeoutMs ?? REMOTE_WAIT_MS
  // Each read of the host is bounded too: by what is left of the health timeout.
  const wait = () => ({
    timeoutMs: readWithin(each, deadline),
    signal: options.abort,
  })
  const host = project.hosts[target.host]!
  const interrupted = () => new StepFailure(`${target.host}: interrupted while waiting for health`)
  const round = async (): Promise<ServiceState[]> => {
    const containers = await listProject(exec, target.composeProject, wait()).catch((error: unknown) => {
      if (options.abort.aborted) throw interrupted()
      // An engine too busy to answer one list (creating containers on a loaded host) is asked again.
      if (error instanceof NoAnswer)
        throw new NotHealthyYet(
          `waiting: ${error.detail}`,
          `${target.host}: not healthy within ${options.healthTimeoutS} s: ${error.detail}`,
        )
      throw error
    })
    const readiness = evaluateReadiness(target.expected, containers)
    if (readiness.ready) {
      const ctx = { project, host, exec, timeoutMs: 5000, models: false, dispatcher }
      const results = (await Promise.all((target.checks ?? []).map((s) => serviceChecks(ctx, s)))).flat()
      const failing = results
        .filter((r) => r.status === 'fail' && r.required)
        .map((f) => `${f.service} ${f.check}: ${f.detail}`)
      if (failing.length === 0) return serviceStates(target.expected, containers)
      throw new NotHealthyYet(
        `waiting for ${failing.join(', ')}`,
        `${target.host}: containers run, but checks fail after ${options.healthTimeoutS} s: ${failing.join('; ')}`,
      )
    }
    if (readiness.failed.length > 0) {
      const details: string[] = []
      for (const failure of readiness.failed) {
        const container = failure.container
        const logs = container
          ? await withDeadline(target.host, 'the Docker API (logs)', 10_000, (signal) =>
              containerLogTail(docker, container, 15, signal),
            ).catch(() => '')
          : ''
        details.push(
          `${failure.service} ${failure.reason}${logs.trim() ? `; last log lines:\n${indent(options.redact(logs.trimEnd()))}` : ''}`,
        )
      }
      throw new StepFailure(`${target.host}: ${details.join('\n')}`)
    }
    throw new NotHealthyYet(
      `waiting for ${readiness.waiting.map((w) => w.service).join(', ')}`,
      `${target.host}: not healthy within ${options.healthTimeoutS} s: ${readiness.waiting.map((w) => `${w.service} (${w.reason})`).join(', ')}`,
    )
  }
  try {
    return await retry(round, {
      attempts: Infinity,
      ...HEALTH_POLL,
      deadline,
      signal: options.abort,
      retryable: (error) => error instanceof NotHealthyYet,
      onRetry: (error) => onProgress((error as NotHealthyYet).waiting),
    })
  } catch (error) {
    if (!(error instanceof NotHealthyYet)) throw error
    throw Date.now() >= deadline ? new StepFailure(error.timedOut) : interrupted()
  }
}

/** A round that found the host not healthy yet: what it waits for, and the failure should the time run out. */
class NotHealthyYet extends Error {
  constructor(
    readonly waiting: string,
    readonly timedOut: string,
  ) {
    super(timedOut)
  }
}

/** Between rounds of a health wait: soon at first (most services are quick), at most a second apart. */
const HEALTH_POLL = { baseMs: 250, capMs: 1000 }

export function serviceStates(
  expected: readonly ExpectedService[],
  containers: readonly ContainerState[],
): ServiceState[] {
  return expected.map((service) => {
    const { state, health, running, replicas } = replicaSummary(service, containers)
    return { name: service.name, state, health, running, replicas }
  })
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')
}

export function progress(input: { emit: DeployInput['emit'] }, host: string, step = 'health'): (text: string) => void {
  return (text) => input.emit({ type: 'progress', host, step, text })
}

export async function hostPreflight(
  exec: Executor,
  input: { project: Project },
  host: { name: string },
): Promise<HostFacts> {
  const result = await gatherFacts(exec, input.project, host.name)
  const problems = result.checks.filter((c) => !c.ok).map((c) => c.detail)
  if (problems.length > 0 || !result.facts)
    throw new StepFailure(`${host.name}: preflight failed: ${problems.join('; ')}`)
  return result.facts
}
