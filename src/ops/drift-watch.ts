// `drift --watch`: what changed between two rounds (drift that appeared or went away, a host that
// became unreadable or readable again), and, with --notify, each change sent to the inventory's
// webhook and ntfy alert receivers, and as alerts to the platform's own Alertmanager, which routes them
// to its receivers (email included). A receiver that does not answer is a warning, never the watch's end.
import { createHash } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { Client, request, type Dispatcher } from 'undici'
import { publishedPorts, loopbackPorts } from '../config/compose.js'
import type { AlertReceiver, Project } from '../config/model.js'
import { replicasOn, serviceForHost } from '../config/service-for-host.js'
import { errorMessage } from '../errors.js'
import type { Connector } from '../remote/connect.js'
import { endpointOrigin, resolveEndpoint, type Endpoint } from '../remote/endpoint.js'
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

/**
 * The round as the watch judges it: a host that could not be read keeps the drift the previous round
 * found on it (unknown is not resolved: ending those alerts would only fire them again next round).
 */
export function carryUnreadable(previous: DriftReport | null, current: DriftReport): DriftReport {
  if (!previous) return current
  const before = new Map(previous.hosts.map((h) => [h.host, h.drift]))
  return {
    ...current,
    hosts: current.hosts.map((h) => (h.error !== undefined ? { ...h, drift: before.get(h.host) ?? [] } : h)),
  }
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

/** What the Alertmanager of a round needs besides the changes. */
export interface AlertmanagerRound {
  /**
   * Every drift of the round (driftChanges(null, report)), sent again each round as Prometheus sends
   * its firing alerts: an alert posted without a fresh endsAt is resolved by Alertmanager after its
   * resolve_timeout (5 min) although the drift is still there.
   */
  current: readonly DriftChange[]
  /** endsAt of a firing drift: a few rounds ahead, so a watch that stopped leaves none firing for ever. */
  holdMs: number
  /** The round's connections: an Alertmanager published on its host's loopback only is reached through them. */
  connections: Connector
  now?: Date
}

/**
 * Sends each change to every webhook and ntfy receiver and, with `alertmanager`, the round's drift to
 * each Alertmanager of the platform; returns a warning for each receiver that did not take it.
 */
export async function notifyChanges(
  project: Project,
  secrets: ReadonlyMap<string, string>,
  changes: readonly DriftChange[],
  redact: (text: string) => string,
  alertmanager?: AlertmanagerRound,
): Promise<string[]> {
  const warnings: string[] = []
  const receivers = project.platform.alertReceivers.filter((r) => r.webhook || r.ntfy)
  // What a host said goes out masked, as on the terminal; receivers in parallel, each change in order.
  const mask = (c: DriftChange): DriftChange => ({ ...c, detail: redact(c.detail), text: redact(c.text) })
  const masked = changes.map(mask)
  const sends = receivers.map(async (receiver) => {
    for (const change of masked) {
      try {
        const { url, headers, body } = delivery(receiver, secrets, change)
        const response = await request(url, { method: 'POST', headers, body, ...deadline() })
        await response.body.dump()
        if (response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`)
      } catch (error) {
        warnings.push(`warning: drift notice to receiver ${receiver.name} not delivered: ${errorMessage(error)}`)
        return // a receiver that does not answer is not tried again this round
      }
    }
  })
  if (alertmanager) {
    const alerts = alertmanagerAlerts(
      project.platform.name,
      [...alertmanager.current.map(mask), ...masked.filter((c) => c.resolved)],
      alertmanager.now ?? new Date(),
      alertmanager.holdMs,
    )
    if (alerts.length > 0)
      for (const target of alertmanagers(project))
        sends.push(
          postAlerts(target, alerts, alertmanager.connections).catch((error: unknown) => {
            warnings.push(
              `warning: drift alerts to Alertmanager on ${target.host} not delivered: ${errorMessage(error)}`,
            )
          }),
        )
  }
  await Promise.all(sends)
  return warnings
}

/** The bounds of one notice from its request on (an SSH connection to open is bounded by --timeout). */
function deadline(): Pick<Dispatcher.RequestOptions, 'headersTimeout' | 'bodyTimeout' | 'signal'> {
  return {
    headersTimeout: NOTIFY_TIMEOUT_MS,
    bodyTimeout: NOTIFY_TIMEOUT_MS,
    signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
  }
}

/** The catalog's Alertmanager service (stacks/monitoring.yaml). */
const ALERTMANAGER = 'alertmanager'

export interface AlertmanagerTarget {
  host: string
  /** null: the service publishes no port on that host, so nothing on this machine reaches it. */
  endpoint: Endpoint | null
  scheme: 'http' | 'https'
}

/**
 * Each host the platform's Alertmanager runs on, and the route to its API: the port its http health
 * check reaches (its web listener, which serves /api/v2 as well as /-/healthy), else its first published
 * port; through the host's SSH connection when that port is published on the host's loopback only.
 */
export function alertmanagers(project: Project): AlertmanagerTarget[] {
  const service = project.services[ALERTMANAGER]
  if (!service) return []
  const check = service.health.find((c) => c.http)?.http
  return service.hosts.flatMap((name): AlertmanagerTarget[] => {
    const host = project.hosts[name]!
    if (replicasOn(service, host, project.hosts, project.hostOrder) === 0) return []
    const ports = serviceForHost(service, host, project.hosts, project.hostOrder).ports
    const port = check?.port ?? publishedPorts(ports).find((p) => p.protocol === 'tcp')?.from
    return [
      {
        host: name,
        endpoint: port === undefined ? null : resolveEndpoint(host, port, loopbackPorts([port], ports)),
        scheme: check?.scheme ?? 'http',
      },
    ]
  })
}

/** An alert as Alertmanager's API v2 takes it (api/v2/openapi.yaml, postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt?: string
  endsAt: string
}

/**
 * The round's drift as alerts: each firing one until `holdMs` from now (sent again next round), each
 * resolved one ended now, which is how Alertmanager resolves an alert a client posted. `drift_id` (the
 * detail's digest) keeps two drifts of one service or host apart, as the watch does: without it, a
 * detail that changed ("1 of 2 running", then "0 of 2") would be one alert, resolved by the old detail's end.
 */
export function alertmanagerAlerts(
  platform: string,
  changes: readonly DriftChange[],
  now: Date,
  holdMs: number,
): PostableAlert[] {
  return changes.map((c) => ({
    labels: {
      alertname: 'ConfigDrift',
      host: c.host,
      kind: c.kind,
      ...(c.service !== undefined ? { service: c.service } : {}),
      severity: 'warning',
      platform,
      // an unreadable host is one alert whatever its error says (the watch keys it by host alone)
      drift_id: createHash('sha256')
        .update(c.kind === 'unreadable' ? 'unreadable' : c.detail)
        .digest('hex')
        .slice(0, 12),
    },
    annotations: { summary: c.text, description: c.detail },
    // a resolved one without startsAt: Alertmanager keeps the firing one's
    ...(c.resolved
      ? { endsAt: now.toISOString() }
      : { startsAt: now.toISOString(), endsAt: new Date(now.getTime() + holdMs).toISOString() }),
  }))
}

/** POST /api/v2/alerts, straight to the host or through its SSH connection (one per round, the round's). */
async function postAlerts(
  target: AlertmanagerTarget,
  alerts: readonly PostableAlert[],
  connections: Connector,
): Promise<void> {
  const endpoint = target.endpoint
  if (!endpoint) throw new Error(`${ALERTMANAGER} publishes no port on ${target.host}`)
  const origin = endpointOrigin(endpoint, target.scheme)
  const options = {
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  }
  let status: number
  if (endpoint.via === 'direct') {
    const response = await request(`${origin}/api/v2/alerts`, { ...options, ...deadline() })
    await response.body.dump()
    status = response.statusCode
  } else {
    const exec = await connections.get(target.host)
    const client = new Client(origin, {
      connect: (_options, callback) => {
        exec.forward(endpoint.port, undefined, { timeoutMs: NOTIFY_TIMEOUT_MS }).then(
          (stream: Duplex) => callback(null, stream as never),
          (error: Error) => callback(error, null),
        )
      },
    })
    try {
      const response = await client.request({ ...options, path: '/api/v2/alerts', ...deadline() })
      await response.body.dump()
      status = response.statusCode
    } finally {
      await client.close().catch(() => undefined)
    }
  }
  if (status >= 300) throw new Error(`HTTP ${status}`)
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
