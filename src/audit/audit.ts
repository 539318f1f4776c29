// The local audit log: one JSON line per host per run, under $XDG_STATE_HOME/ai-platform/audit.jsonl
// (or $AIP_AUDIT_LOG). Secret values never reach it: messages are redacted before they get here.
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIP_AUDIT_LOG) return env.AIP_AUDIT_LOG
  const state = env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state')
  return join(state, 'ai-platform', 'audit.jsonl')
}

async function appendAudit(records: readonly Record<string, unknown>[], path = auditLogPath()): Promise<void> {
  if (records.length === 0) return
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  await appendFile(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''), { mode: 0o600 })
}

/**
 * Appends one record per host of a run, each stamped with the time, who ran it, the command and the
 * platform. The log is a record, not a gate: a write that fails is a warning, never the run's failure.
 */
export async function auditRun(
  who: { user: string; machine: string },
  run: { command: string; platform: string },
  records: readonly Record<string, unknown>[],
  warn: (line: string) => void,
): Promise<void> {
  const time = new Date().toISOString()
  await appendAudit(records.map((r) => ({ time, ...who, ...run, ...r }))).catch((error: Error) =>
    warn(`warning: cannot write the audit log: ${error.message}`),
  )
}

export async function readAudit(path = auditLogPath()): Promise<Record<string, unknown>[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
}
