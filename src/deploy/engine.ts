// The deploy engine: executes the plan. Hosts start as soon as every host they depend on in the plan
// is up and healthy (bounded by --concurrency); a failed host is rolled back and its dependents are
// skipped; independent hosts go on. Every host ends on a whole release with its lock released.
import type { Project } from '../config/model.js'
import { UserError, errorMessage } from '../errors.js'
import type { Plan, PlanHost } from '../plan/plan.js'
import type { HostRender } from '../render/render.js'
import { envFileFor } from '../secrets/secrets.js'
import type { Connector } from '../remote/connect.js'
import type { Executor } from '../remote/executor.js'
import {
  acquireLock,
  composeDown,
  composeUp,
  heartbeatLock,
  recordAndPrune,
  releaseLock,
  removeCurrent,
  removeRelease,
  switchCurrent,
  readReleases,
  takeOverLock,
  unpackRelease,
  type ComposeTarget,
  type LockInfo,
} from '../remote/commands.js'
import { gatherFacts, quickFacts, type HostFacts, type QuickFacts } from './preflight.js'
import { describeHolder, holderRunning, parseHolder } from './lock-holder.js'
import { processAlive } from '../util/process-alive.js'
export { parseHolder } from './lock-holder.js'
import { containerLogTail, evaluateReadiness, listProject, type ContainerState, type ExpectedService } from './containers.js'
import { REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'
import { missingImages, pullImage, type PullProgress } from './images.js'
import { HttpPool, serviceChecks } from '../health/checks.js'
import { buildRecord, envDigest, parseReleaseRecord, RELEASE_ID, releaseId, releaseTarball, whoAmI, type ReleaseRecord } from './release.js'

export type HostStatus = 'deployed' | 'unchanged' | 'repaired' | 'failed' | 'skipped' | 'cancelled'

export interface HostReport {
  host: string
  status: HostStatus
  durationMs: number
  release: string | null
  previous: string | null
  compose: string | null
  services: { name: string; state: string; health: string }[]
  steps: { step: string; ms: number }[]
  error?: string
  /** What to do about the error, when there is a known next step. */
  hint?: string
  rollback?: { status: 'done' | 'failed' | 'none'; release: string | null; error?: string }
  reason?: string
}

export interface DeployReport {
  kind: 'ai-platform/deploy'
  ok: boolean
  platform: string
  durationMs: number
  interrupted: boolean
  hosts: HostReport[]
  summary: Record<HostStatus, number>
}

export type DeployEvent =
  | { type: 'host-start'; host: string }
  | { type: 'step'; host: string; step: string; phase: 'start' | 'done' | 'failed'; ms?: number; detail?: string }
  | { type: 'progress'; host: string; step: string; text: string }
  | { type: 'host-done'; report: HostReport }

export interface DeployOptions {
  force: boolean
  concurrency: number
  lockWaitS: number
  lockStaleS: number
  healthTimeoutS: number
  pull: 'missing' | 'always' | 'never'
  command: string
  tool: string
  /** Start nothing new once aborted (first Ctrl-C). */
  stop: AbortSignal
  /** Abandon in-flight waits (second Ctrl-C): those hosts are rolled back. */
  abort: AbortSignal
  now?: () => Date
}

export interface DeployInput {
  project: Project
  plan: Plan
  renders: readonly HostRender[]
  secrets: ReadonlyMap<string, string>
  connector: Connector
  emit: (event: DeployEvent) => void
  redact: (text: string) => string
}

export async function deploy(input: DeployInput, options: DeployOptions): Promise<DeployReport> {
  const started = Date.now()
  const reports = new Map<string, HostReport>()
  const running = new Map<string, Promise<void>>()
  const pending = [...input.plan.hosts]
  const inPlan = new Set(pending.map((h) => h.name))
  const good = (name: string) => ['deployed', 'unchanged', 'repaired'].includes(reports.get(name)?.status ?? '')
  // Whether a host already runs its release is a read-only question: ask every host at once, so a
  // no-op run costs one round of probes instead of one per wave.
  const probes = new Map<string, Promise<Probe>>()
  if (!options.force) {
    for (const host of input.plan.hosts) probes.set(host.name, probe(input, host, input.renders.find((r) => r.host === host.name)!))
    for (const pending of probes.values()) pending.catch(() => undefined)
  }

  while (pending.length > 0 || running.size > 0) {
    for (const host of [...pending]) {
      const deps = host.dependsOn.map((d) => d.host).filter((d) => inPlan.has(d))
      const bad = deps.filter((d) => reports.has(d) && !good(d))
      if (bad.length > 0 || (options.stop.aborted && !running.has(host.name))) {
        pending.splice(pending.indexOf(host), 1)
        const report = skipped(host.name, options.stop.aborted ? 'cancelled' : 'skipped', options.stop.aborted ? 'interrupted before it started' : `depends on ${bad.join(', ')}, which did not deploy`)
        reports.set(host.name, report)
        input.emit({ type: 'host-done', report })
        continue
      }
      if (!deps.every(good) || running.size >= options.concurrency) continue
      pending.splice(pending.indexOf(host), 1)
      const render = input.renders.find((r) => r.host === host.name)!
      input.emit({ type: 'host-start', host: host.name })
      const work = deployHost(input, options, host, render, probes.get(host.name) ?? null).then((report) => {
        reports.set(host.name, report)
        running.delete(host.name)
        input.emit({ type: 'host-done', report })
      })
      running.set(host.name, work)
    }
    if (running.size > 0) await Promise.race(running.values())
    else if (pending.length > 0 && !pending.some((h) => h.dependsOn.every((d) => !inPlan.has(d.host) || reports.has(d.host)))) {
      throw new Error('deploy scheduler: no runnable host left (dependency cycle in the plan?)')
    }
  }

  const hosts = input.plan.hosts.map((h) => reports.get(h.name)!)
  const summary: Record<HostStatus, number> = { deployed: 0, unchanged: 0, repaired: 0, failed: 0, skipped: 0, cancelled: 0 }
  for (const report of hosts) summary[report.status]++
  return {
    kind: 'ai-platform/deploy',
    ok: summary.failed === 0 && summary.skipped === 0 && summary.cancelled === 0,
    platform: input.plan.platform,
    durationMs: Date.now() - started,
    interrupted: options.stop.aborted,
    hosts,
    summary,
  }
}

function skipped(host: string, status: 'skipped' | 'cancelled', reason: string): HostReport {
  return { host, status, durationMs: 0, release: null, previous: null, compose: null, services: [], steps: [], reason }
}

class StepFailure extends Error {}

interface Probe {
  exec: Executor
  quick: QuickFacts
  env: string
  /** Same rendered hash and .env as the current release. */
  same: boolean
  /** ...and every expected container up and healthy: nothing to do. */
  ready: boolean
  containers: ContainerState[] | null
  steps: { step: string; ms: number }[]
}

async function probe(input: DeployInput, host: PlanHost, render: HostRender): Promise<Probe> {
  const steps: Probe['steps'] = []
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now()
    input.emit({ type: 'step', host: host.name, step: name, phase: 'start' })
    try {
      const value = await work()
      steps.push({ step: name, ms: Date.now() - t0 })
      input.emit({ type: 'step', host: host.name, step: name, phase: 'done', ms: Date.now() - t0 })
      return value
    } catch (error) {
      input.emit({ type: 'step', host: host.name, step: name, phase: 'failed', ms: Date.now() - t0, detail: input.redact(errorMessage(error)) })
      throw error
    }
  }
  const env = envFileFor(render.secrets, input.secrets, input.project, host.name)
  const exec = await timed('connect', () => input.connector.get(host.name))
  // The container listing goes out with the facts (a second channel of the same connection): when
  // the release is the same, its answer is usually in by the time the facts are.
  const listing = listProject(exec, render.composeProject).then(
    (containers) => ({ containers }),
    (error: unknown) => ({ error }),
  )
  const quick = await timed('facts', () => quickFacts(exec, host.baseDir))
  const { machine } = whoAmI()
  if (quick.lock?.machine === machine && quick.lock.pid !== null && quick.lock.token && !processAlive(quick.lock.pid)) {
    // Left by a deploy from this machine that died or was cut off: nobody else can release it.
    await timed('stale lock', () => exec.run(releaseLock(host.baseDir, quick.lock!.token!), { check: false, timeoutMs: 20_000 }))
  }
  const same = quick.current?.hash === render.hash && quick.envSha256 === envDigest(env)
  if (!same) return { exec, quick, env, same, ready: false, containers: null, steps }
  const containers = await timed('check', async () => {
    const answer = await listing
    if ('error' in answer) throw answer.error
    return answer.containers
  })
  return { exec, quick, env, same, ready: evaluateReadiness(expectedServices(render), containers).ready, containers, steps }
}

