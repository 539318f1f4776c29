import chalk from 'chalk'
import type { Plan } from '../plan/plan.js'
import { wrapLine } from './wrap.js'

/**
 * The plan for people: waves, hosts, what each runs, why it waits, and the stacks that bound how many
 * of their hosts deploy at once. Secrets appear by name only. Lines
 * are wrapped at word boundaries to `width` columns (src/ui/wrap.ts outputWidth() gives the terminal's).
 */
export function formatPlan(plan: Plan, options: { title?: string; width?: number } = {}): string {
  const width = options.width ?? 80
  const lines: string[] = []
  const push = (line: string, indent: string) => lines.push(...wrapLine(line, width, indent))
  const title = options.title ?? 'Plan'
  push(
    chalk.bold(`${title} for platform ${plan.platform}`) +
      ` ${chalk.dim(plan.bundled ? '(bundled reference platform)' : `(${plan.project})`)}: ${plan.summary.hosts} host${plan.summary.hosts === 1 ? '' : 's'} in ${plan.summary.waves} wave${plan.summary.waves === 1 ? '' : 's'}, ${plan.summary.services} services`,
    '  ',
  )
  for (const wave of plan.waves) {
    lines.push('')
    lines.push(
      chalk.bold(`wave ${wave.wave}`) +
        chalk.dim(wave.hosts.length === 1 ? ' (1 host)' : ` (${wave.hosts.length} hosts in parallel)`),
    )
    for (const name of wave.hosts) {
      const host = plan.hosts.find((h) => h.name === name)!
      const target =
        host.transport === 'local'
          ? 'local'
          : `ssh ${host.user ? `${host.user}@` : ''}${host.address}${host.port ? `:${host.port}` : ''}`
      push(
        `  ${chalk.cyan(name.padEnd(12))} ${target.padEnd(34)} ${String(host.services.length).padStart(2)} services  ${chalk.dim(`hash ${host.hash.slice(0, 12)}`)}`,
        ' '.repeat(15),
      )
      const services = host.services.map((s) => `${s.name}${s.tier === 'on-demand' ? chalk.dim(' (on demand)') : ''}`)
      push(`    ${chalk.dim('runs')} ${services.join(', ')}`, ' '.repeat(9))
      const waits = host.dependsOn.filter((d) => plan.hosts.some((h) => h.name === d.host))
      if (waits.length > 0) {
        push(
          `    ${chalk.dim('after')} ${waits.map((d) => `${d.host} (${[...new Set(d.because.map((b) => b.requires))].join(', ')})`).join('; ')}`,
          ' '.repeat(10),
        )
      }
      if (host.secrets.length > 0)
        push(`    ${chalk.dim('secrets')} ${host.secrets.join(', ')} ${chalk.dim('(values ***)')}`, ' '.repeat(12))
    }
  }
  if (plan.limits.length > 0) {
    lines.push('')
    lines.push(chalk.bold('rollout limits') + chalk.dim(' (max_unavailable_hosts: hosts of a stack deploying at once)'))
    for (const limit of plan.limits)
      push(
        `  ${chalk.cyan(limit.stack)} at most ${limit.maxUnavailableHosts} of ${limit.hosts.join(', ')}${limit.maxUnavailableHosts >= limit.hosts.length ? chalk.dim(` (no effect: ${limit.hosts.length} in this plan)`) : ''}`,
        '    ',
      )
  }
  return lines.join('\n')
}
