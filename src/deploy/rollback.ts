// Going back: after a failed deploy, to the release the host ran when that deploy took its lock; by
// hand (`ai-platform rollback HOST`), to a release the host keeps. Either way the release gone back to
// is judged by its own recorded checks, not by the ones that just failed.
import { UserError, errorMessage } from '../errors.js'
import {
  composeDown,
  composeUp,
  parseReleaseLine,
  readReleases,
  releaseLock,
  removeCurrent,
  switchCurrent,
  type ComposeTarget,
} from '../remote/commands.js'
import type { Executor } from '../remote/executor.js'
import type { HostInput, HostReport } from './engine.js'
import { historyLine, parseHistoryEntries, rollbackTarget, type HistoryEntry } from './history.js'
import {
  hostPreflight,
  lockHost,
  lockToken,
  progress,
  recordAndPrune,
  recordTarget,
  StepFailure,
  waitHealthy,
  type LockOptions,
  type ServiceState,
} from './host-ops.js'
import type { HostFacts } from './preflight.js'
import { parseReleaseRecord, RELEASE_ID, type ReleaseRecord } from './release.js'

/** After a failed deploy that switched `current`: back to `before` (or, on a first deploy, no release at all). */
export async function rollBackFailed(
  input: Pick<HostInput, 'project' | 'emit' | 'redact'>,
  options: { healthTimeoutS: number; readTimeoutMs?: number; command: string },
  exec: Executor,
  host: { name: string; baseDir: string },
  facts: HostFacts,
  composeProject: string,
  failed: Pick<ReleaseRecord, 'id' | 'hash' | 'previous'>,
  before: ReleaseRecord | null,
  report: HostReport,
): Promise<NonNullable<HostReport['rollback']>> {
  const t0 = Date.now()
  input.emit({ type: 'step', host: host.name, step: 'rollback', phase: 'start' })
  const note = (status: 'done' | 'failed', error?: string) => {
    input.emit({
      type: 'step',
      host: host.name,
      step: 'rollback',
      phase: status === 'done' ? 'done' : 'failed',
      ms: Date.now() - t0,
      detail: before ? `back to ${before.id}` : 'removed the new containers',
    })
    report.steps.push({ step: 'rollback', ms: Date.now() - t0 })
    return { status, release: before?.id ?? null, ...(error ? { error } : {}) }
  }
  const keep = input.project.platform.releasesKeep
  const error = report.error?.slice(0, 500)
  const failedTarget: ComposeTarget = {
    compose: facts.compose,
    project: composeProject,
    baseDir: host.baseDir,
    releaseId: failed.id,
  }
  if (!before) {
    await exec.run(composeDown(failedTarget), { timeoutMs: 10 * 60_000 })
    await exec.run(removeCurrent(host.baseDir))
    await recordAndPrune(
      exec,
      host.baseDir,
      historyLine(failed, 'failed', options, { healthy: false, error }),
      keep,
    ).catch(() => undefined)
    return note('done')
  }
  await exec.run(switchCurrent(host.baseDir, before.id))
  await exec.run(composeUp({ ...failedTarget, project: before.composeProject, releaseId: before.id }), {
    timeoutMs: 30 * 60_000,
  })
  // The rollback must finish even after Ctrl-C: a fresh signal, not the aborted one.
  const calm = new AbortController().signal
  try {
    await waitHealthy(
      exec,
      input.project,
      recordTarget(host.name, before),
      {
        healthTimeoutS: options.healthTimeoutS,
        ...(options.readTimeoutMs ? { readTimeoutMs: options.readTimeoutMs } : {}),
        abort: calm,
        redact: input.redact,
      },
      progress(input, host.name, 'rollback'),
    )
  } catch (unhealthy) {
    await recordAndPrune(
      exec,
      host.baseDir,
      historyLine(failed, 'rolled-back', options, { to: before.id, healthy: false, error }),
      keep,
    ).catch(() => undefined)
    return note(
      'failed',
      `rolled back to ${before.id}, but it is not healthy either: ${input.redact(errorMessage(unhealthy))}`,
    )
  }
  await recordAndPrune(
    exec,
    host.baseDir,
    historyLine(failed, 'rolled-back', options, { to: before.id, healthy: true, error }),
    keep,
  ).catch(() => undefined)
  return note('done')
}

/** The releases a host keeps, newest first, and its history, from `readReleases`. */
export function parseReleases(stdout: string): ReleaseRecord[] {
  return parseKept(stdout).releases
}

export function parseKept(stdout: string): {
  releases: ReleaseRecord[]
  env: Map<string, string | null>
  history: HistoryEntry[]
} {
  const at = stdout.indexOf('@@history\n')
  const listing = at < 0 ? stdout : stdout.slice(0, at)
  const releases: ReleaseRecord[] = []
  const env = new Map<string, string | null>()
  for (const part of listing.split('@@release ').slice(1)) {
    const [head, ...rest] = part.split('\n')
    const kept = parseReleaseLine(`@@release ${head}`)
    // a release without a readable record (or named unlike one) cannot be returned to
    const record = parseReleaseRecord(rest.join('\n').trim())
    if (record && RELEASE_ID.test(kept.id) && record.id === kept.id) {
      releases.push(record)
      env.set(kept.id, kept.env)
    }
  }
  return { releases, env, history: at < 0 ? [] : parseHistoryEntries(stdout.slice(at + 10)) }
}

