// Fleet releases: one id for the platform as a deploy left it. A deploy that changed a host records
// the release each host of the run then runs, who ran it, the command and a digest of the rendered
// inputs: locally (fleet-releases.jsonl beside the audit log) and on every host of the run that it
// reached (BASE/fleet-releases.jsonl), so another workstation can read the history from the hosts.
import { createHash, randomBytes } from 'node:crypto'
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { auditLogPath } from '../audit/audit.js'
import type { Project } from '../config/model.js'
import { errorMessage } from '../errors.js'
import { readFleetReleases, recordFleetRelease } from '../remote/commands.js'
import type { Connector } from '../remote/connect.js'
import { REMOTE_WAIT_MS } from '../util/deadline.js'
import type { HostReport } from './engine.js'
import { RELEASE_ID } from './release.js'

export const FLEET_RELEASE_ID = /^fleet-\d{8}T\d{6}Z-[0-9a-f]{8}$/
const HOST_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/
const MAX_COMMAND = 1000
/** Control characters (C0, DEL, C1): a host could print fake lines with them. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/** A deploy's host outcomes, and `rolled-back`: put back on its release by `rollback --fleet`. */
const STATUSES = ['deployed', 'unchanged', 'repaired', 'failed', 'skipped', 'cancelled', 'rolled-back'] as const

export interface FleetReleaseHost {
  host: string
  /** The release the host runs after the run; null when the run does not know (skipped, rollback failed). */
  release: string | null
  status: (typeof STATUSES)[number]
}

export interface FleetRelease {
  id: string
  time: string
  user: string
  machine: string
  command: string
  platform: string
  /** sha256 over each host's rendered release digest (host order): the same inputs give the same digest. */
  digest: string
  hosts: FleetReleaseHost[]
}

/** Where this machine keeps its fleet releases: beside the audit log. */
export function fleetReleasesPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(auditLogPath(env)), 'fleet-releases.jsonl')
}

/** The release a host runs once the run is over, as its report says. */
function runsAfter(report: HostReport): string | null {
  if (report.status === 'deployed' || report.status === 'unchanged' || report.status === 'repaired')
    return report.release
  // failed before its switch ('none'): still on the release it ran; rolled back ('done'): on that one
  if (report.status === 'failed' && (report.rollback?.status === 'done' || report.rollback?.status === 'none'))
    return report.rollback.release ?? report.previous
  // never started: on what it ran, when the run read it
  if (report.status === 'skipped' || report.status === 'cancelled') return report.previous
  return null
}

/**
 * The fleet release a deploy's report makes, or null when no host changed (every host unchanged,
 * failed and rolled back, skipped or cancelled: the platform is what the last fleet release says).
 */
export function fleetReleaseOf(
  reports: readonly HostReport[],
  renderHashes: ReadonlyMap<string, string>,
  run: { user: string; machine: string; command: string; platform: string },
  now = new Date(),
  nonce: string = randomBytes(4).toString('hex'),
): FleetRelease | null {
  if (!reports.some((r) => r.status === 'deployed' || r.status === 'repaired')) return null
  const digest = createHash('sha256')
    .update(reports.map((r) => `${r.host}\0${renderHashes.get(r.host) ?? ''}\n`).join(''))
    .digest('hex')
  return {
    id: fleetReleaseId(now, nonce),
    time: now.toISOString(),
    ...run,
    // what every reader accepts (checkFleetRelease): a long command line is cut, not the record lost
    command: run.command.slice(0, MAX_COMMAND),
    digest,
    hosts: reports.map((r) => ({ host: r.host, release: runsAfter(r), status: r.status })),
  }
}

/** `fleet-<UTC time>-<8 hex>`: unique per run, sortable by time. */
export function fleetReleaseId(now: Date, nonce: string = randomBytes(4).toString('hex')): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `fleet-${stamp}-${nonce}`
}

/**
 * Fleet release lines as a host (or this machine) holds them, each checked before use: a line that is
 * not one fleetReleaseOf could have written is counted in `rejected`, never trusted.
 */
export function parseFleetReleases(text: string): { releases: FleetRelease[]; rejected: number } {
  const releases: FleetRelease[] = []
  let rejected = 0
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const release = checkFleetRelease(line)
    if (release) releases.push(release)
    else rejected++
  }
  return { releases, rejected }
}

