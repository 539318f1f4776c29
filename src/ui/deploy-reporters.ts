// How a deploy looks: listr2 tasks per host in a terminal; plain timestamped lines when not a TTY or
// in CI; nothing but the final JSON document with --json (progress then goes to stderr as lines).
import chalk from 'chalk'
import type { ListrTaskWrapper } from 'listr2'
import type { DeployEvent, DeployReport, HostReport } from '../deploy/engine.js'
import type { Plan } from '../plan/plan.js'
import { printable } from '../util/printable.js'

export interface Reporter {
  emit(event: DeployEvent): void
  /** Resolves when the display has drawn its last frame. */
  done(): Promise<void>
}

/** Step details and errors carry what hosts printed: every line shown is escaped (printable). */
export function plainReporter(writeLine: (line: string) => void, start = Date.now()): Reporter {
  const write = (line: string) => writeLine(printable(line))
  const stamp = () => `${((Date.now() - start) / 1000).toFixed(1).padStart(6)}s`
  return {
    emit(event) {
      if (event.type === 'host-start') write(`${stamp()} ${event.host}: start`)
      else if (event.type === 'step' && event.phase !== 'start') {
        // a failed step's error is printed once, on the host's last line (describe), not here too
        const detail = event.phase === 'done' && event.detail ? `: ${event.detail}` : ''
        write(
          `${stamp()} ${event.host}: ${event.step} ${event.phase === 'done' ? 'ok' : 'FAILED'}${event.ms !== undefined ? ` (${event.ms} ms)` : ''}${detail}`,
        )
      } else if (event.type === 'host-done') write(`${stamp()} ${event.report.host}: ${describe(event.report)}`)
    },
    async done() {},
  }
}

export function describe(report: HostReport): string {
  switch (report.status) {
    case 'deployed':
      return `deployed ${report.release} in ${(report.durationMs / 1000).toFixed(1)} s`
    case 'unchanged':
      return `unchanged (${report.release})`
    case 'repaired':
      return `repaired: restarted ${report.release}`
    case 'skipped':
    case 'cancelled':
      return `${report.status}: ${report.reason ?? ''}`
    case 'failed':
      return `${failedAt(report)}: ${report.error ?? ''}${rolledBack(report)}${report.hint ? `\n    hint: ${report.hint}` : ''}`
  }
}

/** `FAILED at health`: the step, when the error came from one. */
function failedAt(report: HostReport): string {
  return `FAILED${report.failedStep ? ` at ${report.failedStep}` : ''}`
}

/** Where a failed host was left: `; rolled back to ID`, `; still on ID`, ... */
function rolledBack(report: HostReport): string {
  const rollback = report.rollback
  if (rollback?.status === 'done')
    return rollback.release ? `; rolled back to ${rollback.release}` : '; new containers removed'
  if (rollback?.status === 'failed') return `; ROLLBACK FAILED: ${rollback.error ?? ''}`
  return rollback?.release ? `; still on ${rollback.release}` : ''
}

/** A host of the summary: a failure named by its step and outcome, its error already printed with the host. */
function summaryLine(report: HostReport): string {
  if (report.status !== 'failed') return describe(report)
  return `${failedAt(report)} (error above)${rolledBack(report)}`
}

/** listr2 is loaded only here: a terminal display, never a CI run or --json (it costs start-up time). */
export async function listrReporter(plan: Plan): Promise<Reporter> {
  const { Listr } = await import('listr2')
  type Waiter = { resolve: (report: HostReport) => void; task?: ListrTaskWrapper<unknown, never, never> }
  const waiters = new Map<string, Waiter>()
  const finished = new Map<string, HostReport>()
  const started = new Set<string>()
  const tasks = new Listr(
    plan.hosts.map((host) => ({
      title: `${host.name} ${chalk.dim(`wave ${host.wave}`)}`,
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
        const report =
          finished.get(host.name) ??
          (await new Promise<HostReport>((resolve) => waiters.set(host.name, { resolve, task })))
        task.title = `${host.name} ${chalk.dim(printable(describe(report)))}`
        if (report.status === 'failed') throw new Error(printable(describe(report)))
        if (report.status === 'skipped' || report.status === 'cancelled')
          task.skip(printable(`${host.name}: ${describe(report)}`))
      },
    })),
    { concurrent: true, exitOnError: false },
  )
  const running = tasks.run().catch(() => undefined)
  const output = (host: string, text: string) => {
    const waiter = waiters.get(host)
    if (waiter?.task) waiter.task.output = printable(text)
  }
  return {
    emit(event) {
      if (event.type === 'host-start') {
        started.add(event.host)
        output(event.host, 'starting')
      } else if (event.type === 'step')
        output(
          event.host,
          `${event.step}${event.phase === 'start' ? '...' : event.phase === 'done' ? ` ok${event.detail ? `: ${event.detail}` : ''}` : ' failed'}`,
        )
      else if (event.type === 'progress') output(event.host, `${event.step}: ${event.text}`)
      else if (event.type === 'host-done') {
        finished.set(event.report.host, event.report)
        waiters.get(event.report.host)?.resolve(event.report)
      }
    },
    async done() {
      await running
    },
  }
}

export function formatSummary(report: DeployReport): string {
  const s = report.summary
  const parts = (['deployed', 'unchanged', 'repaired', 'failed', 'skipped', 'cancelled'] as const)
    .filter((k) => s[k] > 0)
    .map((k) => `${s[k]} ${k}`)
  const lines = [
    `${report.ok ? chalk.green('ok') : chalk.red('FAILED')}: ${parts.join(', ')} in ${(report.durationMs / 1000).toFixed(1)} s${report.interrupted ? ' (interrupted)' : ''}`,
  ]
  for (const host of report.hosts.filter(
    (h) => h.status === 'failed' || h.status === 'skipped' || h.status === 'cancelled',
  ))
    lines.push(`  ${host.host}: ${printable(summaryLine(host))}`)
  if (report.fleetRelease)
    lines.push(
      `fleet release ${report.fleetRelease.id} (recorded here and on ${report.fleetRelease.recordedOn.length} of ${report.hosts.length} hosts; \`ai-platform releases\` lists them)`,
    )
  return lines.join('\n')
}
