// `ai-platform deploy`: plan, then execute the same plan object. Wires the engine to the connectors,
// the secrets, the reporter, the signals and the audit log.
import { auditRun } from '../audit/audit.js'
import type { ConfirmChange } from '../cli/confirm.js'
import type { Interruptible } from '../cli/interrupts.js'
import type { OpenProject } from '../config/open.js'
import { UserError, errorMessage } from '../errors.js'
import type { Plan } from '../plan/plan.js'
import { planRun } from '../plan/service.js'
import { connector, type Connector } from '../remote/connect.js'
import { readSecrets, redactor } from '../secrets/secrets.js'
import { loginFor } from '../remote/registry-auth.js'
import { deploy as runEngine, rollbackHost, type DeployReport, type HostInput, type RollbackReport } from './engine.js'
import type { RollbackOptions } from './rollback.js'
import { LOCK_STALE_S } from './host-ops.js'
import {
  fleetReleaseId,
  fleetReleaseOf,
  mergeFleetReleases,
  readHostFleetReleases,
  readLocalFleetReleases,
  recordFleetReleaseEverywhere,
  type FleetRelease,
} from './fleet-release.js'
import { pickFleetRelease, planFleetRollback, runFleetRollback, type FleetRollbackResult } from './fleet-rollback.js'
import { whoAmI } from './release.js'
import type { Reporter } from '../ui/deploy-reporters.js'
import { formatLeftInFlight, inFlightTracker } from './in-flight.js'
import { printable } from '../util/printable.js'

export interface DeployCommandOptions {
  selectors: string[]
  phase?: 'infra' | 'ai' | 'monitor' | undefined
  withDeps: boolean
  force: boolean
  concurrency: number
  lockWaitS: number
  healthTimeoutS: number
  acceptNew: boolean
  pull: 'missing' | 'always' | 'never'
  /** Asked before anything is contacted: the hosts of the plan. */
  confirm: ConfirmChange
  /** The display of the run, made by the command layer once the plan is known. */
  reporter: (plan: Plan) => Promise<Reporter>
  /** A warning that does not fail the run (the audit log could not be written). */
  warn: (line: string) => void
  command: string
  tool: string
  /** Ctrl-C and SIGTERM: the command's escalation, given the deploy's steps. */
  interruptible: Interruptible
}

export interface DeployOutcome {
  report: DeployReport
  plan: Plan
}

export async function deployCommand(open: OpenProject, options: DeployCommandOptions): Promise<DeployOutcome> {
  const { plan, renders } = planRun(open, {
    selectors: options.selectors,
    phase: options.phase,
    withDeps: options.withDeps,
  })
  const secrets = await readSecrets(open.project)
  if (!secrets.exists && renders.some((r) => r.secrets.length > 0)) {
    throw new UserError(
      `${secrets.path} does not exist`,
      'Run `ai-platform secrets init` (or `ai-platform init DIR` for a new platform) first.',
    )
  }
  // The registry's password is refused here when missing, before anything connects.
  loginFor(
    open.project.platform,
    secrets.values,
    renders.flatMap((r) => r.services.map((s) => s.image)),
  )
  await options.confirm({
    action: `Deploy ${plan.summary.hosts} hosts of platform ${plan.platform} in ${plan.summary.waves} waves`,
    hosts: plan.hosts.map((h) => h.name),
  })

  const values = [...secrets.values.values()]
  const mask = redactor(values)
  const reporter = await options.reporter(plan)
  const inFlight = inFlightTracker()
  const signals = options.interruptible({
    steps: [
      { called: 'stop starting hosts', doing: 'starting no new host; hosts in flight finish or roll back' },
      {
        called: 'abandon their health waits (they are rolled back)',
        doing: 'abandoning the health waits in flight; those hosts are rolled back',
      },
    ],
    left: () => formatLeftInFlight(inFlight.hosts()),
  })
  const connections = connector(open.project, { acceptNew: options.acceptNew, redact: mask })
  let report: DeployReport
  try {
    report = await runEngine(
      {
        project: open.project,
        plan,
        renders,
        secrets: secrets.values,
        connector: connections,
        emit: (e) => {
          inFlight.emit(e)
          reporter.emit(e)
        },
        redact: mask,
      },
      {
        force: options.force,
        concurrency: options.concurrency,
        lockWaitS: options.lockWaitS,
        lockStaleS: LOCK_STALE_S,
        healthTimeoutS: options.healthTimeoutS,
        pull: options.pull,
        command: options.command,
        tool: options.tool,
        stop: signals.after(1),
        abort: signals.after(2),
      },
    )
    // In plan order, whatever order the hosts finished in.
    const order = renders.map((r) => r.host)
    const byPlan = [...report.hosts].sort((a, b) => order.indexOf(a.host) - order.indexOf(b.host))
    const release = fleetReleaseOf(byPlan, new Map(renders.map((r) => [r.host, r.hash])), {
      ...whoAmI(),
      command: options.command,
      platform: plan.platform,
    })
    if (release) {
      const { hosts } = await recordFleetReleaseEverywhere(release, connections, open.project, options.warn)
      report = { ...report, fleetRelease: { id: release.id, recordedOn: hosts } }
    }
  } finally {
    signals.dispose()
    await connections.closeAll()
    await reporter.done()
  }
  await auditRun(
    whoAmI(),
    { command: options.command, platform: plan.platform },
    report.hosts.map((h) => ({
      host: h.host,
      status: h.status,
      release: h.release,
      previous: h.previous,
      durationMs: h.durationMs,
      ...(h.error ? { error: mask(h.error) } : {}),
      ...(h.rollback ? { rollback: h.rollback } : {}),
    })),
    options.warn,
  )
  return { report, plan }
}

