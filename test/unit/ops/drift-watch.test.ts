// drift --watch --notify over real HTTP: local servers stand where Alertmanager's API, a webhook and ntfy
// would be. What Alertmanager is sent (API v2 postableAlerts), where the catalog's Alertmanager is
// reached (directly, or through its host's SSH connection), and a receiver that does not answer.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect } from 'node:net'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { AlertReceiver, Project } from '../../../src/config/model.js'
import type { DriftReport } from '../../../src/ops/drift.js'
import {
  alertmanagerAlerts,
  alertmanagers,
  carryUnreadable,
  delivery,
  driftChanges,
  notifyChanges,
} from '../../../src/ops/drift-watch.js'
import type { Connector } from '../../../src/remote/connect.js'
import type { Executor } from '../../../src/remote/executor.js'
import { loadOk } from '../../helpers/load.js'
import { REPO, projectFrom, removeProject } from '../../helpers/project.js'

const round = (hosts: DriftReport['hosts']): DriftReport => ({
  kind: 'ai-platform/drift',
  ok: false,
  checkedAt: 't',
  hosts,
})
const stopped = { kind: 'stopped' as const, service: 'api', detail: '0 of 1 running' }
const drifted = round([{ host: 'erebus', release: 'r', drift: [stopped] }])
const clean = round([{ host: 'erebus', release: 'r', drift: [] }])
const NOW = new Date('2025-03-01T12:00:00.000Z')
const HOLD_MS = 6 * 60_000

const firing = {
  labels: {
    alertname: 'ConfigDrift',
    host: 'erebus',
    kind: 'stopped',
    service: 'api',
    severity: 'warning',
    platform: 'lab',
    drift_id: '9480d5787095',
  },
  annotations: { summary: 'erebus: drift stopped api: 0 of 1 running', description: '0 of 1 running' },
  startsAt: '2025-03-01T12:00:00.000Z',
  endsAt: '2025-03-01T12:06:00.000Z',
}
const resolved = {
  labels: firing.labels,
  annotations: { summary: 'erebus: resolved stopped api: 0 of 1 running', description: '0 of 1 running' },
  endsAt: '2025-03-01T12:00:00.000Z',
}

describe('alertmanagerAlerts', () => {
  it('a drift fires until a few rounds ahead; its resolution is the same labels ended now', () => {
    expect(JSON.stringify(alertmanagerAlerts('lab', driftChanges(null, drifted), NOW, HOLD_MS))).toBe(
      JSON.stringify([firing]),
    )
    expect(JSON.stringify(alertmanagerAlerts('lab', driftChanges(drifted, clean), NOW, HOLD_MS))).toBe(
      JSON.stringify([resolved]),
    )
  })

  it('a host-wide drift has no service label; two details of one service are two alerts', () => {
    const unreadable = driftChanges(null, round([{ host: 'moros', release: null, drift: [], error: 'no answer' }]))
    expect(alertmanagerAlerts('lab', unreadable, NOW, HOLD_MS)[0]!.labels).toEqual({
      alertname: 'ConfigDrift',
      host: 'moros',
      kind: 'unreadable',
      severity: 'warning',
      platform: 'lab',
      drift_id: expect.stringMatching(/^[0-9a-f]{12}$/) as string,
    })
    // "1 of 2" became "0 of 2": the old one resolved must not resolve the new one
    const one = round([{ host: 'erebus', release: 'r', drift: [{ ...stopped, detail: '1 of 2 running' }] }])
    const none = round([{ host: 'erebus', release: 'r', drift: [{ ...stopped, detail: '0 of 2 running' }] }])
    const [now, gone] = alertmanagerAlerts('lab', driftChanges(one, none), NOW, HOLD_MS)
    expect(now!.endsAt > NOW.toISOString() && gone!.endsAt === NOW.toISOString()).toBe(true)
    expect(now!.labels.drift_id).not.toBe(gone!.labels.drift_id)
  })

  it('an unreadable host is one alert whatever its error says', () => {
    const say = (error: string) =>
      alertmanagerAlerts(
        'lab',
        driftChanges(null, round([{ host: 'moros', release: null, drift: [], error }])),
        NOW,
        HOLD_MS,
      )[0]!
    expect(say('moros: connection refused').labels).toEqual(say('moros: no SSH answer within 30 s').labels)
  })
})

