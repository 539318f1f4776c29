// `ai-platform up HOST SERVICE...` / `down HOST SERVICE...`: start or stop on-demand services on the
// release a host runs now, under its deploy lock, recorded in its history and the local audit log.
// The checks of what may be started are pure (onDemandRefusal, releaseRefusal); the effects go through
// the host's executor with the builders of src/remote/commands.ts.
import { auditRun } from '../audit/audit.js'
import type { Interruptible } from '../cli/interrupts.js'
import type { Project } from '../config/model.js'
import { errorMessage, UserError } from '../errors.js'
import { listProject, STOPPED_ON_DEMAND } from '../deploy/containers.js'
import { historyLine, type OnDemandEvent } from '../deploy/history.js'
import {
  hostPreflight,
  keepLockFresh,
  LOCK_STALE_S,
  lockHost,
  lockToken,
  recordAndPrune,
  serviceStates,
  StepFailure,
  waitHealthy,
  type HealthTarget,
} from '../deploy/host-ops.js'
import { recordedReplicas, whoAmI, type ReleaseRecord } from '../deploy/release.js'
import { composeRemoveServices, composeStartServices, releaseLock, type ComposeTarget } from '../remote/commands.js'
import { connector } from '../remote/connect.js'
import { readSecrets, redactor } from '../secrets/secrets.js'
import { ensureImages } from '../deploy/images.js'
import { loginFor } from '../remote/registry-auth.js'
import { printable } from '../util/printable.js'

export type OnDemandAction = 'up' | 'down'

export interface OnDemandOptions {
  action: OnDemandAction
  host: string
  services: string[]
  dryRun: boolean
  lockWaitS: number
  healthTimeoutS: number
  acceptNew: boolean
  /** A line of progress or a warning, for the operator (stderr). */
  log: (line: string) => void
  command: string
  interruptible: Interruptible
}

/** One named service after the command: its replicas' state, or `stopped (on demand)`. */
export interface OnDemandService {
  name: string
  state: string
  health: string
  running: number
  replicas: number
}

export interface OnDemandReport {
  kind: 'ai-platform/up' | 'ai-platform/down'
  host: string
  action: OnDemandAction
  /** The named services, each once, in the order given; for `up`, after the on-demand ones they require on the host. */
  services: string[]
  dryRun: boolean
  /** The release they were started or stopped on (null with --dry-run: the host is not read). */
  release: string | null
  /** What the command does (with --dry-run: would do), in words. */
  steps: string[]
  /** After the command: each service's state (empty with --dry-run). */
  states: OnDemandService[]
  durationMs: number
}

/**
 * Why the inventory does not let these services be started or stopped on this host, or null: an
 * unknown host or service, one not placed there, one that is not on demand (deploy runs it).
 */
export function onDemandRefusal(project: Project, host: string, services: readonly string[]): UserError | null {
  if (!project.hosts[host]) return new UserError(`unknown host ${host}`, `Hosts: ${project.hostOrder.join(', ')}.`)
  const onDemandHere = Object.values(project.services)
    .filter((s) => s.tier === 'on-demand' && s.hosts.includes(host))
    .map((s) => s.name)
    .sort()
  const here =
    onDemandHere.length > 0
      ? `On-demand services on ${host}: ${onDemandHere.join(', ')}.`
      : `${host} has no on-demand services.`
  if (services.length === 0) return new UserError('name at least one service', here)
  for (const name of services) {
    const service = project.services[name]
    if (!service) return new UserError(`unknown service ${name}`, here)
    if (!service.hosts.includes(host))
      return new UserError(
        `${name} is not placed on ${host}${service.hosts.length > 0 ? ` (it runs on ${service.hosts.join(', ')})` : ''}`,
        here,
      )
    if (service.tier !== 'on-demand')
      return new UserError(
        `${name} is not an on-demand service (tier ${service.tier}): deploy starts and keeps it running`,
        `\`ai-platform deploy ${host}\` manages it. ${here}`,
      )
  }
  return null
}

/**
 * Why the release the host runs (read under its lock) cannot have these services started or stopped,
 * or null: no release, one a deploy switched to but never recorded, or one that does not hold them as
 * on-demand services (deployed before the inventory named them so).
 */
