import { describe, expect, it } from 'vitest'
import type { HostReport } from '../../../src/deploy/engine.js'
import { formatLeftInFlight, inFlightTracker } from '../../../src/deploy/in-flight.js'

const step = (host: string, name: string, phase: 'start' | 'done' | 'failed') => ({
  type: 'step' as const,
  host,
  step: name,
  phase,
})

describe('what a last Ctrl-C leaves of a deploy', () => {
  it('follows the hosts in flight: started, locked, switched, done', () => {
    const tracker = inFlightTracker()
    for (const host of ['erebus', 'moros', 'nyx', 'zelus']) tracker.emit({ type: 'host-start', host })
    tracker.emit(step('erebus', 'lock', 'start'))
    tracker.emit(step('erebus', 'lock', 'done'))
    tracker.emit(step('erebus', 'switch', 'start'))
    tracker.emit(step('moros', 'lock', 'start'))
    // held by another operator: not ours to release
    tracker.emit(step('nyx', 'lock', 'start'))
    tracker.emit(step('nyx', 'lock', 'failed'))
    tracker.emit(step('zelus', 'lock', 'done'))
    tracker.emit({ type: 'host-done', report: { host: 'zelus' } as HostReport })
    // probes of hosts not started yet are not in flight
    tracker.emit(step('hades', 'lock', 'start'))
    expect(tracker.hosts()).toEqual([
      { host: 'erebus', locked: true, switched: true },
      { host: 'moros', locked: true, switched: false },
      { host: 'nyx', locked: false, switched: false },
    ])
  })

  it('names the hosts left mid-deploy and the command that frees their locks, in one line', () => {
    expect(
      formatLeftInFlight([
        { host: 'erebus', locked: true, switched: true },
        { host: 'moros', locked: true, switched: false },
        { host: 'nyx', locked: false, switched: false },
      ]),
    ).toBe(
      'left mid-deploy: erebus (switched to a release not yet checked healthy), moros (locked, not switched); `ai-platform lock release erebus moros` frees their locks (the next deploy from this machine does too).',
    )
    expect(formatLeftInFlight([{ host: 'moros', locked: true, switched: false }])).toBe(
      'left mid-deploy: moros (locked, not switched); `ai-platform lock release moros` frees its lock (the next deploy from this machine does too).',
    )
    expect(formatLeftInFlight([{ host: 'nyx', locked: false, switched: false }])).toBe(
      'no host had taken its lock, so none is left mid-deploy.',
    )
  })
})