function checkFleetRelease(line: string): FleetRelease | null {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return null
  }
  const v = value as Record<string, unknown> | null
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
  const text = (key: string, max = MAX_COMMAND) =>
    typeof v[key] === 'string' && v[key].length <= max && !CONTROL.test(v[key])
  if (typeof v.id !== 'string' || !FLEET_RELEASE_ID.test(v.id)) return null
  if (!text('time', 40) || Number.isNaN(Date.parse(v.time as string))) return null
  if (!text('user', 200) || !text('machine', 200) || !text('command') || !text('platform', 100)) return null
  if (typeof v.digest !== 'string' || !/^[0-9a-f]{64}$/.test(v.digest)) return null
  if (!Array.isArray(v.hosts) || v.hosts.length > 10_000) return null
  const hosts: FleetReleaseHost[] = []
  for (const h of v.hosts as unknown[]) {
    const e = h as Record<string, unknown> | null
    if (e === null || typeof e !== 'object') return null
    if (typeof e.host !== 'string' || !HOST_NAME.test(e.host)) return null
    if (e.release !== null && (typeof e.release !== 'string' || !RELEASE_ID.test(e.release))) return null
    if (!STATUSES.includes(e.status as FleetReleaseHost['status'])) return null
    hosts.push({ host: e.host, release: e.release, status: e.status as FleetReleaseHost['status'] })
  }
  return {
    id: v.id,
    time: v.time as string,
    user: v.user as string,
    machine: v.machine as string,
    command: v.command as string,
    platform: v.platform as string,
    digest: v.digest,
    hosts,
  }
}

/** Releases from several sources (this machine, each host) as one list: each id once, oldest first. */
export function mergeFleetReleases(lists: readonly (readonly FleetRelease[])[]): FleetRelease[] {
  const byId = new Map<string, FleetRelease>()
  for (const list of lists) for (const r of list) if (!byId.has(r.id)) byId.set(r.id, r)
  return [...byId.values()].sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id))
}

/** Appends a fleet release to this machine's record (0600, its directory 0700). */
export async function appendLocalFleetRelease(release: FleetRelease, path = fleetReleasesPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  await appendFile(path, `${JSON.stringify(release)}\n`, { mode: 0o600 })
}

export async function readLocalFleetReleases(
  path = fleetReleasesPath(),
): Promise<{ releases: FleetRelease[]; rejected: number }> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return ''
    throw error
  })
  return parseFleetReleases(text)
}

/**
 * Records a fleet release here and on each host of the run that runs a known release. Like the audit
 * log, a record, not a gate: a write that fails is a warning naming the host, never the run's failure.
 */
export async function recordFleetReleaseEverywhere(
  release: FleetRelease,
  connections: Connector,
  project: Project,
  warn: (line: string) => void,
): Promise<{ hosts: string[] }> {
  const line = JSON.stringify(release)
  await appendLocalFleetRelease(release).catch((error: Error) =>
    warn(`warning: cannot write the local fleet release record: ${error.message}`),
  )
  const recorded: string[] = []
  await Promise.all(
    release.hosts
      .filter((h) => h.release !== null)
      .map(async (h) => {
        try {
          const exec = await connections.get(h.host)
          await exec.run(recordFleetRelease(project.hosts[h.host]!.baseDir, line), {
            timeoutMs: REMOTE_WAIT_MS,
            check: true,
          })
          recorded.push(h.host)
        } catch (error) {
          warn(`warning: ${h.host}: cannot record fleet release ${release.id}: ${errorMessage(error)}`)
        }
      }),
  )
  return { hosts: release.hosts.map((h) => h.host).filter((h) => recorded.includes(h)) }
}

/** One host's own record of the fleet releases it took part in (its newest `limit`); the error, when it cannot be read. */
export async function readHostFleetReleases(
  connections: Connector,
  project: Project,
  host: string,
  limit: number,
  timeoutMs = REMOTE_WAIT_MS,
): Promise<{ host: string; releases: FleetRelease[]; rejected: number; error?: string }> {
  try {
    const exec = await connections.get(host)
    const result = await exec.run(readFleetReleases(project.hosts[host]!.baseDir, limit), { check: true, timeoutMs })
    return { host, ...parseFleetReleases(result.stdout) }
  } catch (error) {
    return { host, releases: [], rejected: 0, error: errorMessage(error) }
  }
}