describe('alertmanagers (the catalog)', () => {
  let loopbackDir = ''
  beforeAll(async () => {
    loopbackDir = await projectFrom(REPO, {
      'stacks/monitoring.yaml': (text) => text.replace('ports: ["9093:9093"]', 'ports: ["127.0.0.1:9093:9093"]'),
    })
  })
  afterAll(() => removeProject(loopbackDir))

  it('the host the inventory places it on, at the port of its http check', async () => {
    const project = (await loadOk()).project
    expect(alertmanagers(project)).toEqual([
      {
        host: 'moros',
        endpoint: { via: 'direct', address: project.hosts.moros!.address, port: 9093 },
        scheme: 'http',
      },
    ])
  })

  it("published on the host's loopback only: through the host's SSH connection", async () => {
    expect(alertmanagers((await loadOk(loopbackDir)).project)).toEqual([
      { host: 'moros', endpoint: { via: 'ssh', port: 9093 }, scheme: 'http' },
    ])
  })
})

interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

describe('notifyChanges over HTTP', () => {
  let server: Server
  let port = 0
  let deadPort = 0
  const received: Received[] = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        })
        res.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
    // a port nothing listens on: connection refused
    const dead = createServer()
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve))
    deadPort = (dead.address() as { port: number }).port
    await new Promise<void>((resolve) => dead.close(() => resolve()))
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  beforeEach(() => void received.splice(0))

  /** moros runs Alertmanager, its API published on `ports` (checked on `check`), at 127.0.0.1 or a remote address. */
  const platform = (receivers: AlertReceiver[], alertmanager: { ports: string[]; check: number; local: boolean }) =>
    ({
      platform: { name: 'lab', alertReceivers: receivers },
      hosts: {
        moros: {
          name: 'moros',
          address: alertmanager.local ? '127.0.0.1' : '192.0.2.1',
          local: alertmanager.local,
        },
      },
      hostOrder: ['moros'],
      services: {
        alertmanager: {
          name: 'alertmanager',
          compose: { ports: alertmanager.ports },
          overrides: [],
          health: [
            { required: true, http: { port: alertmanager.check, path: '/-/healthy', status: 200, scheme: 'http' } },
          ],
          hosts: ['moros'],
        },
      },
    }) as unknown as Project
  const noConnections: Connector = {
    get: () => Promise.reject(new Error('no SSH here')),
    closeAll: async () => undefined,
  }
  const ntfy: AlertReceiver = {
    name: 'phone',
    sendResolved: true,
    ntfy: { url: '', topic: 'lab', tokenSecret: 'NTFY' },
  }
  const secrets = new Map([['NTFY', 'tk']])

  it("posts the round's alerts to Alertmanager's API v2 and the text to ntfy", async () => {
    const project = platform([{ ...ntfy, ntfy: { ...ntfy.ntfy!, url: `http://127.0.0.1:${port}/` } }], {
      ports: [`${port}:9093`],
      check: port,
      local: true,
    })
    const changes = driftChanges(null, drifted)
    const alertmanager = { current: changes, holdMs: HOLD_MS, connections: noConnections, now: NOW }
    expect(await notifyChanges(project, secrets, changes, (t) => t, alertmanager)).toEqual([])
    const byPath = new Map(received.map((r) => [r.url, r]))
    expect(byPath.get('/api/v2/alerts')).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([firing]),
    })
    expect(byPath.get('/lab')).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', title: 'ai-platform drift', authorization: 'Bearer tk' },
      body: 'erebus: drift stopped api: 0 of 1 running',
    })
    expect(received).toHaveLength(2)

    // the next round: the drift went away; Alertmanager is told it ended
    received.splice(0)
    const next = driftChanges(drifted, clean)
    expect(
      await notifyChanges(project, secrets, next, (t) => t, { ...alertmanager, current: driftChanges(null, clean) }),
    ).toEqual([])
    expect(received.find((r) => r.url === '/api/v2/alerts')!.body).toBe(JSON.stringify([resolved]))

    // a round with no drift and no change sends nothing
    received.splice(0)
    expect(await notifyChanges(project, secrets, [], (t) => t, { ...alertmanager, current: [] })).toEqual([])
    expect(received).toEqual([])
  })

  it('a receiver that refuses the connection is one warning; the others are still sent', async () => {
    const project = platform(
      [
        { name: 'dead', sendResolved: true, webhook: { url: `http://127.0.0.1:${deadPort}/hook` } },
        { name: 'hook', sendResolved: true, webhook: { url: `http://127.0.0.1:${port}/hook` } },
        { ...ntfy, ntfy: { ...ntfy.ntfy!, url: `http://127.0.0.1:${port}` } },
      ],
      { ports: [`${port}:9093`], check: port, local: true },
    )
    const changes = driftChanges(
      null,
      round([{ host: 'erebus', release: 'r', drift: [stopped, { ...stopped, service: 'web' }] }]),
    )
    const alertmanager = { current: changes, holdMs: HOLD_MS, connections: noConnections, now: NOW }
    const warnings = await notifyChanges(project, secrets, changes, (t) => t, alertmanager)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^warning: drift notice to receiver dead not delivered: .*ECONNREFUSED/)
    // two changes each to the webhook and ntfy, one post of both alerts to Alertmanager
    expect(received.map((r) => r.url).sort()).toEqual(['/api/v2/alerts', '/hook', '/hook', '/lab', '/lab'])
    expect(JSON.parse(received.find((r) => r.url === '/api/v2/alerts')!.body)).toHaveLength(2)
  })

  it('an Alertmanager that does not answer is a warning too', async () => {
    const project = platform([], { ports: [`${deadPort}:9093`], check: deadPort, local: true })
    const changes = driftChanges(null, drifted)
    const warnings = await notifyChanges(project, secrets, changes, (t) => t, {
      current: changes,
      holdMs: HOLD_MS,
      connections: noConnections,
      now: NOW,
    })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^warning: drift alerts to Alertmanager on moros not delivered: .*ECONNREFUSED/)
  })

  it("on the host's loopback: through the round's SSH connection to that host, once for all alerts", async () => {
    const project = platform([], { ports: ['127.0.0.1:9093:9093'], check: 9093, local: false })
    const asked: string[] = []
    const forwarded: number[] = []
    // the host's loopback port 9093, at the far end of the "tunnel", is the local server
    const connections: Connector = {
      get: async (host) => {
        asked.push(host)
        return {
          forward: async (remotePort: number) => {
            forwarded.push(remotePort)
            const socket = connect(port, '127.0.0.1')
            await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
            return socket as Duplex
          },
        } as unknown as Executor
      },
      closeAll: async () => undefined,
    }
    const changes = driftChanges(
      null,
      round([{ host: 'erebus', release: 'r', drift: [stopped, { ...stopped, service: 'web' }] }]),
    )
    const warnings = await notifyChanges(project, secrets, changes, (t) => t, {
      current: changes,
      holdMs: HOLD_MS,
      connections,
      now: NOW,
    })
    expect(warnings).toEqual([])
    expect(asked).toEqual(['moros'])
    expect(forwarded).toEqual([9093])
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({
      method: 'POST',
      url: '/api/v2/alerts',
      headers: { 'content-type': 'application/json', host: '127.0.0.1:9093' },
    })
    expect(JSON.parse(received[0]!.body)).toEqual(alertmanagerAlerts('lab', changes, NOW, HOLD_MS))
  })

  it('what a host said goes to Alertmanager masked, as on the terminal', async () => {
    const project = platform([], { ports: [`${port}:9093`], check: port, local: true })
    const leaky = driftChanges(
      null,
      round([{ host: 'erebus', release: 'r', drift: [{ ...stopped, detail: 'pw=s3cret' }] }]),
    )
    const mask = (t: string) => t.replaceAll('s3cret', '***')
    await notifyChanges(project, secrets, leaky, mask, {
      current: leaky,
      holdMs: HOLD_MS,
      connections: noConnections,
      now: NOW,
    })
    expect(received[0]!.body).not.toContain('s3cret')
    expect(JSON.parse(received[0]!.body)[0].annotations.description).toBe('pw=***')
  })
})