async function deployHost(input: DeployInput, options: DeployOptions, host: PlanHost, render: HostRender, probed: Promise<Probe> | null): Promise<HostReport> {
  const started = Date.now()
  const report: HostReport = { host: host.name, status: 'failed', durationMs: 0, release: null, previous: null, compose: null, services: [], steps: [] }
  const step = async <T>(name: string, work: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> => {
    const t0 = Date.now()
    input.emit({ type: 'step', host: host.name, step: name, phase: 'start' })
    try {
      const value = await work()
      const ms = Date.now() - t0
      report.steps.push({ step: name, ms })
      const text = detail?.(value)
      input.emit({ type: 'step', host: host.name, step: name, phase: 'done', ms, ...(text ? { detail: text } : {}) })
      return value
    } catch (error) {
      input.emit({ type: 'step', host: host.name, step: name, phase: 'failed', ms: Date.now() - t0, detail: input.redact(errorMessage(error)) })
      throw error
    }
  }

  let exec: Executor | null = null
  let lockToken: string | null = null
  let heartbeat: NodeJS.Timeout | null = null
  let switched = false
  let unpacked: string | null = null
  let facts: HostFacts | null = null
  let target: ComposeTarget | null = null
  try {
    const expected = expectedServices(render)
    let env: string
    let unchanged = false
    if (probed) {
      const found = await probed
      report.steps.push(...found.steps)
      exec = found.exec
      env = found.env
      unchanged = found.same
      if (found.ready) {
        report.release = found.quick.current!.id
        report.previous = found.quick.current!.id
        report.services = serviceStates(expected, found.containers!)
        report.status = 'unchanged'
        return finish(report, started)
      }
    } else {
      env = envFileFor(render.secrets, input.secrets, input.project, host.name)
      exec = await step('connect', () => input.connector.get(host.name))
    }
    const executor = exec
    facts = await step('preflight', () => preflight(executor, input.project, host), (f) => `compose ${f.compose.variant} ${f.compose.version}${f.current ? `, running ${f.current.id}` : ', no release yet'}`)
    report.compose = `${facts.compose.variant} ${facts.compose.version}`
    report.previous = facts.current?.id ?? null

    lockToken = `${whoAmI().machine}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2, 10)}`
    const token = lockToken
    await step('lock', () => lock(executor, host, token, options))
    heartbeat = setInterval(() => void executor.run(heartbeatLock(host.baseDir, token), { check: false, timeoutMs: 20_000 }).catch(() => undefined), 60_000)

    if (unchanged && !options.force) {
      // Same release, but containers are missing or stopped: converge without a new release.
      target = { compose: facts.compose, project: render.composeProject, baseDir: host.baseDir, releaseId: facts.current!.id }
      const repair = target
      await step('up', () => executor.run(composeUp(repair), { timeoutMs: 30 * 60_000, signal: options.abort }))
      report.services = await step('health', () => waitHealthy(executor, input, render, expected, options))
      await step('record', () => executor.run(recordAndPrune(host.baseDir, historyLine(facts!.current!, 'repaired', options), input.project.platform.releasesKeep), { timeoutMs: 30_000 }))
      report.status = 'repaired'
      return finish(report, started)
    }

    const now = (options.now ?? (() => new Date()))()
    const id = releaseId(now, render.hash)
    const record = buildRecord(render, { id, platform: input.plan.platform, now, previous: facts.current?.id ?? null, tool: options.tool })
    report.release = id
    target = { compose: facts.compose, project: render.composeProject, baseDir: host.baseDir, releaseId: id }
    const tarball = await releaseTarball(render, env, record)
    await step('upload', () => executor.run(unpackRelease(host.baseDir, id), { stdin: tarball, timeoutMs: 5 * 60_000 }), () => `${(tarball.length / 1024).toFixed(1)} KiB`)
    unpacked = id
    await step('images', () => ensureImages(executor, input, host.name, render, options), (pulled) => (pulled.length > 0 ? `pulled ${pulled.join(', ')}` : 'all present'))
    await step('switch', () => executor.run(switchCurrent(host.baseDir, id)))
    switched = true
    const up = target
    await step('up', () => executor.run(composeUp(up), { timeoutMs: 30 * 60_000, signal: options.abort }))
    report.services = await step('health', () => waitHealthy(executor, input, render, expected, options))
    await step('record', () => executor.run(recordAndPrune(host.baseDir, historyLine(record, 'deployed', options), input.project.platform.releasesKeep), { timeoutMs: 30_000 }))
    report.status = 'deployed'
    return finish(report, started)
  } catch (error) {
    report.status = 'failed'
    report.error = input.redact(errorMessage(error))
    if (error instanceof UserError && error.hint) report.hint = error.hint
    if (switched && exec && facts && target) {
      report.rollback = await rollback(input, options, exec, host, render, facts, target, report).catch((e: unknown) => ({ status: 'failed' as const, release: facts!.current?.id ?? null, error: input.redact(errorMessage(e)) }))
    } else if (exec) {
      // Nothing was switched: the host still runs its previous release; drop the unused upload.
      if (unpacked) await exec.run(removeRelease(host.baseDir, unpacked), { check: false }).catch(() => undefined)
      report.rollback = { status: 'none', release: facts?.current?.id ?? null }
    }
    return finish(report, started)
  } finally {
    if (heartbeat) clearInterval(heartbeat)
    if (exec && lockToken) await exec.run(releaseLock(host.baseDir, lockToken), { check: false, timeoutMs: 20_000 }).catch(() => undefined)
  }
}

function finish(report: HostReport, started: number): HostReport {
  report.durationMs = Date.now() - started
  return report
}

function expectedServices(render: HostRender): ExpectedService[] {
  return render.services.filter((s) => s.tier !== 'on-demand').map((s) => ({ name: s.name, oneshot: s.oneshot }))
}

function serviceStates(expected: readonly ExpectedService[], containers: readonly ContainerState[]): HostReport['services'] {
  return expected.map((service) => {
    const container = containers.filter((c) => c.service === service.name).sort((a, b) => b.created - a.created)[0]
    return { name: service.name, state: container?.state ?? 'missing', health: container?.health ?? 'none' }
  })
}

function historyLine(record: Pick<ReleaseRecord, 'id' | 'hash' | 'previous'>, event: string, options: DeployOptions, extra: Record<string, unknown> = {}): string {
  const { user, machine } = whoAmI()
  return JSON.stringify({ time: new Date().toISOString(), event, release: record.id, hash: record.hash, previous: record.previous, user, machine, command: options.command, ...extra })
}

async function preflight(exec: Executor, project: Project, host: PlanHost): Promise<HostFacts> {
  const result = await gatherFacts(exec, project, host.name)
  const problems = result.checks.filter((c) => !c.ok).map((c) => c.detail)
  if (problems.length > 0 || !result.facts) throw new StepFailure(`${host.name}: preflight failed: ${problems.join('; ')}`)
  return result.facts
}

async function lock(exec: Executor, host: PlanHost, token: string, options: DeployOptions): Promise<void> {
  const { user, machine } = whoAmI()
  const info: LockInfo = { token, user, machine, pid: process.pid, command: options.command, since: new Date().toISOString() }
  const deadline = Date.now() + options.lockWaitS * 1000
  for (;;) {
    const result = await exec.run(acquireLock(host.baseDir, info, options.lockStaleS), { timeoutMs: 30_000 })
    if (result.stdout.startsWith('acquired')) return
    const holder = parseHolder(result.stdout)
    // A deploy from this machine whose process is gone (killed, or cut off from the host) cannot
    // release its lock: it is stale now, not in 15 minutes.
    if (holder.machine === machine && holder.pid !== null && holder.token && !processAlive(holder.pid)) {
      const taken = await exec.run(takeOverLock(host.baseDir, info, holder.token), { timeoutMs: 30_000, check: false })
      if (taken.stdout.includes('acquired')) return
    }
    if (Date.now() >= deadline || options.stop.aborted) {
      throw new UserError(
        `${host.name} is locked by ${describeHolder(holder, host.name, holderRunning(holder, machine))}${holder.since ? ` since ${holder.since}` : ''}${holder.command ? ` (${holder.command})` : ''}`,
        options.lockWaitS > 0 ? `Still locked after waiting ${options.lockWaitS} s. If that deploy is dead, \`ai-platform lock release ${host.name}\` frees it.` : `Wait for it with --lock-wait SECONDS, or if that deploy is dead, \`ai-platform lock release ${host.name}\`.`,
      )
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(200, deadline - Date.now()))))
  }
}

