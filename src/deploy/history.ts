// A host's history.jsonl: one JSON line per deploy, repair, recovery and rollback, appended under the
// host's lock. Read back it decides which releases were healthy: those are the ones worth keeping
// and the ones a rollback may go back to. Pure functions; the engine runs the builders.
import type { KeptRelease } from '../remote/commands.js'
import { RELEASE_ID, whoAmI, type ReleaseRecord } from './release.js'

export type HistoryEvent = 'deployed' | 'repaired' | 'recovered' | 'rolled-back' | 'failed' | OnDemandEvent

/**
 * `ai-platform up` / `down` started or stopped on-demand services of the live release: a record for
 * the operator, never a word on a release's health (verdicts() passes over them, and the history the
 * decisions read leaves them out: see KEPT_HISTORY in src/remote/commands.ts).
 */
export type OnDemandEvent = 'started' | 'stopped'

/** The fields of a history line that decisions read (a line may carry more: user, command, error...). */
export interface HistoryEntry {
  event: string
  release: string
  /** rolled-back: the release the host went back to. */
  to?: string
  /** rolled-back: whether `to` came up healthy. */
  healthy?: boolean
  /** rolled-back: run by `ai-platform rollback` (the release left was healthy), not after a failed deploy. */
  manual?: boolean
}

export type Verdict = 'healthy' | 'failed' | 'unknown'

export interface HistoryContext {
  command: string
}

/** One history line: who, when, what, and the event's own fields. */
export function historyLine(
  record: Pick<ReleaseRecord, 'id' | 'hash' | 'previous'>,
  event: HistoryEvent,
  context: HistoryContext,
  extra: Record<string, unknown> = {},
  now = new Date(),
): string {
  const { user, machine } = whoAmI()
  return JSON.stringify({
    time: now.toISOString(),
    event,
    release: record.id,
    hash: record.hash,
    previous: record.previous,
    user,
    machine,
    command: context.command,
    ...extra,
  })
}

/** The lines of a history file that name releases as ours do; anything else a host holds is skipped. */
export function parseHistoryEntries(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.length > 64 * 1024) continue
    let data: unknown
    try {
      data = JSON.parse(line)
    } catch {
      continue
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) continue
    const r = data as Record<string, unknown>
    if (typeof r.event !== 'string' || typeof r.release !== 'string' || !RELEASE_ID.test(r.release)) continue
    const entry: HistoryEntry = { event: r.event, release: r.release }
    if (typeof r.to === 'string' && RELEASE_ID.test(r.to)) entry.to = r.to
    if (typeof r.healthy === 'boolean') entry.healthy = r.healthy
    if (r.manual === true) entry.manual = true
    out.push(entry)
  }
  return out
}

/**
 * What the history says of each release, the last word winning: deployed or repaired is healthy; the
 * release a failed deploy rolled back from is failed; a rollback's target is healthy unless it came up
 * unhealthy; a recovered release (switched but never recorded) is unknown.
 */
export function verdicts(history: readonly HistoryEntry[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>()
  for (const entry of history) {
    // started / stopped (on-demand services) and events of later versions say nothing of health
    if (entry.event === 'deployed' || entry.event === 'repaired') out.set(entry.release, 'healthy')
    else if (entry.event === 'recovered') {
      if (!out.has(entry.release)) out.set(entry.release, 'unknown')
    } else if (entry.event === 'failed') out.set(entry.release, 'failed')
    else if (entry.event === 'rolled-back') {
      if (!entry.manual) out.set(entry.release, 'failed')
      if (entry.to) out.set(entry.to, entry.healthy === false ? 'failed' : 'healthy')
    }
  }
  return out
}

/**
 * The releases to delete so that `keep` stay: the live one, then healthy ones, then those of unknown
 * health, each of content not kept already (a redeploy with --force adds nothing a rollback could go
 * back to), then the repeats, then failed ones; newest first within each. Release ids sort by time.
 */
export function releasesToPrune(
  releases: readonly KeptRelease[],
  live: string | null,
  history: readonly HistoryEntry[],
  keep: number,
): string[] {
  const verdict = verdicts(history)
  const rank = (id: string): number =>
    id === live ? 0 : verdict.get(id) === 'healthy' ? 1 : verdict.get(id) === 'failed' ? 3 : 2
  const env = new Map(releases.map((r) => [r.id, r.env]))
  const ids = releases.map((r) => r.id)
  const ordered = ids.filter((id) => RELEASE_ID.test(id)).sort((a, b) => rank(a) - rank(b) || b.localeCompare(a))
  const seen = new Set<string>()
  const distinct: string[] = []
  const repeats: string[] = []
  const failed: string[] = []
  for (const id of ordered) {
    const key = sameContentKey(id, env.get(id) ?? null)
    if (rank(id) === 3) failed.push(id)
    else if (seen.has(key)) repeats.push(id)
    else {
      seen.add(key)
      distinct.push(id)
    }
  }
  const kept = new Set(
    [...distinct, ...repeats, ...failed].slice(0, Math.max(keep, live && ids.includes(live) ? 1 : 0)),
  )
  return ordered.filter((id) => !kept.has(id) && id !== live)
}

/** Releases of the same files and the same .env: a release id ends with its bundle hash. An unknown .env is nobody's twin. */
function sameContentKey(id: string, env: string | null): string {
  return env === null ? id : `${id.slice(id.lastIndexOf('-') + 1)}:${env}`
}

/**
 * Where `rollback HOST` goes without --to: the release the current one replaced when it still is a
 * candidate, else the newest older one; a candidate is not failed and differs from the current
 * release in its files or its .env (one of the same files and secrets is no rollback at all).
 */
export function rollbackTarget(
  current: ReleaseRecord,
  releases: readonly ReleaseRecord[],
  history: readonly HistoryEntry[],
  envOf: ReadonlyMap<string, string | null> = new Map(),
): ReleaseRecord | null {
  const verdict = verdicts(history)
  const same = (r: ReleaseRecord): boolean =>
    r.hash === current.hash && envOf.get(r.id) != null && envOf.get(r.id) === envOf.get(current.id)
  const candidates = releases.filter((r) => r.id !== current.id && !same(r) && verdict.get(r.id) !== 'failed')
  return (
    candidates.find((r) => r.id === current.previous) ??
    candidates.filter((r) => r.id < current.id).sort((a, b) => b.id.localeCompare(a.id))[0] ??
    null
  )
}