describe('drift --watch', () => {
  it('a host that cannot be read keeps the drift it had: unknown is not resolved', () => {
    const a = round([
      { host: 'erebus', release: 'r', drift: [stopped] },
      { host: 'moros', release: 'm', drift: [] },
    ])
    const b = carryUnreadable(
      a,
      round([
        { host: 'erebus', release: null, drift: [], error: 'erebus: connection refused' },
        { host: 'moros', release: 'm', drift: [] },
      ]),
    )
    expect(b.hosts[0]).toEqual({ host: 'erebus', release: null, drift: [stopped], error: 'erebus: connection refused' })
    expect(driftChanges(a, b).map((c) => [c.text, c.resolved])).toEqual([
      ['erebus: drift unreadable: erebus: connection refused', false],
    ])
    // readable again and mended: now it is resolved, and so is the unreadable
    const c = carryUnreadable(
      b,
      round([
        { host: 'erebus', release: 'r', drift: [] },
        { host: 'moros', release: 'm', drift: [] },
      ]),
    )
    expect(driftChanges(b, c).map((x) => x.resolved)).toEqual([true, true])
    expect(carryUnreadable(null, a)).toBe(a)
  })

  it('the first round reports its drift; then what appears and what goes away, once each', () => {
    const a = round([{ host: 'erebus', release: 'r', drift: [stopped] }])
    expect(driftChanges(null, a).map((c) => c.text)).toEqual(['erebus: drift stopped api: 0 of 1 running'])
    expect(driftChanges(a, a)).toEqual([])
    const b = round([
      { host: 'erebus', release: 'r', drift: [] },
      { host: 'moros', release: null, drift: [], error: 'moros: no answer' },
    ])
    expect(driftChanges(a, b).map((c) => [c.text, c.resolved])).toEqual([
      ['moros: drift unreadable: moros: no answer', false],
      ['erebus: resolved stopped api: 0 of 1 running', true],
    ])
  })

  it('a webhook gets JSON with a bearer from secrets.env; ntfy the text on its topic', () => {
    const change = driftChanges(null, round([{ host: 'erebus', release: 'r', drift: [stopped] }]))[0]!
    const secrets = new Map([['HOOK', 's3cret']])
    expect(
      delivery(
        { name: 'h', sendResolved: true, webhook: { url: 'http://h.lab/x', bearerSecret: 'HOOK' } },
        secrets,
        change,
      ),
    ).toEqual({
      url: 'http://h.lab/x',
      headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret' },
      body: JSON.stringify({
        text: 'erebus: drift stopped api: 0 of 1 running',
        host: 'erebus',
        kind: 'stopped',
        service: 'api',
        detail: '0 of 1 running',
        resolved: false,
      }),
    })
    expect(
      delivery({ name: 'n', sendResolved: true, ntfy: { url: 'https://ntfy.sh/', topic: 'lab' } }, secrets, change),
    ).toEqual({
      url: 'https://ntfy.sh/lab',
      headers: { 'content-type': 'text/plain; charset=utf-8', title: 'ai-platform drift' },
      body: 'erebus: drift stopped api: 0 of 1 running',
    })
  })
})
