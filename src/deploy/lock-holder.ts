import type { LockInfo } from '../remote/commands.js'

/** Who holds a lock, from what the lock script or the facts probe printed. */
export function parseHolder(stdout: string): { who: string; since: string | null; command: string | null; ageS: number | null; machine: string | null; pid: number | null; token: string | null } {
  const lines = stdout.split('\n')
  const json = lines.find((l) => l.startsWith('{'))
  const age = lines.find((l) => l.startsWith('@@age '))
  let who = 'an unknown holder'
  let since: string | null = null
  let command: string | null = null
  let machine: string | null = null
  let pid: number | null = null
  let token: string | null = null
  if (json) {
    try {
      const info = JSON.parse(json) as Partial<LockInfo>
      who = `${info.user ?? '?'}@${info.machine ?? '?'} (pid ${info.pid ?? '?'})`
      since = info.since ?? null
      command = info.command ?? null
      machine = info.machine ?? null
      pid = typeof info.pid === 'number' ? info.pid : null
      token = info.token ?? null
    } catch {
      // unreadable lock info: still a lock
    }
  }
  return { who, since, command, ageS: age ? Number(age.slice(6)) : null, machine, pid, token }
}
