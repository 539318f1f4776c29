import { describe, expect, it } from 'vitest'
import {
  demux,
  evaluateReadiness,
  exitCodeFromStatus,
  healthFromStatus,
  type ContainerState,
} from '../../../src/deploy/containers.js'
import { parseHolder } from '../../../src/deploy/engine.js'
import { releaseId } from '../../../src/deploy/release.js'

const c = (service: string, state: string, status: string, created = 1): ContainerState => ({
  id: service,
  name: `p-${service}-1`,
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
      { name: 'db', oneshot: false },
      { name: 'init', oneshot: true },
      { name: 'web', oneshot: false },
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
      { name: 'db', oneshot: false },
      { name: 'init', oneshot: true },
      { name: 'web', oneshot: false },
      { name: 'api', oneshot: false },
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
        { service: 'init', reason: 'exited with 1' },
        { service: 'web', reason: 'exited with 2' },
      ],
      waiting: [
        { service: 'db', reason: 'health: starting' },
        { service: 'api', reason: 'no container' },
      ],
    })
    expect(
      evaluateReadiness([{ name: 'db', oneshot: false }], [c('db', 'running', 'Up 1 minute (unhealthy)')]),
    ).toEqual({ ready: false, failed: [{ service: 'db', reason: 'unhealthy' }], waiting: [] })
    expect(
      evaluateReadiness([{ name: 'db', oneshot: false }], [c('db', 'restarting', 'Restarting (3) 2 seconds ago')]),
    ).toEqual({ ready: false, failed: [{ service: 'db', reason: 'keeps crashing (restarting)' }], waiting: [] })
    // The newest container of a service decides (a replaced one may linger while exiting).
    expect(
      evaluateReadiness(
        [{ name: 'db', oneshot: false }],
        [c('db', 'exited', 'Exited (0) 1 second ago', 1), c('db', 'running', 'Up 1 second', 2)],
      ),
    ).toEqual({ ready: true })
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
