import chalk from 'chalk'
import type { HealthReport } from '../health/service.js'
import { printable } from '../util/printable.js'

const paint = { ok: chalk.green, fail: chalk.red, warn: chalk.yellow, stopped: chalk.dim }

/** Host x service table: one row per check, status coloured in a terminal. */
export function formatHealth(report: HealthReport): string {
  const rows: string[][] = [['HOST', 'SERVICE', 'CHECK', 'STATUS', 'LATENCY', 'DETAIL']]
  const status: string[] = ['']
  for (const host of report.hosts) {
    if (!host.reachable) {
      rows.push([host.host, '-', 'ssh', 'fail', '-', host.error ?? 'unreachable'])
      status.push('fail')
    }
    let lastService: string | null | undefined
    for (const check of host.checks) {
      const first = lastService === undefined
      const label = check.status === 'fail' && !check.required ? 'fail*' : check.status
      rows.push([
        first ? host.host : '',
        check.service === lastService ? '' : (check.service ?? '(host)'),
        check.check,
        label,
        `${check.latencyMs} ms`,
        check.detail,
      ])
      status.push(check.status)
      lastService = check.service
    }
  }
  // Details and errors are what hosts answered: escaped before they are padded and coloured.
  for (const row of rows) row.forEach((cell, i) => (row[i] = printable(cell).replace(/\n/g, ' ')))
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const lines = rows.map((row, r) =>
    row
      .map((cell, i) => {
        const padded = i === 4 ? cell.padStart(widths[i]!) : i === row.length - 1 ? cell : cell.padEnd(widths[i]!)
        if (r === 0) return chalk.bold(padded)
        if (i === 3) return paint[status[r] as keyof typeof paint](padded)
        return padded
      })
      .join('  '),
  )
  const s = report.summary
  lines.push('')
  lines.push(
    `${report.ok ? chalk.green('healthy') : chalk.red('UNHEALTHY')}: ${s.ok}/${s.checks} checks ok on ${s.hosts - s.unreachable}/${s.hosts} hosts` +
      `${s.failed > 0 ? `, ${s.failed} failed` : ''}${s.optionalFailed > 0 ? `, ${s.optionalFailed} optional failed (*)` : ''}${s.stopped > 0 ? `, ${s.stopped} stopped on demand` : ''}${s.unreachable > 0 ? `, ${s.unreachable} unreachable` : ''} in ${report.durationMs} ms`,
  )
  return lines.join('\n')
}
