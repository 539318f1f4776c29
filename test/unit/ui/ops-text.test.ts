import { describe, expect, it } from 'vitest'
import { formatAudit, formatLocks, formatStatus, unreadReason } from '../../../src/ui/ops-text.js'

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

  it('status shows each service (an on-demand one stopped by design) as running/declared replicas, its containers under it, and left-over containers as found', () => {
    const c = (service: string, n: number, state = 'running') => ({
      service,
      name: `mini-${service}-${n}`,
      state,
      health: 'none',
      image: 'x:1',
      status: state === 'running' ? 'Up 1 minute' : 'Exited (1) 1 second ago',
    })
    const lines = formatStatus([
      {
        host: 'alpha',
        reachable: true,
        release: null,
        compose: null,
        lock: null,
        services: [
          { service: 'app', running: 1, replicas: 2, state: 'exited', tier: 'core' },
          { service: 'comfyui', running: 0, replicas: 1, state: 'stopped (on demand)', tier: 'on-demand' },
          { service: 'ollama', running: 0, replicas: 0, state: 'scaled to 0', tier: 'persistent' },
          { service: 'tempo', running: 1, replicas: 1, state: 'running', tier: 'on-demand' },
        ],
        containers: [c('app', 1), c('app', 2, 'exited'), c('old', 1), c('tempo', 1)],
      },
      {
        host: 'beta',
        reachable: false,
        error: 'refused',
        release: null,
        compose: null,
        lock: null,
        services: [],
        containers: [],
      },
    ])
    expect(lines.map((l) => l.replace(/ +/g, ' ').trimEnd())).toEqual([
      'alpha: no release',
      ' app 1/2 exited',
      ' mini-app-1 running Up 1 minute x:1',
      ' mini-app-2 exited Exited (1) 1 second ago x:1',
      ' comfyui 0/1 stopped (on demand)',
      ' ollama 0/0 scaled to 0',
      ' tempo 1/1 running',
      ' mini-tempo-1 running Up 1 minute x:1',
      ' old running',
      ' mini-old-1 running Up 1 minute x:1',
      'beta: unreachable: refused',
    ])
  })
})
