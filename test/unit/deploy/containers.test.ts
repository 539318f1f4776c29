import type Docker from 'dockerode'
import { describe, expect, it } from 'vitest'
import {
  demux,
  evaluateReadiness,
  exitCodeFromStatus,
  healthFromStatus,
  listProjectUntil,
  replicaSummary,
  type ContainerState,
} from '../../../src/deploy/containers.js'
import { parseHolder } from '../../../src/deploy/engine.js'
import { releaseId } from '../../../src/deploy/release.js'
import { NoAnswer } from '../../../src/util/deadline.js'

const c = (service: string, state: string, status: string, created = 1): ContainerState => ({
  id: service,
  name: `p-${service}-1`,
  configHash: '',
  service,
  image: 'x',
  state,
  status,
  health: healthFromStatus(status),
  exitCode: exitCodeFromStatus(status),
  created,
})

describe('container readiness', () => {
  it('reads health and exit codes from Docker status text (API < 1.52 has no Health field)', () => {
    expect(healthFromStatus('Up 5 minutes (healthy)')).toBe('healthy')
    expect(healthFromStatus('Up 3 seconds (health: starting)')).toBe('starting')
    expect(healthFromStatus('Up 2 hours (unhealthy)')).toBe('unhealthy')
    expect(healthFromStatus('Up 4 days')).toBe('none')
    expect(healthFromStatus('Up 4 days', { Status: 'healthy' })).toBe('healthy')
    expect(exitCodeFromStatus('Exited (0) 3 seconds ago')).toBe(0)
    expect(exitCodeFromStatus('Exited (137) 1 minute ago')).toBe(137)
  })

  it('ready when every service runs healthy or without a check, one-shots exited 0', () => {
    const expected = [
      { name: 'db', oneshot: false, replicas: 1 },
      { name: 'init', oneshot: true, replicas: 1 },
      { name: 'web', oneshot: false, replicas: 1 },
    ]
    expect(
      evaluateReadiness(expected, [
        c('db', 'running', 'Up 1 minute (healthy)'),
        c('init', 'exited', 'Exited (0) 5 seconds ago'),
        c('web', 'running', 'Up 1 minute'),
      ]),
    ).toEqual({ ready: true })
  })

  it('waits for starting health and missing containers; fails on unhealthy, exits and failed one-shots', () => {
    const expected = [
      { name: 'db', oneshot: false, replicas: 1 },
      { name: 'init', oneshot: true, replicas: 1 },
      { name: 'web', oneshot: false, replicas: 1 },
      { name: 'api', oneshot: false, replicas: 1 },
    ]
    expect(
      evaluateReadiness(expected, [
        c('db', 'running', 'Up 2 seconds (health: starting)'),
        c('init', 'exited', 'Exited (1) 1 second ago'),
        c('web', 'exited', 'Exited (2) 1 second ago'),
      ]),
    ).toEqual({
      ready: false,
      failed: [
        { service: 'init', reason: 'exited with 1', container: 'init' },
        { service: 'web', reason: 'exited with 2', container: 'web' },
      ],
      waiting: [
        { service: 'db', reason: 'health: starting' },
        { service: 'api', reason: 'no container' },
      ],
    })
    expect(
      evaluateReadiness([{ name: 'db', oneshot: false, replicas: 1 }], [c('db', 'running', 'Up 1 minute (unhealthy)')]),
    ).toEqual({ ready: false, failed: [{ service: 'db', reason: 'unhealthy', container: 'db' }], waiting: [] })
    expect(
      evaluateReadiness(
        [{ name: 'db', oneshot: false, replicas: 1 }],
        [c('db', 'restarting', 'Restarting (3) 2 seconds ago')],
      ),
    ).toEqual({
      ready: false,
      failed: [{ service: 'db', reason: 'keeps crashing (restarting)', container: 'db' }],
      waiting: [],
    })
    // The newest container of a service decides (a replaced one may linger while exiting).
    expect(
      evaluateReadiness(
        [{ name: 'db', oneshot: false, replicas: 1 }],
        [c('db', 'exited', 'Exited (0) 1 second ago', 1), c('db', 'running', 'Up 1 second', 2)],
      ),
    ).toEqual({ ready: true })
  })

  it('counts every replica: all must run (healthy when checked), as many as declared', () => {
    const r = (n: number, state: string, status: string, created = n): ContainerState => ({
      ...c('web', state, status, created),
      id: `web${n}`,
      name: `p-web-${n}`,
    })
    const web = { name: 'web', oneshot: false, replicas: 3 }
    const healthy = 'Up 1 minute (healthy)'
    expect(
      evaluateReadiness([web], [r(1, 'running', healthy), r(2, 'running', healthy), r(3, 'running', healthy)]),
    ).toEqual({
      ready: true,
    })
    // Two of three: waiting, not ready (the newest alone would look ready).
    expect(evaluateReadiness([web], [r(1, 'running', healthy), r(2, 'running', healthy)])).toEqual({
      ready: false,
      failed: [],
      waiting: [{ service: 'web', reason: '2/3 replicas running' }],
    })
    // One crashed replica fails the service, with that replica's container for its logs.
    expect(
      evaluateReadiness(
        [web],
        [r(1, 'exited', 'Exited (3) 1 second ago'), r(2, 'running', healthy), r(3, 'running', healthy)],
      ),
    ).toEqual({
      ready: false,
      failed: [{ service: 'web', reason: 'p-web-1: exited with 3', container: 'web1' }],
      waiting: [],
    })
    expect(
      evaluateReadiness(
        [web],
        [r(1, 'running', 'Up 1 second (health: starting)'), r(2, 'running', healthy), r(3, 'running', healthy)],
      ),
    ).toEqual({ ready: false, failed: [], waiting: [{ service: 'web', reason: 'p-web-1: health: starting' }] })
    expect(replicaSummary(web, [r(1, 'exited', 'Exited (3) 1 second ago'), r(2, 'running', healthy)])).toEqual({
      state: 'exited',
      health: 'none',
      running: 1,
      replicas: 3,
    })
    expect(replicaSummary(web, [r(1, 'running', healthy), r(2, 'running', healthy), r(3, 'running', healthy)])).toEqual(
      {
        state: 'running',
        health: 'healthy',
        running: 3,
        replicas: 3,
      },
    )
  })

  it('a service scaled to 0 is ready with no container, and reported as scaled to 0', () => {
    const idle = { name: 'idle', oneshot: false, replicas: 0 }
    expect(evaluateReadiness([idle], [])).toEqual({ ready: true })
    expect(replicaSummary(idle, [])).toEqual({ state: 'scaled to 0', health: 'none', running: 0, replicas: 0 })
    // Compose removes them on up: one still running is on its way out, worth waiting for.
    expect(evaluateReadiness([idle], [c('idle', 'running', 'Up 1 minute')])).toEqual({
      ready: false,
      failed: [],
      waiting: [{ service: 'idle', reason: 'scaled to 0, 1 still running' }],
    })
    expect(replicaSummary({ name: 'missing', oneshot: false, replicas: 1 }, [])).toEqual({
      state: 'missing',
      health: 'none',
      running: 0,
      replicas: 1,
    })
  })

  it('demultiplexes Docker log frames', () => {
    const make = (stream: number, text: string) => {
      const header = Buffer.alloc(8)
      header[0] = stream
      header.writeUInt32BE(Buffer.byteLength(text), 4)
      return Buffer.concat([header, Buffer.from(text)])
    }
    expect(demux(Buffer.concat([make(1, 'out line\n'), make(2, 'err line\n')]))).toBe('out line\nerr line\n')
    expect(demux(Buffer.from('plain tty output\n'))).toBe('plain tty output\n')
  })

  it('names the lock holder from what the lock script printed', () => {
    const printed =
      'held\n{"token":"t","user":"alice","machine":"laptop","pid":42,"command":"deploy all","since":"2026-11-23T10:00:00.000Z"}\n@@age 12\n'
    expect(parseHolder(printed)).toEqual({
      who: 'alice@laptop (pid 42)',
      since: '2026-11-23T10:00:00.000Z',
      command: 'deploy all',
      ageS: 12,
      user: 'alice',
      machine: 'laptop',
      pid: 42,
      token: 't',
    })
  })

  it('release ids sort by time and name the content', () => {
    expect(releaseId(new Date('2026-11-23T01:02:03.456Z'), 'abcdef1234')).toBe('20261123T010203Z-abcdef12')
  })
})