export function releaseRefusal(
  host: string,
  current: ReleaseRecord | null,
  recorded: boolean,
  services: readonly string[],
): UserError | null {
  const deployFirst = `Deploy it first: \`ai-platform deploy ${host}\`.`
  if (!current) return new UserError(`${host} runs no release`, deployFirst)
  if (!recorded)
    return new UserError(
      `${host} runs ${current.id}, which a deploy switched to but never recorded`,
      `Deploy it again first (it records or repairs it): \`ai-platform deploy ${host}\`.`,
    )
  const missing = services.filter((name) => !current.services.some((s) => s.name === name && s.tier === 'on-demand'))
  if (missing.length > 0)
    return new UserError(
      `the release ${host} runs (${current.id}) has no on-demand service ${missing.join(', ')}`,
      `The inventory changed since it was deployed. ${deployFirst}`,
    )
  return null
}

/** What `up` waits for: the named services' containers and the checks the release recorded for them. */
export function onDemandTarget(host: string, record: ReleaseRecord, services: readonly string[]): HealthTarget {
  const named = record.services.filter((s) => services.includes(s.name))
  return {
    host,
    composeProject: record.composeProject,
    expected: named.map((s) => ({ name: s.name, oneshot: s.oneshot, replicas: recordedReplicas(s) })),
    checks: named.every((s) => s.health !== undefined)
      ? named
          .filter((s) => !s.oneshot && recordedReplicas(s) > 0 && s.health!.length > 0)
          .map((s) => ({ name: s.name, health: s.health!, loopbackPorts: s.loopbackPorts ?? [] }))
      : null,
  }
}

/** The steps in words: what --dry-run prints, and what the report says was done. */
export function onDemandSteps(
  action: OnDemandAction,
  host: string,
  services: readonly string[],
  healthTimeoutS: number,
): string[] {
  const names = services.join(' ')
  return action === 'up'
    ? [
        `take ${host}'s deploy lock`,
        `compose --profile on-demand up --detach --no-deps ${names} on its current release`,
        `wait up to ${healthTimeoutS} s for ${services.join(', ')} to be running and healthy`,
        `record "started" in ${host}'s history and the local audit log`,
      ]
    : [
        `take ${host}'s deploy lock`,
        `compose --profile on-demand rm --stop --force ${names} on its current release`,
        `record "stopped" in ${host}'s history and the local audit log`,
      ]
}

/**
 * The named services and, for `up`, the on-demand services on the same host they require (transitively),
 * those first: Compose starts them with --no-deps, and deploy runs only the others.
 */
export function withOnDemandRequirements(project: Project, host: string, services: readonly string[]): string[] {
  const out: string[] = []
  const visit = (name: string) => {
    if (out.includes(name)) return
    for (const required of project.services[name]?.requires ?? []) {
      const service = project.services[required]
      if (service?.tier === 'on-demand' && service.hosts.includes(host)) visit(required)
    }
    out.push(name)
  }
  for (const name of services) visit(name)
  return out
}

export async function onDemand(project: Project, options: OnDemandOptions): Promise<OnDemandReport> {
  const started = Date.now()
  const named = [...new Set(options.services)]
  const refusal = onDemandRefusal(project, options.host, named)
  if (refusal) throw refusal
  const services = options.action === 'up' ? withOnDemandRequirements(project, options.host, named) : named
  const kind = options.action === 'up' ? ('ai-platform/up' as const) : ('ai-platform/down' as const)
  const steps = onDemandSteps(options.action, options.host, services, options.healthTimeoutS)
  const report = (release: string | null, states: OnDemandService[]): OnDemandReport => ({
    kind,
    host: options.host,
    action: options.action,
    services,
    dryRun: options.dryRun,
    release,
    steps,
    states,
    durationMs: Date.now() - started,
  })
  // --dry-run: the inventory's refusals only; the host's are read under its lock, which a dry run does not take.
  if (options.dryRun) return report(null, [])

  const secrets = await readSecrets(project)
  const mask = redactor([...secrets.values.values()])
  const log = (line: string) => options.log(printable(mask(line)))
  const signals = options.interruptible({
    steps: [
      {
        called: 'stop waiting',
        doing: `abandoning the wait; ${services.join(', ')} may be left starting on ${options.host}`,
      },
    ],
    left: () =>
      `${options.host}'s lock may be left held: \`ai-platform lock release ${options.host}\` frees it (the next deploy from this machine does too).`,
  })
  const abort = signals.after(1)
  const connections = connector(project, { acceptNew: options.acceptNew, redact: mask })
  const event: OnDemandEvent = options.action === 'up' ? 'started' : 'stopped'
  let release: string | null = null
  let failure: string | null = null
  try {
    const states = await applyOnDemand(
      project,
      options,
      services,
      abort,
      connections,
      mask,
      log,
      (id) => {
        release = id
      },
      secrets.values,
    )
    return report(release, states)
  } catch (error) {
    failure = mask(errorMessage(error))
    throw error
  } finally {
    signals.dispose()
    await connections.closeAll()
    await auditRun(
      whoAmI(),
      { command: options.command, platform: project.platform.name },
      [
        {
          host: options.host,
          status: failure ? 'failed' : event,
          release,
          services,
          durationMs: Date.now() - started,
          ...(failure ? { error: failure } : {}),
        },
      ],
      options.log,
    )
  }
}

