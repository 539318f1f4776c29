import { processAlive } from '../util/process-alive.js'

export interface LockHolder {
  /** `user@machine (pid N)`, as the lock names them. */
  who: string
  since: string | null
  command: string | null
  ageS: number | null
  user: string | null
  machine: string | null
  pid: number | null
  token: string | null
}

/** Who holds a lock, from what the lock script or the facts probe printed. */
export function parseHolder(stdout: string): LockHolder {
  const lines = stdout.split('\n')
  const json = lines.find((l) => l.startsWith('{'))
  const age = lines.find((l) => l.startsWith('@@age '))
  let who = 'an unknown holder'
  let since: string | null = null
  let command: string | null = null
  let user: string | null = null
  let machine: string | null = null
  let pid: number | null = null
  let token: string | null = null
  if (json) {
    // The host's file: only fields of the right type are believed (a token goes into the next lock script).
    let info: Record<string, unknown> = {}
    try {
      const value: unknown = JSON.parse(json)
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) info = value as Record<string, unknown>
    } catch {
      // unreadable lock info: still a lock
    }
    const text = (v: unknown): string | null => (typeof v === 'string' && v.length <= 4096 ? v : null)
    user = text(info.user)
    machine = text(info.machine)
    pid = typeof info.pid === 'number' && Number.isSafeInteger(info.pid) && info.pid > 0 ? info.pid : null
    token = text(info.token)
    since = text(info.since)
    command = text(info.command)
    if (Object.keys(info).length > 0) who = `${user ?? '?'}@${machine ?? '?'} (pid ${pid ?? '?'})`
  }
  const ageS = age && /^@@age \d{1,12}$/.test(age) ? Number(age.slice(6)) : null
  return { who, since, command, ageS, user, machine, pid, token }
}

/**
 * Whether the holder's process still runs, as far as this machine can tell: only a holder that names
 * this machine and a pid can be checked (null otherwise).
 */
export function holderRunning(
  holder: Pick<LockHolder, 'machine' | 'pid'>,
  here: string,
  alive: (pid: number) => boolean = processAlive,
): boolean | null {
  return holder.machine === here && holder.pid !== null ? alive(holder.pid) : null
}

/** The holder as messages name it; one whose process is known to be gone says so, and what frees its lock. */
export function describeHolder(
  holder: Pick<LockHolder, 'who' | 'user' | 'machine' | 'pid'>,
  host: string,
  running: boolean | null,
): string {
  if (running !== false || holder.pid === null) return holder.who
  return `${holder.user ?? '?'}@${holder.machine ?? '?'} (pid ${holder.pid}, no longer running: \`ai-platform lock release ${host}\` frees it)`
}