export interface RollbackCommandOptions {
  host: string
  to: string | null
  lockWaitS: number
  healthTimeoutS: number
  acceptNew: boolean
  /** A line of progress or a warning, for the operator (stderr). */
  log: (line: string) => void
  command: string
  /** Ctrl-C and SIGTERM: the command's escalation, given the rollback's step. */
  interruptible: Interruptible
}

/** `ai-platform rollback HOST [--to ID]`: one host back on a release it keeps; audited like a deploy. */
export async function rollbackCommand(open: OpenProject, options: RollbackCommandOptions): Promise<RollbackReport> {
  const secrets = await readSecrets(open.project)
  const values = [...secrets.values.values()]
  const mask = redactor(values)
  const signals = options.interruptible({
    steps: [
      {
        called: 'abandon the rollback',
        doing: `abandoning the rollback; ${options.host} stays on, or goes back to, the release it ran`,
      },
    ],
    left: () =>
      `${options.host} may be mid-rollback, on either release, its lock held: \`ai-platform lock release ${options.host}\` frees it (the next deploy from this machine does too).`,
  })
  const abort = signals.after(1)
  const connections = connector(open.project, { acceptNew: options.acceptNew, redact: mask })
  const log = (line: string) => options.log(printable(line))
  const started = new Date()
  let report: RollbackReport | null = null
  let failure: string | null = null
  try {
    const [input, rollbackOptions] = rollbackRun(open.project, connections, mask, log, options, abort)
    report = await rollbackHost(input, rollbackOptions, options.host, options.to)
    return report
  } catch (error) {
    failure = mask(errorMessage(error))
    throw error
  } finally {
    signals.dispose()
    await connections.closeAll()
    await auditRun(
      whoAmI(),
      { command: options.command, platform: open.project.platform.name },
      [
        {
          host: options.host,
          status: report ? 'rolled-back' : 'failed',
          release: report?.to ?? null,
          previous: report?.from ?? null,
          durationMs: Date.now() - started.getTime(),
          ...(failure ? { error: failure } : {}),
        },
      ],
      options.log,
    )
  }
}

/** What rollbackHost takes, for `rollback HOST` and each host of `rollback --fleet`: progress as log lines. */
function rollbackRun(
  project: OpenProject['project'],
  connections: Connector,
  mask: (text: string) => string,
  log: (line: string) => void,
  options: { lockWaitS: number; healthTimeoutS: number; command: string },
  abort: AbortSignal,
): [HostInput, RollbackOptions] {
  return [
    {
      project,
      connector: connections,
      emit: (e) => (e.type === 'progress' ? log(`${e.host}: ${e.text}`) : undefined),
      redact: mask,
    },
    {
      lockWaitS: options.lockWaitS,
      lockStaleS: LOCK_STALE_S,
      healthTimeoutS: options.healthTimeoutS,
      command: options.command,
      stop: abort,
      abort,
    },
  ]
}

/** Fleet release lines read from each host to find the one to go back to. */
const FLEET_RELEASES_READ = 200

export interface FleetRollbackCommandOptions {
  /** The fleet release to go back to; null: the one before the newest. */
  id: string | null
  dryRun: boolean
  lockWaitS: number
  healthTimeoutS: number
  acceptNew: boolean
  confirm: ConfirmChange
  /** A line of progress or a warning, for the operator (stderr). */
  log: (line: string) => void
  command: string
  interruptible: Interruptible
}