/** What `rollback HOST` needs of its command: the lock wait, the health wait and the signal that abandons it. */
export interface RollbackOptions extends LockOptions {
  healthTimeoutS: number
  /** Abandons the health wait (Ctrl-C): the host goes back onto the release it ran. */
  abort: AbortSignal
}

export interface RollbackReport {
  host: string
  from: string
  to: string
  durationMs: number
  services: ServiceState[]
}

/**
 * `ai-platform rollback HOST [--to ID]`: the host back on a release it keeps (default: the healthy one
 * before, of other content), under its deploy lock, gated on that release's own checks. When it does
 * not come up healthy the host is switched back to the release it ran, and the error says so.
 */
export async function rollbackHost(
  input: HostInput,
  options: RollbackOptions,
  hostName: string,
  to: string | null,
): Promise<RollbackReport> {
  const started = Date.now()
  const ref = input.project.hosts[hostName]
  if (!ref) throw new UserError(`unknown host ${hostName}`, `Hosts: ${input.project.hostOrder.join(', ')}.`)
  const host = { name: hostName, baseDir: ref.baseDir }
  const exec = await input.connector.get(hostName)
  const facts = await hostPreflight(exec, input, host).catch((error: unknown) => {
    throw error instanceof StepFailure ? new UserError(error.message) : error
  })
  const token = lockToken()
  try {
    const underLock = await lockHost(exec, host, token, options)
    const current = underLock.current
    if (!current) throw new UserError(`${hostName} runs no release, so there is nothing to roll back`)
    const { releases, env, history } = parseKept((await exec.run(readReleases(host.baseDir))).stdout)
    const target =
      to !== null ? (releases.find((r) => r.id === to) ?? null) : rollbackTarget(current, releases, history, env)
    const kept = releases.map((r) => `${r.id}${r.id === current.id ? ' (current)' : ''}`).join(', ')
    if (!target)
      throw new UserError(
        to !== null
          ? `${hostName} keeps no release ${to}`
          : `${hostName} keeps no healthy release older than ${current.id} with other content`,
        `Releases on ${hostName}: ${kept}.`,
      )
    if (target.id === current.id)
      throw new UserError(`${hostName} already runs ${target.id}`, `Releases on ${hostName}: ${kept}.`)
    const back: ComposeTarget = {
      compose: facts.compose,
      project: current.composeProject,
      baseDir: host.baseDir,
      releaseId: current.id,
    }
    const onto: ComposeTarget = { ...back, project: target.composeProject, releaseId: target.id }
    const keep = input.project.platform.releasesKeep
    await exec.run(switchCurrent(host.baseDir, target.id))
    try {
      await exec.run(composeUp(onto), { timeoutMs: 30 * 60_000, signal: options.abort })
      const services = await waitHealthy(
        exec,
        input.project,
        recordTarget(hostName, target),
        { ...options, redact: input.redact },
        progress(input, hostName, 'rollback'),
      )
      await recordAndPrune(
        exec,
        host.baseDir,
        historyLine(current, 'rolled-back', options, { to: target.id, healthy: true, manual: true }),
        keep,
      )
      return { host: hostName, from: current.id, to: target.id, durationMs: Date.now() - started, services }
    } catch (error) {
      // Not healthy (or interrupted): back onto what it ran, whatever the signal said, and waited for
      // (not abandonable: a second Ctrl-C exits at once), so that the error can say how it is left.
      await exec.run(switchCurrent(host.baseDir, current.id))
      await exec.run(composeUp(back), { timeoutMs: 30 * 60_000 })
      const backHealth = await waitHealthy(
        exec,
        input.project,
        recordTarget(hostName, current),
        { ...options, abort: new AbortController().signal, redact: input.redact },
        progress(input, hostName, 'rollback'),
      ).then(
        () => 'healthy',
        (unhealthy: unknown) => `not healthy: ${input.redact(errorMessage(unhealthy))}`,
      )
      await recordAndPrune(
        exec,
        host.baseDir,
        historyLine(target, 'failed', options, {
          healthy: false,
          rollbackFrom: current.id,
          error: input.redact(errorMessage(error)).slice(0, 500),
        }),
        keep,
      ).catch(() => undefined)
      throw new UserError(
        `${hostName}: rollback to ${target.id} failed: ${input.redact(errorMessage(error))}`,
        `The host is back on ${current.id}, ${backHealth}.`,
      )
    }
  } finally {
    await exec.run(releaseLock(host.baseDir, token), { check: false, timeoutMs: 20_000 }).catch(() => undefined)
  }
}