describe('listProjectUntil', () => {
  // A Docker API whose first `hangs` lists never answer (until their request is aborted), then answers [].
  const engine = (hangs: number, fail?: Error) => {
    let calls = 0
    const listContainers = (options: { abortSignal?: AbortSignal }) => {
      calls++
      if (fail) return Promise.reject(fail)
      if (calls > hangs) return Promise.resolve([])
      return new Promise((_, reject) =>
        options.abortSignal?.addEventListener('abort', () => reject(new Error('aborted'))),
      )
    }
    const exec = { host: 'hive', docker: () => ({ listContainers }) as unknown as Docker }
    return { exec, calls: () => calls }
  }

  it('asks again while the engine does not answer, until it does', async () => {
    const { exec, calls } = engine(2)
    const slow: string[] = []
    const list = await listProjectUntil(exec, 'aip', Date.now() + 10_000, {
      timeoutMs: 100,
      onSlow: (error) => slow.push(error.detail),
    })
    expect(list).toEqual([])
    expect(calls()).toBe(3)
    expect(slow).toEqual([
      'the Docker API (list containers): no answer within 0.1 s',
      'the Docker API (list containers): no answer within 0.1 s',
    ])
  })

  it('gives up at its deadline with the last NoAnswer', async () => {
    const { exec, calls } = engine(Infinity)
    const started = Date.now()
    const error: unknown = await listProjectUntil(exec, 'aip', Date.now() + 600, { timeoutMs: 100 }).catch((e) => e)
    expect(error).toBeInstanceOf(NoAnswer)
    expect((error as Error).message).toBe('hive: the Docker API (list containers): no answer within 0.1 s')
    expect(calls()).toBeGreaterThan(1)
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('any other failure is final at once', async () => {
    const { exec, calls } = engine(0, new Error('connect ECONNREFUSED'))
    await expect(listProjectUntil(exec, 'aip', Date.now() + 10_000, { timeoutMs: 100 })).rejects.toThrow(
      'connect ECONNREFUSED',
    )
    expect(calls()).toBe(1)
  })

  it('an abort ends it at once', async () => {
    const { exec } = engine(Infinity)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 150)
    const started = Date.now()
    await expect(
      listProjectUntil(exec, 'aip', Date.now() + 10_000, { timeoutMs: 100, signal: controller.signal }),
    ).rejects.toThrow('hive: the Docker API (list containers) was interrupted')
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