export interface FleetRollbackReport {
  kind: 'ai-platform/rollback-fleet'
  ok: boolean
  dryRun: boolean
  target: string
  hosts: FleetRollbackResult[]
  /** The fleet release this rollback recorded (when it changed hosts and all of them came back). */
  fleetRelease?: { id: string; recordedOn: string[] }
}

/**
 * `ai-platform rollback --fleet [ID]`: the fleet release's hosts back on their releases of then, planned
 * and shown first (src/deploy/fleet-rollback.ts), confirmed when more than one host changes, audited
 * per host, and recorded as a fleet release of its own once every host is back.
 */
export async function fleetRollbackCommand(
  open: OpenProject,
  options: FleetRollbackCommandOptions,
): Promise<FleetRollbackReport> {
  const { project } = open
  const secrets = await readSecrets(project)
  const mask = redactor([...secrets.values.values()])
  const log = (line: string) => options.log(printable(mask(line)))
  const connections = connector(project, { acceptNew: options.acceptNew, redact: mask })
  try {
    const local = await readLocalFleetReleases()
    const remote = await Promise.all(
      project.hostOrder.map((h) => readHostFleetReleases(connections, project, h, FLEET_RELEASES_READ)),
    )
    for (const r of remote) if (r.error) log(`warning: ${r.host}: cannot read its fleet releases: ${r.error}`)
    const mine = (list: readonly FleetRelease[]) => list.filter((r) => r.platform === project.platform.name)
    const target = pickFleetRelease(
      mergeFleetReleases([mine(local.releases), ...remote.map((r) => mine(r.releases))]),
      options.id,
    )
    const plan = await planFleetRollback(project, target, connections)
    const changing = plan.hosts.filter((h) => h.action === 'rollback')
    log(
      `rollback to ${target.id} (${target.time}, ${target.command}): ${changing.length} of ${plan.hosts.length} hosts change, in this order`,
    )
    for (const h of plan.hosts)
      log(`  ${h.host}: ${h.action === 'already' ? `already on ${h.to}` : `${h.from ?? 'nothing'} -> ${h.to}`}`)
    const pending = plan.hosts.map((h) => ({ host: h.host, from: h.from, to: h.to, status: 'not-started' as const }))
    if (options.dryRun)
      return { kind: 'ai-platform/rollback-fleet', ok: true, dryRun: true, target: target.id, hosts: pending }
    if (changing.length === 0)
      return {
        kind: 'ai-platform/rollback-fleet',
        ok: true,
        dryRun: false,
        target: target.id,
        hosts: plan.hosts.map((h) => ({ host: h.host, from: h.from, to: h.to, status: 'already' as const })),
      }
    await options.confirm({
      action: `Roll back ${changing.length} hosts of platform ${project.platform.name} to ${target.id}`,
      hosts: changing.map((h) => h.host),
    })
    const signals = options.interruptible({
      steps: [
        {
          called: 'stop after the host in flight',
          doing: 'starting no other host; the one in flight goes back on the release it ran',
        },
      ],
      left: () =>
        'a host may be mid-rollback, on either release, its lock held: `ai-platform lock release HOST` frees it.',
    })
    let results: FleetRollbackResult[]
    try {
      const [input, rollbackOptions] = rollbackRun(project, connections, mask, log, options, signals.after(1))
      results = await runFleetRollback(input, rollbackOptions, plan, log)
    } finally {
      signals.dispose()
    }
    await auditRun(
      whoAmI(),
      { command: options.command, platform: project.platform.name },
      results
        .filter((r) => r.status === 'rolled-back' || r.status === 'failed')
        .map((r) => ({
          host: r.host,
          status: r.status,
          release: r.status === 'rolled-back' ? r.to : r.from,
          previous: r.from,
          fleetRelease: target.id,
          ...(r.error ? { error: r.error } : {}),
        })),
      options.log,
    )
    const ok = results.every((r) => r.status === 'rolled-back' || r.status === 'already')
    const report: FleetRollbackReport = {
      kind: 'ai-platform/rollback-fleet',
      ok,
      dryRun: false,
      target: target.id,
      hosts: results,
    }
    if (ok) {
      const release: FleetRelease = {
        ...target,
        id: fleetReleaseId(new Date()),
        time: new Date().toISOString(),
        ...whoAmI(),
        command: options.command,
        hosts: target.hosts.map((h) => ({
          ...h,
          status: results.find((r) => r.host === h.host)!.status === 'already' ? 'unchanged' : 'rolled-back',
        })),
      }
      const { hosts } = await recordFleetReleaseEverywhere(release, connections, project, options.log)
      report.fleetRelease = { id: release.id, recordedOn: hosts }
    }
    return report
  } finally {
    await connections.closeAll()
  }
}
