// Text output of the day-two reads (audit, lock status, status): one line per host or entry, a host that
// could not be read listed in its place with why, never left out.
import type { FleetRelease } from '../deploy/fleet-release.js'
import type { DriftReport } from '../ops/drift.js'
import type { StatusHost } from '../ops/inspect.js'
import type { OnDemandReport } from '../ops/on-demand.js'

/** Why a host could not be read, in one line: its first line, without the `HOST: ` the message starts with. */
export function unreadReason(host: string, error: string): string {
  const first = error.trim().split('\n')[0] ?? ''
  return first.startsWith(`${host}: `) ? first.slice(host.length + 2) : first
}

export interface AuditHost {
  host: string
  entries: readonly Record<string, unknown>[]
  error?: string
}

/** A field of a history line as the host wrote it: text as is, anything else as JSON, nothing for none. */
function text(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : JSON.stringify(value)
}

/** The audit listing in host order: each entry on a line, and a host whose history could not be read on one line saying why. */
export function formatAudit(hosts: readonly AuditHost[]): string[] {
  const line = (time: string, host: string, status: string, rest: string) =>
    `${time}  ${host.padEnd(12)} ${status.padEnd(10)} ${rest}`
  return hosts.flatMap((h) => {
    if (h.error !== undefined)
      return [line('-'.padEnd(24), h.host, '-', `cannot read its history: ${unreadReason(h.host, h.error)}`)]
    return h.entries.map((e) =>
      line(
        text(e.time),
        text(e.host ?? h.host),
        text(e.status ?? e.event),
        `${text(e.release)}  ${text(e.user)}@${text(e.machine)}${e.error ? `  ${text(e.error)}` : ''}`,
      ),
    )
  })
}

/**
 * `releases`: the newest fleet release last, each on a line (id, time, who, how many hosts of each
 * status, the inputs' digest, the command), then its hosts and their releases; unreadable hosts after.
 */
export function formatFleetReleases(
  releases: readonly FleetRelease[],
  errors: readonly { host: string; error: string }[],
  rejected: number,
): string[] {
  const lines: string[] = []
  if (releases.length === 0) lines.push('no fleet release recorded yet (a deploy that changes a host records one)')
  for (const r of releases) {
    const counts = new Map<string, number>()
    for (const h of r.hosts) counts.set(h.status, (counts.get(h.status) ?? 0) + 1)
    const statuses = [...counts].map(([status, n]) => `${n} ${status}`).join(', ')
    lines.push(`${r.id}  ${r.time}  ${r.user}@${r.machine}  ${statuses}  inputs ${r.digest.slice(0, 12)}  ${r.command}`)
    for (const h of r.hosts) lines.push(`  ${h.host.padEnd(14)} ${(h.release ?? '-').padEnd(26)} ${h.status}`)
  }
  for (const e of errors) lines.push(`${e.host}: cannot read its fleet releases: ${unreadReason(e.host, e.error)}`)
  if (rejected > 0) lines.push(`${rejected} line(s) that are not a fleet release were skipped`)
  return lines
}

/** `drift`: a line per host (no drift, or cannot be read and why), then one per difference. */
export function formatDrift(report: DriftReport): string[] {
  const lines: string[] = []
  for (const h of report.hosts) {
    if (h.error !== undefined) lines.push(`${h.host}: cannot compare: ${unreadReason(h.host, h.error)}`)
    else if (h.drift.length === 0) lines.push(`${h.host}: no drift from ${h.release}`)
    else {
      lines.push(`${h.host}: ${h.drift.length} difference(s) from ${h.release}`)
      for (const d of h.drift) lines.push(`  ${d.kind.padEnd(10)} ${(d.service ?? '-').padEnd(24)} ${d.detail}`)
    }
  }
  lines.push(
    report.ok
      ? 'no drift'
      : 'DRIFT: the hosts above differ from the releases they record (`ai-platform deploy HOST --force` deploys the platform again)',
  )
  return lines
}

export interface LockLine {
  host: string
  reachable: boolean
  error?: string
  lock: { holder: string; since: string | null; command: string | null } | null
}

/** `lock status`: each host locked (by whom, since when, for what), not locked, or unreachable and why. */
export function formatLocks(hosts: readonly LockLine[]): string[] {
  return hosts.map(
    (h) =>
      `${h.host}: ${!h.reachable ? `unreachable: ${unreadReason(h.host, h.error ?? 'no answer')}` : h.lock ? `locked by ${h.lock.holder} since ${h.lock.since ?? '?'} (${h.lock.command ?? '?'})` : 'not locked'}`,
  )
}

/** `status` per host: its release, then each service's replicas as running/declared and its containers. */
export function formatStatus(hosts: readonly StatusHost[]): string[] {
  return hosts.flatMap((host) => {
    if (!host.reachable) return [`${host.host}: unreachable: ${host.error}`]
    const lines = [
      `${host.host}: ${host.release ? `release ${host.release.id}, deployed ${host.release.createdAt} by ${host.release.by}` : 'no release'}${host.compose ? `, compose ${host.compose}` : ''}${host.lock ? `, LOCKED by ${host.lock.holder}` : ''}`,
    ]
    const container = (c: StatusHost['containers'][number]) =>
      `    ${c.name.padEnd(32)} ${c.state.padEnd(10)} ${(c.health === 'none' ? '' : c.health).padEnd(10)} ${c.status.padEnd(28)} ${c.image}`
    for (const s of host.services) {
      lines.push(`  ${s.service.padEnd(28)} ${`${s.running}/${s.replicas}`.padEnd(7)} ${s.state}`)
      lines.push(...host.containers.filter((c) => c.service === s.service).map(container))
    }
    // Containers of services the inventory does not place here (one-shots, left over): as found.
    const declared = new Set(host.services.map((s) => s.service))
    for (const c of host.containers.filter((c) => !declared.has(c.service)))
      lines.push(`  ${c.service.padEnd(28)} ${''.padEnd(7)} ${c.state}`, container(c))
    return lines
  })
}

/** `up` / `down`: what was done (or would be, with --dry-run), then each named service's state. */
export function formatOnDemand(report: OnDemandReport): string[] {
  if (report.dryRun)
    return [
      `Dry run: ${report.action} ${report.services.join(', ')} on ${report.host} would:`,
      ...report.steps.map((s) => `  ${s}`),
      'Nothing was contacted or changed.',
    ]
  const verb = report.action === 'up' ? 'started' : 'stopped'
  return [
    `${report.host}: ${verb} ${report.services.join(', ')} on release ${report.release} in ${(report.durationMs / 1000).toFixed(1)} s`,
    ...report.states.map(
      (s) =>
        `  ${s.name.padEnd(28)} ${`${s.running}/${s.replicas}`.padEnd(7)} ${s.state}${s.health === 'none' ? '' : `, ${s.health}`}`,
    ),
  ]
}