async function ensureImages(exec: Executor, input: DeployInput, hostName: string, render: HostRender, options: DeployOptions): Promise<string[]> {
  const images = [...new Set(render.services.filter((s) => s.tier !== 'on-demand').map((s) => s.image))]
  const docker = exec.docker()
  const missing = options.pull === 'always' ? images : await withDeadline(hostName, 'the Docker API (inspect images)', REMOTE_WAIT_MS, (signal) => missingImages(docker, images, signal), options.abort)
  if (options.pull === 'never') {
    if (missing.length > 0) throw new StepFailure(`${hostName}: images missing and --pull never: ${missing.join(', ')}`)
    return []
  }
  const toPull = missing
  for (const image of toPull) {
    await pullImage(
      docker,
      hostName,
      image,
      (p: PullProgress) => input.emit({ type: 'progress', host: hostName, step: 'images', text: p.totalBytes > 0 ? `${image} ${formatMb(p.currentBytes)}/${formatMb(p.totalBytes)}` : `${image} ${p.status}` }),
      options.abort,
    )
  }
  return toPull
}

function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** What work on one host needs of a run (a rollback has no plan). */
export type HostInput = Pick<DeployInput, 'project' | 'connector' | 'emit' | 'redact'>

interface HealthTarget {
  host: string
  composeProject: string
}

