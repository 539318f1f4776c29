import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay, retry, type RetryOptions } from '../../../src/util/retry.js'

/** The waits a retry asked for, instead of waiting them. */
function recorder() {
  const waits: number[] = []
  return { waits, sleep: async (ms: number) => void waits.push(ms) }
}

const failing = (times: number, error: unknown = new Error('refused')) => {
  let calls = 0
  return {
    calls: () => calls,
    work: async (attempt: number) => {
      calls++
      if (attempt <= times) throw error
      return `ok after ${attempt}`
    },
  }
}

describe('backoffDelay: full jitter', () => {
  it('is uniform in [0, min(cap, base * 2^n)): the random number scales the ceiling', () => {
    const at = (random: number, n: number) => backoffDelay(n, { baseMs: 250, capMs: 5000, random: () => random })
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => at(0, n))).toEqual([0, 0, 0, 0, 0, 0, 0])
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => at(0.5, n))).toEqual([125, 250, 500, 1000, 2000, 2500, 2500])
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => at(0.999999, n))).toEqual([249, 499, 999, 1999, 3999, 4999, 4999])
  })

  it('never leaves [0, ceiling) whatever the random number, base, cap and failure count', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 0, max: 2000 }),
        (random, baseMs, capMs, n) => {
          const delay = backoffDelay(n, { baseMs, capMs, random: () => random })
          const ceiling = Math.min(capMs, baseMs * 2 ** n)
          expect(delay).toBeGreaterThanOrEqual(0)
          expect(delay).toBeLessThan(ceiling)
          expect(Number.isInteger(delay)).toBe(true)
        },
      ),
    )
  })

  it('uses Math.random by default: waits differ between clients', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6, { baseMs: 250, capMs: 60_000 })))
    expect(delays.size).toBeGreaterThan(40)
    for (const d of delays) expect(d).toBeLessThan(16_000)
  })
})

describe('retry', () => {
  const base = (extra: Partial<RetryOptions> = {}): RetryOptions & { waits: number[] } => {
    const { waits, sleep } = recorder()
    return { attempts: 5, baseMs: 100, capMs: 1000, random: () => 0.5, sleep, waits, ...extra }
  }

  it('tries again after each failure, waiting the jittered backoff, until the work succeeds', async () => {
    const options = base()
    const { work, calls } = failing(3)
    await expect(retry(work, options)).resolves.toBe('ok after 4')
    expect(calls()).toBe(4)
    expect(options.waits).toEqual([50, 100, 200])
  })

  it('gives up after `attempts` tries in all, with the last failure', async () => {
    const options = base({ attempts: 3 })
    const { work, calls } = failing(10, new Error('still refused'))
    await expect(retry(work, options)).rejects.toThrow('still refused')
    expect(calls()).toBe(3)
    expect(options.waits).toEqual([50, 100])
  })

  it('a failure that is not retryable ends it at once', async () => {
    const options = base({ retryable: (e) => (e as Error).message !== 'host key refused' })
    const { work, calls } = failing(10, new Error('host key refused'))
    await expect(retry(work, options)).rejects.toThrow('host key refused')
    expect(calls()).toBe(1)
    expect(options.waits).toEqual([])
  })

  it('onRetry hears each failure and the wait it causes, before the wait', async () => {
    const heard: [string, number, number][] = []
    const options = base({ onRetry: (e, attempt, ms) => heard.push([(e as Error).message, attempt, ms]) })
    await retry(failing(2).work, options)
    expect(heard).toEqual([
      ['refused', 1, 50],
      ['refused', 2, 100],
    ])
  })

  it('with a deadline: a wait ends by it, one last try comes at it, and a failure after it is final', async () => {
    let clock = 0
    const waits: number[] = []
    const options = base({
      attempts: Infinity,
      random: () => 0.999,
      deadline: 1500,
      now: () => clock,
      sleep: async (ms) => void (waits.push(ms), (clock += ms)),
    })
    const { work, calls } = failing(100)
    await expect(retry(work, options)).rejects.toThrow('refused')
    // 99, 199, 399, 799, 999 would pass 1500: the last wait is cut to end at it
    expect(waits).toEqual([99, 199, 399, 799, 4])
    expect(clock).toBe(1500)
    expect(calls()).toBe(6)
  })

  it('a deadline already passed: the first failure is final', async () => {
    const options = base({ attempts: Infinity, deadline: 0, now: () => 10 })
    const { work, calls } = failing(100)
    await expect(retry(work, options)).rejects.toThrow('refused')
    expect(calls()).toBe(1)
  })

  it('an abort ends the wait in progress at once and no try follows', async () => {
    const controller = new AbortController()
    const { work, calls } = failing(100)
    const started = Date.now()
    const pending = retry(work, {
      attempts: Infinity,
      baseMs: 60_000,
      capMs: 60_000,
      random: () => 0.99,
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toThrow('refused')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(calls()).toBe(1)
    // already aborted: one try, no wait
    const again = failing(100)
    await expect(retry(again.work, { ...base(), signal: AbortSignal.abort() })).rejects.toThrow('refused')
    expect(again.calls()).toBe(1)
  })
})
