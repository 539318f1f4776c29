// Live pull progress: a bar per node and model (bytes, rate, ETA) in a terminal, plain lines otherwise.
import chalk from 'chalk'
import type { ListrTaskWrapper } from 'listr2'
import type { ModelsEvent, PullReport, PullResult } from '../models/service.js'
import type { PullJob } from '../models/placement.js'
import { printable } from '../util/printable.js'

export interface ModelsReporter {
  emit(event: ModelsEvent): void
  done(): Promise<void>
}

export function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`
  return `${n} B`
}

function progressText(completed: number, total: number, rateBps: number, etaS: number | null): string {
  const width = 20
  const fraction = total > 0 ? Math.min(1, completed / total) : 0
  const filled = Math.round(fraction * width)
  const eta =
    etaS === null ? '--' : etaS >= 60 ? `${Math.floor(etaS / 60)}m${String(etaS % 60).padStart(2, '0')}s` : `${etaS}s`
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${bytes(completed)}/${bytes(total)} ${bytes(rateBps)}/s ETA ${eta}`
}

function describeResult(r: PullResult): string {
  if (r.status === 'present') return `already present (${bytes(r.bytes)})`
  if (r.status === 'pulled')
    return `pulled ${bytes(r.bytes)} in ${(r.durationMs / 1000).toFixed(1)} s${r.attempts > 1 ? ` (${r.attempts} attempts, resumed)` : ''}${r.servedBy.length > 1 ? `, serves ${r.servedBy.join(', ')}` : ''}`
  return `FAILED: ${r.error ?? ''}${r.attempts > 1 ? ` (after ${r.attempts} attempts)` : ''}`
}

const key = (job: { host: string; model: string }) => `${job.host}\0${job.model}`

export function plainModelsReporter(writeLine: (line: string) => void): ModelsReporter {
  const write = (line: string) => writeLine(printable(line))
  const lastDecile = new Map<string, number>()
  return {
    emit(event) {
      if (event.type === 'job-start') write(`${event.job.host} ${event.job.model}: pulling`)
      else if (event.type === 'job-progress') {
        // Nothing to show until a layer's size is known ("pulling manifest" has none).
        const decile = event.total > 0 ? Math.floor((event.completed / event.total) * 10) : -1
        if (decile > (lastDecile.get(key(event.job)) ?? -1)) {
          lastDecile.set(key(event.job), decile)
          write(
            `${event.job.host} ${event.job.model}: ${progressText(event.completed, event.total, event.rateBps, event.etaS)}`,
          )
        }
      } else write(`${event.result.host} ${event.result.model}: ${describeResult(event.result)}`)
    },
    async done() {},
  }
}

/** listr2 is loaded only for a terminal display (it costs start-up time). */
export async function listrModelsReporter(jobs: readonly PullJob[]): Promise<ModelsReporter> {
  const { Listr } = await import('listr2')
  const waiters = new Map<
    string,
    { resolve: (r: PullResult) => void; task?: ListrTaskWrapper<unknown, never, never> }
  >()
  const finished = new Map<string, PullResult>()
  const tasks = new Listr(
    jobs.map((job) => ({
      title: `${job.host} ${chalk.bold(job.model)}`,
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
        const result =
          finished.get(key(job)) ??
          (await new Promise<PullResult>((resolve) => waiters.set(key(job), { resolve, task })))
        task.title = `${job.host} ${chalk.bold(job.model)} ${chalk.dim(printable(describeResult(result)))}`
        if (result.status === 'failed') throw new Error(printable(describeResult(result)))
      },
    })),
    { concurrent: true, exitOnError: false },
  )
  const running = tasks.run().catch(() => undefined)
  return {
    emit(event) {
      if (event.type === 'job-progress') {
        const waiter = waiters.get(key(event.job))
        if (waiter?.task) waiter.task.output = progressText(event.completed, event.total, event.rateBps, event.etaS)
      } else if (event.type === 'job-done') {
        finished.set(key(event.result), event.result)
        waiters.get(key(event.result))?.resolve(event.result)
      }
    },
    async done() {
      await running
    },
  }
}

export function formatPullSummary(report: PullReport): string {
  const s = report.summary
  const lines = [
    `${report.ok ? chalk.green('ok') : chalk.red('FAILED')}: ${s.pulled} pulled (${bytes(s.bytes)}), ${s.present} already present, ${s.failed} failed in ${(report.durationMs / 1000).toFixed(1)} s`,
  ]
  for (const r of report.results.filter((x) => x.status === 'failed'))
    lines.push(printable(`  ${r.host} ${r.model}: ${describeResult(r)}`))
  return lines.join('\n')
}
