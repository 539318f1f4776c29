// The deploy engine: executes the plan. Hosts start as soon as every host they depend on in the plan
// is up and healthy (bounded by --concurrency, and by each stack's max_unavailable_hosts); a failed
// host is rolled back and its dependents are skipped, and so are the hosts not started of a bounded
// stack it runs; independent hosts go on. Every host ends on a whole release with its lock released.
import type { Project } from '../config/model.js'
import type { Plan } from '../plan/plan.js'
import type { HostRender } from '../render/render.js'
import type { Connector } from '../remote/connect.js'
import { schedule, type HostOutcome } from './decide.js'
import { deployHost, probe, type Probe } from './host-deploy.js'
export { parseHolder } from './lock-holder.js'
export { parseReleases, rollbackHost, type RollbackOptions, type RollbackReport } from './rollback.js'

export type HostStatus = HostOutcome

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
  /** The step the error came from (lock, upload, images, switch, up, health, ...), when one did. */
  failedStep?: string
  /** What to do about the error, when there is a known next step. */
  hint?: string
  rollback?: { status: 'done' | 'failed' | 'none'; release: string | null; error?: string }
  reason?: string
  /** A release the host ran but history did not name (a deploy cut off after its switch): recorded by this run. */
  recovered?: string
  /** Services replaced batch by batch (x-ai-platform.rollout), when any had replicas of the previous definition. */
  rollouts?: { service: string; batches: number; replaced: number }[]
}

export interface DeployReport {
  kind: 'ai-platform/deploy'
  ok: boolean
  platform: string
  durationMs: number
  interrupted: boolean
  hosts: HostReport[]
  summary: Record<HostStatus, number>
  /** The fleet release this run recorded (src/deploy/fleet-release.ts), when it changed a host. */
  fleetRelease?: { id: string; recordedOn: string[] }
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
  /** Each read of a host during a wait (default REMOTE_WAIT_MS); tests shorten it. */
  readTimeoutMs?: number
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
  // Whether a host already runs its release is a read-only question: ask every host at once, so a
  // no-op run costs one round of probes instead of one per wave.
  const probes = new Map<string, Promise<Probe>>()
  // Hosts a probe found running their render: they take no slot of a stack's limit. A probe still out
  // when hosts wait for such a slot wakes the loop when it answers.
  const unchanged = new Set<string>()
  const answering = new Map<string, Promise<void>>()
  if (!options.force) {
    for (const host of input.plan.hosts)
      probes.set(
        host.name,
        probe(
          input,
          host,
          input.renders.find((r) => r.host === host.name)!,
        ),
      )
    for (const [name, pending] of probes) {
      const heard = pending
        .then(
          (found) => {
            if (found.ready) unchanged.add(name)
          },
          () => undefined,
        )
        .finally(() => answering.delete(name))
      answering.set(name, heard)
    }
  }

  while (reports.size < input.plan.hosts.length) {
    const finished = new Map([...reports].map(([name, report]) => [name, report.status]))
    const next = schedule(input.plan, {
      finished,
      running: new Set(running.keys()),
      unchanged: new Set(unchanged),
      concurrency: options.concurrency,
      stopped: options.stop.aborted,
    })
    for (const end of next.end) {
      const report = skipped(end.host, end.status, end.reason)
      reports.set(end.host, report)
      input.emit({ type: 'host-done', report })
    }
    for (const name of next.start) {
      const host = input.plan.hosts.find((h) => h.name === name)!
      const render = input.renders.find((r) => r.host === name)!
      input.emit({ type: 'host-start', host: name })
      const work = deployHost(input, options, host, render, probes.get(name) ?? null).then((report) => {
        reports.set(name, report)
        running.delete(name)
        input.emit({ type: 'host-done', report })
      })
      running.set(name, work)
    }
    const slotWaits = input.plan.limits.length > 0 && next.waiting.length > 0 ? [...answering.values()] : []
    if (running.size > 0) await Promise.race([...running.values(), ...slotWaits])
    else if (next.end.length === 0 && reports.size < input.plan.hosts.length)
      throw new Error('deploy scheduler: no runnable host left (dependency cycle in the plan?)')
  }

  const hosts = input.plan.hosts.map((h) => reports.get(h.name)!)
  const summary: Record<HostStatus, number> = {
    deployed: 0,
    unchanged: 0,
    repaired: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
  }
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

/** What work on one host needs of a run (a rollback has no plan). */
export type HostInput = Pick<DeployInput, 'project' | 'connector' | 'emit' | 'redact'>

function skipped(host: string, status: 'skipped' | 'cancelled', reason: string): HostReport {
  return { host, status, durationMs: 0, release: null, previous: null, compose: null, services: [], steps: [], reason }
}
