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
        write(`${stamp()} ${event.host}: ${event.step} ${event.phase === 'done' ? 'ok' : 'FAILED'}${event.ms !== undefined ? ` (${event.ms} ms)` : ''}${event.detail ? `: ${event.detail}` : ''}`)
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
    case 'failed': {
      const rollback = report.rollback
      const back = rollback?.status === 'done' ? (rollback.release ? `; rolled back to ${rollback.release}` : '; new containers removed') : rollback?.status === 'failed' ? `; ROLLBACK FAILED: ${rollback.error ?? ''}` : rollback?.release ? `; still on ${rollback.release}` : ''
      return `FAILED: ${report.error ?? ''}${back}${report.hint ? `\n    hint: ${report.hint}` : ''}`
    }
  }
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
        const report = finished.get(host.name) ?? (await new Promise<HostReport>((resolve) => waiters.set(host.name, { resolve, task })))
        task.title = `${host.name} ${chalk.dim(printable(describe(report)))}`
        if (report.status === 'failed') throw new Error(printable(describe(report)))
        if (report.status === 'skipped' || report.status === 'cancelled') task.skip(printable(`${host.name}: ${describe(report)}`))
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
      } else if (event.type === 'step') output(event.host, `${event.step}${event.phase === 'start' ? '...' : event.phase === 'done' ? ` ok${event.detail ? `: ${event.detail}` : ''}` : ' failed'}`)
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
  const parts = (['deployed', 'unchanged', 'repaired', 'failed', 'skipped', 'cancelled'] as const).filter((k) => s[k] > 0).map((k) => `${s[k]} ${k}`)
  const lines = [`${report.ok ? chalk.green('ok') : chalk.red('FAILED')}: ${parts.join(', ')} in ${(report.durationMs / 1000).toFixed(1)} s${report.interrupted ? ' (interrupted)' : ''}`]
  for (const host of report.hosts.filter((h) => h.status === 'failed' || h.status === 'skipped' || h.status === 'cancelled')) lines.push(`  ${host.host}: ${printable(describe(host))}`)
  return lines.join('\n')
}

/** A host a deploy (or rollback) has started and not finished, as far as its events tell. */
export interface InFlight {
  host: string
  /** Its lock may be held: the lock step started and did not fail. */
  locked: boolean
  /** `current` may point at the new release: the switch step started. */
  switched: boolean
}

/** Follows the engine's events to know the hosts in flight at any moment (for what a last Ctrl-C leaves). */
export function inFlightTracker(): { emit(event: DeployEvent): void; hosts(): InFlight[] } {
  const hosts = new Map<string, InFlight>()
  return {
    emit(event) {
      if (event.type === 'host-start') hosts.set(event.host, { host: event.host, locked: false, switched: false })
      else if (event.type === 'host-done') hosts.delete(event.report.host)
      else if (event.type === 'step' && hosts.has(event.host)) {
        const host = hosts.get(event.host)!
        // a lock step that failed took no lock (held by someone else): never suggest releasing that one
        if (event.step === 'lock') hosts.set(event.host, { ...host, locked: event.phase !== 'failed' })
        if (event.step === 'switch' && event.phase === 'start') hosts.set(event.host, { ...host, switched: true })
      }
    },
    hosts: () => [...hosts.values()],
  }
}

/** What exiting at once leaves of the hosts in flight, in one line: which are mid-deploy, and what frees their locks. */
export function formatLeftInFlight(hosts: readonly InFlight[]): string {
  const locked = hosts.filter((h) => h.locked)
  if (locked.length === 0) return 'no host had taken its lock, so none is left mid-deploy.'
  const names = locked.map((h) => h.host)
  const each = locked.map((h) => `${h.host} (${h.switched ? 'switched to a release not yet checked healthy' : 'locked, not switched'})`)
  return `left mid-deploy: ${each.join(', ')}; \`ai-platform lock release ${names.join(' ')}\` frees ${names.length === 1 ? 'its lock' : 'their locks'} (the next deploy from this machine does too).`
}