async function applyOnDemand(
  project: Project,
  options: OnDemandOptions,
  services: string[],
  abort: AbortSignal,
  connections: ReturnType<typeof connector>,
  mask: (text: string) => string,
  log: (line: string) => void,
  onRelease: (id: string) => void,
  secrets: ReadonlyMap<string, string>,
): Promise<OnDemandService[]> {
  const hostName = options.host
  const host = { name: hostName, baseDir: project.hosts[hostName]!.baseDir }
  const exec = await connections.get(hostName)
  const facts = await hostPreflight(exec, { project }, host).catch((error: unknown) => {
    throw error instanceof StepFailure ? new UserError(error.message) : error
  })
  const token = lockToken()
  let stopHeartbeat: (() => void) | null = null
  try {
    const underLock = await lockHost(exec, host, token, {
      lockWaitS: options.lockWaitS,
      lockStaleS: LOCK_STALE_S,
      command: options.command,
      stop: abort,
    })
    stopHeartbeat = keepLockFresh(exec, host.baseDir, token)
    const refusal = releaseRefusal(hostName, underLock.current, underLock.recorded, services)
    if (refusal) throw refusal
    const current = underLock.current!
    onRelease(current.id)
    const target: ComposeTarget = {
      compose: facts.compose,
      project: current.composeProject,
      baseDir: host.baseDir,
      releaseId: current.id,
    }
    const health = onDemandTarget(hostName, current, services)
    const keep = project.platform.releasesKeep
    const record = (extra: Record<string, unknown>) =>
      recordAndPrune(
        exec,
        host.baseDir,
        historyLine(current, options.action === 'up' ? 'started' : 'stopped', options, { services, ...extra }),
        keep,
      )
    if (options.action === 'down') {
      log(`${hostName}: stopping ${services.join(', ')}`)
      await exec.run(composeRemoveServices(target, services), { timeoutMs: 10 * 60_000 })
      await record({})
      const containers = await listProject(exec, current.composeProject)
      return onDemandStates(serviceStates(health.expected, containers))
    }
    // Pulled here, with the registry's log-in given per pull (compose would pull without one: the host
    // keeps no credential), and with progress.
    const images = [...new Set(current.services.filter((s) => services.includes(s.name)).map((s) => s.image))]
    // one line per image as its pull starts: a pull reports every chunk, too many for a log
    const pulling = new Set<string>()
    const pulled = await ensureImages(exec, images, {
      pull: 'missing',
      login: loginFor(project.platform, secrets, images),
      signal: abort,
      onProgress: (image) => {
        if (!pulling.has(image)) log(`${hostName}: pulling ${image}`)
        pulling.add(image)
      },
    })
    if (pulled.length > 0) log(`${hostName}: pulled ${pulled.join(', ')}`)
    log(`${hostName}: starting ${services.join(', ')}`)
    await exec.run(composeStartServices(target, services), { timeoutMs: 30 * 60_000, signal: abort })
    // A line when what it waits for changes, not one per poll.
    let waiting = ''
    try {
      const states = await waitHealthy(
        exec,
        project,
        health,
        { healthTimeoutS: options.healthTimeoutS, abort, redact: mask },
        (text) => {
          if (text !== waiting) log(`${hostName}: ${text}`)
          waiting = text
        },
      )
      await record({ healthy: true })
      return onDemandStates(states)
    } catch (error) {
      const why = mask(errorMessage(error))
      await record({ healthy: false, error: why.slice(0, 500) }).catch(() => undefined)
      throw new UserError(
        `${hostName}: ${services.join(', ')} started but not healthy: ${why.replace(`${hostName}: `, '')}`,
        `They are left as they are: \`ai-platform logs ${hostName} ${services[0]}\` shows why; \`ai-platform down ${hostName} ${services.join(' ')}\` stops them.`,
      )
    }
  } finally {
    stopHeartbeat?.()
    if (!exec.lost)
      await exec.run(releaseLock(host.baseDir, token), { check: false, timeoutMs: 20_000 }).catch(() => undefined)
  }
}

/** A service with no replica running is stopped by design, not missing. */
function onDemandStates(states: readonly OnDemandService[]): OnDemandService[] {
  return states.map((s) => (s.running === 0 ? { ...s, state: STOPPED_ON_DEMAND, health: 'none' } : s))
}
