// The integration tier's gate: skip on a developer's machine without the fleet or root, fail under CI=true.
import { describe, expect, it } from 'vitest'
import { fleetGate } from '../integration/helpers/fleet-gate.js'

describe('fleetGate', () => {
  const base = { fleetJson: '/x/fleet.json', fleetPresent: true, root: true, ci: false }
  const missing = 'test fleet not running (/x/fleet.json missing): run `npm run fleet:up` as root to enable these tests'
  const notRoot = 'the fleet tests need root (the fleet key and sockets are root-only)'

  it.each([
    ['fleet up, root', {}, { action: 'run' }],
    ['fleet up, root, CI', { ci: true }, { action: 'run' }],
    ['no fleet: a developer skips', { fleetPresent: false }, { action: 'skip', reason: missing }],
    ['not root: a developer skips', { root: false }, { action: 'skip', reason: notRoot }],
    [
      'no fleet under CI=true fails',
      { fleetPresent: false, ci: true },
      { action: 'fail', reason: `CI=true and the integration tier cannot run: ${missing}` },
    ],
    [
      'not root under CI=true fails',
      { root: false, ci: true },
      { action: 'fail', reason: `CI=true and the integration tier cannot run: ${notRoot}` },
    ],
  ] as const)('%s', (_case, change, gate) => {
    expect(fleetGate({ ...base, ...change })).toEqual(gate)
  })
})
