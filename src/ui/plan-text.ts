import chalk from 'chalk'
import type { Plan } from '../plan/plan.js'

/** The plan for people: waves, hosts, what each runs, why it waits. Secrets appear by name only. */
export function formatPlan(plan: Plan, options: { title?: string } = {}): string {
  const lines: string[] = []
  const title = options.title ?? 'Plan'
  lines.push(
    chalk.bold(`${title} for platform ${plan.platform}`) +
      ` ${chalk.dim(`(${plan.project})`)}: ${plan.summary.hosts} host${plan.summary.hosts === 1 ? '' : 's'} in ${plan.summary.waves} wave${plan.summary.waves === 1 ? '' : 's'}, ${plan.summary.services} services`,
  )
  for (const wave of plan.waves) {
    lines.push('')
    lines.push(chalk.bold(`wave ${wave.wave}`) + chalk.dim(wave.hosts.length === 1 ? ' (1 host)' : ` (${wave.hosts.length} hosts in parallel)`))
    for (const name of wave.hosts) {
      const host = plan.hosts.find((h) => h.name === name)!
      const target = host.transport === 'local' ? 'local' : `ssh ${host.user ? `${host.user}@` : ''}${host.address}${host.port ? `:${host.port}` : ''}`
      lines.push(`  ${chalk.cyan(name.padEnd(12))} ${target.padEnd(34)} ${String(host.services.length).padStart(2)} services  ${chalk.dim(`hash ${host.hash.slice(0, 12)}`)}`)
      const services = host.services.map((s) => `${s.name}${s.tier === 'on-demand' ? chalk.dim(' (on demand)') : ''}`)
      lines.push(`    ${chalk.dim('runs')} ${services.join(', ')}`)
      const waits = host.dependsOn.filter((d) => plan.hosts.some((h) => h.name === d.host))
      if (waits.length > 0) {
        lines.push(`    ${chalk.dim('after')} ${waits.map((d) => `${d.host} (${[...new Set(d.because.map((b) => b.requires))].join(', ')})`).join('; ')}`)
      }
      if (host.secrets.length > 0) lines.push(`    ${chalk.dim('secrets')} ${host.secrets.join(', ')} ${chalk.dim('(values ***)')}`)
    }
  }
  return lines.join('\n')
}