async function waitHealthy(exec: Executor, input: HostInput, render: HealthTarget, expected: readonly ExpectedService[], options: DeployOptions): Promise<HostReport['services']> {
  const dispatcher = new HttpPool(5000)
  try {
    return await waitHealthyWith(exec, input, render, expected, options, dispatcher)
  } finally {
    await dispatcher.close().catch(() => undefined)
  }
}

/** Containers first (running, Docker health), then the services' own checks: the same code `health` runs. */
async function waitHealthyWith(exec: Executor, input: HostInput, render: HealthTarget, expected: readonly ExpectedService[], options: DeployOptions, dispatcher: HttpPool): Promise<HostReport['services']> {
  const docker = exec.docker()
  const deadline = Date.now() + options.healthTimeoutS * 1000
  // Each read of the host is bounded too: by what is left of the health timeout (a few seconds at least).
  const wait = () => ({ timeoutMs: Math.min(REMOTE_WAIT_MS, Math.max(5000, deadline - Date.now())), signal: options.abort })
  const host = input.project.hosts[render.host]!
  const declared = expected.filter((e) => !e.oneshot).map((e) => input.project.services[e.name]).filter((s): s is NonNullable<typeof s> => s !== undefined && s.health.length > 0)
  let delay = 250
  let lastFailures: string[] = []
  for (;;) {
    const containers = await listProject(exec, render.composeProject, wait()).catch((error: unknown) => {
      throw options.abort.aborted ? new StepFailure(`${render.host}: interrupted while waiting for health`) : error
    })
    const readiness = evaluateReadiness(expected, containers)
    if (readiness.ready) {
      const ctx = { project: input.project, host, exec, timeoutMs: 5000, models: false, dispatcher }
      const results = (await Promise.all(declared.map((s) => serviceChecks(ctx, s)))).flat()
      const failing = results.filter((r) => r.status === 'fail' && r.required)
      if (failing.length === 0) return serviceStates(expected, containers)
      lastFailures = failing.map((f) => `${f.service} ${f.check}: ${f.detail}`)
      if (Date.now() >= deadline) throw new StepFailure(`${render.host}: containers run, but checks fail after ${options.healthTimeoutS} s: ${lastFailures.join('; ')}`)
      if (options.abort.aborted) throw new StepFailure(`${render.host}: interrupted while waiting for health`)
      input.emit({ type: 'progress', host: render.host, step: 'health', text: `waiting for ${lastFailures.join(', ')}` })
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(1000, delay * 2)
      continue
    }
    if (readiness.failed.length > 0) {
      const details: string[] = []
      for (const failure of readiness.failed) {
        const container = containers.filter((c) => c.service === failure.service).sort((a, b) => b.created - a.created)[0]
        const logs = container ? await withDeadline(render.host, 'the Docker API (logs)', 10_000, (signal) => containerLogTail(docker, container.id, 15, signal)).catch(() => '') : ''
        details.push(`${failure.service} ${failure.reason}${logs.trim() ? `; last log lines:\n${indent(input.redact(logs.trimEnd()))}` : ''}`)
      }
      throw new StepFailure(`${render.host}: ${details.join('\n')}`)
    }
    if (Date.now() >= deadline) {
      throw new StepFailure(`${render.host}: not healthy within ${options.healthTimeoutS} s: ${readiness.waiting.map((w) => `${w.service} (${w.reason})`).join(', ')}`)
    }
    if (options.abort.aborted) throw new StepFailure(`${render.host}: interrupted while waiting for health`)
    input.emit({ type: 'progress', host: render.host, step: 'health', text: `waiting for ${readiness.waiting.map((w) => w.service).join(', ')}` })
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(1000, delay * 2)
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')
}

async function rollback(
  input: DeployInput,
  options: DeployOptions,
  exec: Executor,
  host: PlanHost,
  render: HostRender,
  facts: HostFacts,
  failed: ComposeTarget,
  report: HostReport,
): Promise<NonNullable<HostReport['rollback']>> {
  const t0 = Date.now()
  input.emit({ type: 'step', host: host.name, step: 'rollback', phase: 'start' })
  const previous = facts.current
  const note = (status: 'done' | 'failed', error?: string) => {
    input.emit({ type: 'step', host: host.name, step: 'rollback', phase: status === 'done' ? 'done' : 'failed', ms: Date.now() - t0, detail: previous ? `back to ${previous.id}` : 'removed the new containers' })
    report.steps.push({ step: 'rollback', ms: Date.now() - t0 })
    return { status, release: previous?.id ?? null, ...(error ? { error } : {}) }
  }
  // The rollback must finish even after Ctrl-C: a fresh signal, not the aborted one.
  const calm = new AbortController().signal
  const failedRecord = { id: failed.releaseId, hash: render.hash, previous: previous?.id ?? null }
  if (!previous) {
    await exec.run(composeDown(failed), { timeoutMs: 10 * 60_000 })
    await exec.run(removeCurrent(host.baseDir))
    await exec.run(recordAndPrune(host.baseDir, historyLine(failedRecord, 'failed', options, { error: report.error?.slice(0, 500) }), input.project.platform.releasesKeep), { check: false })
    return note('done')
  }
  await exec.run(switchCurrent(host.baseDir, previous.id))
  const target: ComposeTarget = { ...failed, releaseId: previous.id }
  await exec.run(composeUp(target), { timeoutMs: 30 * 60_000 })
  const expected = previous.services.filter((s) => s.tier !== 'on-demand').map((s) => ({ name: s.name, oneshot: s.oneshot }))
  try {
    await waitHealthy(exec, input, render, expected, { ...options, abort: calm })
  } catch (error) {
    await exec.run(recordAndPrune(host.baseDir, historyLine(failedRecord, 'rolled-back', options, { to: previous.id, healthy: false }), input.project.platform.releasesKeep), { check: false })
    return note('failed', `rolled back to ${previous.id}, but it is not healthy either: ${input.redact(errorMessage(error))}`)
  }
  await exec.run(recordAndPrune(host.baseDir, historyLine(failedRecord, 'rolled-back', options, { to: previous.id, error: report.error?.slice(0, 500) }), input.project.platform.releasesKeep), { check: false })
  return note('done')
}

export interface RollbackReport {
  host: string
  from: string
  to: string
  durationMs: number
  services: HostReport['services']
}

/** The releases a host keeps, newest first, from `readReleases`. */
export function parseReleases(stdout: string): ReleaseRecord[] {
  const out: ReleaseRecord[] = []
  for (const part of stdout.split('@@release ').slice(1)) {
    const [id, ...rest] = part.split('\n')
    // a release without a readable record (or named unlike one) cannot be returned to
    const record = parseReleaseRecord(rest.join('\n').trim())
    if (record && RELEASE_ID.test(id!.trim()) && record.id === id!.trim()) out.push(record)
  }
  return out
}

/**
 * `ai-platform rollback HOST [--to ID]`: the host back on a release it keeps (default: the one it
 * ran before), under its deploy lock, gated on health like a deploy. When that release does not
 * come up healthy the host is switched back to the release it ran, and the error says so.
 */
export async function rollbackHost(input: HostInput, options: DeployOptions, hostName: string, to: string | null): Promise<RollbackReport> {
  const started = Date.now()
  const ref = input.project.hosts[hostName]
  if (!ref) throw new UserError(`unknown host ${hostName}`, `Hosts: ${input.project.hostOrder.join(', ')}.`)
  const host = { name: hostName, baseDir: ref.baseDir } as PlanHost
  const exec = await input.connector.get(hostName)
  const facts = await preflight(exec, input.project, host).catch((error: unknown) => {
    throw error instanceof StepFailure ? new UserError(error.message) : error
  })
  const current = facts.current
  if (!current) throw new UserError(`${hostName} runs no release, so there is nothing to roll back`)
  const releases = parseReleases((await exec.run(readReleases(host.baseDir))).stdout)
  const older = releases.filter((r) => r.id < current.id)
  const target = to !== null ? releases.find((r) => r.id === to) : (releases.find((r) => r.id === current.previous) ?? older[0])
  const kept = releases.map((r) => `${r.id}${r.id === current.id ? ' (current)' : ''}`).join(', ')
  if (!target) throw new UserError(to !== null ? `${hostName} keeps no release ${to}` : `${hostName} keeps no release older than ${current.id}`, `Releases on ${hostName}: ${kept}.`)
  if (target.id === current.id) throw new UserError(`${hostName} already runs ${target.id}`, `Releases on ${hostName}: ${kept}.`)
  const token = `${whoAmI().machine}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2, 10)}`
  await lock(exec, host, token, options)
  const back: ComposeTarget = { compose: facts.compose, project: current.composeProject, baseDir: host.baseDir, releaseId: current.id }
  const onto: ComposeTarget = { ...back, project: target.composeProject, releaseId: target.id }
  try {
    await exec.run(switchCurrent(host.baseDir, target.id))
    try {
      await exec.run(composeUp(onto), { timeoutMs: 30 * 60_000, signal: options.abort })
      const expected = target.services.filter((s) => s.tier !== 'on-demand').map((s) => ({ name: s.name, oneshot: s.oneshot }))
      const services = await waitHealthy(exec, input, { host: hostName, composeProject: target.composeProject }, expected, options)
      await exec.run(recordAndPrune(host.baseDir, historyLine(current, 'rolled-back', options, { to: target.id, manual: true }), input.project.platform.releasesKeep), { timeoutMs: 30_000 })
      return { host: hostName, from: current.id, to: target.id, durationMs: Date.now() - started, services }
    } catch (error) {
      // Not healthy (or interrupted): back onto what it ran, whatever the signal said.
      await exec.run(switchCurrent(host.baseDir, current.id))
      await exec.run(composeUp(back), { timeoutMs: 30 * 60_000 })
      await exec.run(recordAndPrune(host.baseDir, historyLine(target, 'failed', options, { rollbackFrom: current.id, error: input.redact(errorMessage(error)).slice(0, 500) }), input.project.platform.releasesKeep), { check: false })
      throw new UserError(`${hostName}: rollback to ${target.id} failed: ${input.redact(errorMessage(error))}`, `The host is back on ${current.id}.`)
    }
  } finally {
    await exec.run(releaseLock(host.baseDir, token), { check: false, timeoutMs: 20_000 }).catch(() => undefined)
  }
}
