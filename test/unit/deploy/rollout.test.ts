// The pure parts of a rolling update: the batches, the order old containers go in, and compose's digest.
import { describe, expect, it } from 'vitest'
import type { ContainerState } from '../../../src/deploy/containers.js'
import { parseConfigHash, removalOrder, rolloutBatches } from '../../../src/deploy/rollout.js'

describe('rolloutBatches', () => {
  it('replaces 20 replicas 5 at a time: each batch removes as many old ones as it added', () => {
    expect(rolloutBatches(20, 20, 5)).toEqual([
      { add: 5, remove: 5 },
      { add: 5, remove: 5 },
      { add: 5, remove: 5 },
      { add: 5, remove: 5 },
    ])
  })

  it('a last batch smaller than the others', () => {
    expect(rolloutBatches(7, 7, 3)).toEqual([
      { add: 3, remove: 3 },
      { add: 3, remove: 3 },
      { add: 1, remove: 1 },
    ])
  })

  it('scaled up while changed: old ones all go, new ones keep coming', () => {
    expect(rolloutBatches(6, 2, 2)).toEqual([
      { add: 2, remove: 2 },
      { add: 2, remove: 0 },
      { add: 2, remove: 0 },
    ])
  })

  it('scaled down while changed: the old ones beyond the declared count go in a last batch', () => {
    expect(rolloutBatches(2, 5, 2)).toEqual([
      { add: 2, remove: 2 },
      { add: 0, remove: 3 },
    ])
  })

  it('containers of the new definition left by an interrupted rollout count as added', () => {
    expect(rolloutBatches(4, 2, 2, 2)).toEqual([{ add: 2, remove: 2 }])
    expect(rolloutBatches(4, 2, 2, 4)).toEqual([{ add: 0, remove: 2 }])
  })

  it('a batch larger than the service is one batch; nothing old and all new is no batch', () => {
    expect(rolloutBatches(3, 3, 10)).toEqual([{ add: 3, remove: 3 }])
    expect(rolloutBatches(3, 0, 1, 3)).toEqual([])
  })

  it('never runs fewer containers than declared between batches', () => {
    for (const [replicas, old, batch] of [
      [20, 20, 5],
      [5, 5, 2],
      [10, 3, 4],
      [1, 1, 1],
    ] as const) {
      let running = old
      for (const step of rolloutBatches(replicas, old, batch)) {
        running += step.add
        running -= step.remove
        expect(running).toBeGreaterThanOrEqual(Math.min(replicas, old))
      }
      expect(running).toBe(replicas)
    }
  })
})

describe('removalOrder', () => {
  const c = (id: string, state: string, created: number): ContainerState => ({
    id,
    name: id,
    service: 'a',
    image: 'i',
    state,
    health: 'none',
    exitCode: null,
    status: '',
    created,
    configHash: 'old',
  })

  it('stopped ones first, then the oldest', () => {
    const order = removalOrder([c('r3', 'running', 3), c('e5', 'exited', 5), c('r1', 'running', 1), c('x2', 'dead', 2)])
    expect(order.map((x) => x.id)).toEqual(['x2', 'e5', 'r1', 'r3'])
  })
})

describe('parseConfigHash', () => {
  const hash = 'a'.repeat(64)

  it("reads compose's `SERVICE HASH` line (v1 and v2 print the same)", () => {
    expect(parseConfigHash(`agent ${hash}\n`, 'agent', 'h')).toBe(hash)
    expect(parseConfigHash(`WARN something\nagent ${hash}\n`, 'agent', 'h')).toBe(hash)
  })

  it('refuses anything else, naming the host', () => {
    expect(() => parseConfigHash('', 'agent', 'h')).toThrow('h: compose did not give the definition digest of agent')
    expect(() => parseConfigHash(`agent2 ${hash}`, 'agent', 'h')).toThrow('definition digest')
    expect(() => parseConfigHash('agent \u001b[31mzz', 'agent', 'h')).toThrow('definition digest')
  })
})
