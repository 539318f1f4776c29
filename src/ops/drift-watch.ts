// `drift --watch`: what changed between two rounds (drift that appeared or went away, a host that
// became unreadable or readable again), and, with --notify, each change sent to the inventory's
// webhook and ntfy alert receivers. A receiver that does not answer is a warning, never the watch's end.
import { request } from 'undici'
import type { AlertReceiver, Project } from '../config/model.js'
import { errorMessage } from '../errors.js'
import type { DriftReport } from './drift.js'

export interface DriftChange {
  host: string
  kind: string
  service?: string
  detail: string
  resolved: boolean
  /** One line for people: `HOST: drift KIND SERVICE: DETAIL` or `HOST: resolved ...`. */
  text: string
}

const NOTIFY_TIMEOUT_MS = 10_000

/** The drift (and unreadable hosts) of a round, keyed so that two rounds compare. */
function items(report: DriftReport): Map<string, Omit<DriftChange, 'resolved' | 'text'>> {
  const out = new Map<string, Omit<DriftChange, 'resolved' | 'text'>>()
  for (const h of report.hosts) {
    if (h.error !== undefined) out.set(`${h.host}\0unreadable`, { host: h.host, kind: 'unreadable', detail: h.error })
    for (const d of h.drift)
      out.set(`${h.host}\0${d.kind}\0${d.service ?? ''}\0${d.detail}`, {
        host: h.host,
        kind: d.kind,
        ...(d.service !== undefined ? { service: d.service } : {}),
        detail: d.detail,
      })
  }
  return out
}

/** The first round reports all its drift; later rounds what appeared and what went away. */
export function driftChanges(previous: DriftReport | null, current: DriftReport): DriftChange[] {
  const before = previous ? items(previous) : new Map<string, Omit<DriftChange, 'resolved' | 'text'>>()
  const now = items(current)
  const describe = (c: Omit<DriftChange, 'resolved' | 'text'>, resolved: boolean): DriftChange => ({
    ...c,
    resolved,
    text: `${c.host}: ${resolved ? 'resolved' : 'drift'} ${c.kind}${c.service ? ` ${c.service}` : ''}: ${c.detail}`,
  })
  return [
    ...[...now].filter(([k]) => !before.has(k)).map(([, c]) => describe(c, false)),
    ...[...before].filter(([k]) => !now.has(k)).map(([, c]) => describe(c, true)),
  ]
}

/** Sends each change to every webhook and ntfy receiver; returns a warning for each receiver that did not take one. */
export async function notifyChanges(
  project: Project,
  secrets: ReadonlyMap<string, string>,
  changes: readonly DriftChange[],
  redact: (text: string) => string,
): Promise<string[]> {
  const warnings: string[] = []
  const receivers = project.platform.alertReceivers.filter((r) => r.webhook || r.ntfy)
  // What a host said goes out masked, as on the terminal; receivers in parallel, each change in order.
  const masked = changes.map((c) => ({ ...c, detail: redact(c.detail), text: redact(c.text) }))
  await Promise.all(
    receivers.map(async (receiver) => {
      for (const change of masked) {
        try {
          const { url, headers, body } = delivery(receiver, secrets, change)
          const response = await request(url, {
            method: 'POST',
            headers,
            body,
            headersTimeout: NOTIFY_TIMEOUT_MS,
            bodyTimeout: NOTIFY_TIMEOUT_MS,
            signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
          })
          await response.body.dump()
          if (response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`)
        } catch (error) {
          warnings.push(`warning: drift notice to receiver ${receiver.name} not delivered: ${errorMessage(error)}`)
          return // a receiver that does not answer is not tried again this round
        }
      }
    }),
  )
  return warnings
}

/** What one receiver is sent: a webhook gets JSON (Slack-compatible `text` first), ntfy the text. */
export function delivery(
  receiver: AlertReceiver,
  secrets: ReadonlyMap<string, string>,
  change: DriftChange,
): { url: string; headers: Record<string, string>; body: string } {
  const bearer = (name: string | undefined): Record<string, string> => {
    const value = name === undefined ? undefined : secrets.get(name)
    return value ? { authorization: `Bearer ${value}` } : {}
  }
  if (receiver.ntfy)
    return {
      url: `${receiver.ntfy.url.replace(/\/+$/, '')}/${receiver.ntfy.topic}`,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        title: 'ai-platform drift',
        ...bearer(receiver.ntfy.tokenSecret),
      },
      body: change.text,
    }
  const { resolved, host, kind, service, detail, text } = change
  return {
    url: receiver.webhook!.url,
    headers: { 'content-type': 'application/json', ...bearer(receiver.webhook!.bearerSecret) },
    body: JSON.stringify({ text, host, kind, ...(service !== undefined ? { service } : {}), detail, resolved }),
  }
}
