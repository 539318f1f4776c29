import { describe, expect, it } from 'vitest'
import { formatAudit, formatLocks, unreadReason } from '../../../src/ui/ops-text.js'

describe('day-two read listings', () => {
  it('why a host could not be read fits one line, without the host name said twice', () => {
    expect(unreadReason('alpha', 'alpha: connection refused by root@127.0.0.1:1: is sshd running?')).toBe(
      'connection refused by root@127.0.0.1:1: is sshd running?',
    )
    expect(unreadReason('alpha', 'alpha: `tail -n 20 /x` exited with 1:\nline 1\nline 2')).toBe(
      '`tail -n 20 /x` exited with 1:',
    )
    expect(unreadReason('alpha', 'alphabet: something')).toBe('alphabet: something')
  })

  it('audit: an unreadable host keeps its place between the others', () => {
    const entry = (host: string) => ({
      time: '2026-11-23T03:39:28.000Z',
      host,
      event: 'deployed',
      release: 'r1',
      user: 'ops',
      machine: 'desk',
    })
    expect(
      formatAudit([
        { host: 'alpha', entries: [entry('alpha')] },
        { host: 'beta', entries: [], error: 'beta: no SSH answer from deploy@b:22 in time: host down or network cut?' },
        { host: 'gamma', entries: [{ ...entry('gamma'), error: 'boom' }] },
      ]),
    ).toEqual([
      '2026-11-23T03:39:28.000Z  alpha        deployed   r1  ops@desk',
      '-                         beta         -          cannot read its history: no SSH answer from deploy@b:22 in time: host down or network cut?',
      '2026-11-23T03:39:28.000Z  gamma        deployed   r1  ops@desk  boom',
    ])
  })

  it('lock status: locked, not locked, unreachable', () => {
    expect(
      formatLocks([
        {
          host: 'alpha',
          reachable: true,
          lock: { holder: 'eve@elsewhere (pid 42)', since: '2026-11-23T04:00:00.000Z', command: 'deploy all' },
        },
        { host: 'beta', reachable: true, lock: null },
        {
          host: 'gamma',
          reachable: false,
          error: 'gamma: connection refused by root@g:22: is sshd running?',
          lock: null,
        },
      ]),
    ).toEqual([
      'alpha: locked by eve@elsewhere (pid 42) since 2026-11-23T04:00:00.000Z (deploy all)',
      'beta: not locked',
      'gamma: unreachable: connection refused by root@g:22: is sshd running?',
    ])
  })
})
