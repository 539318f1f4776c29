// The one retry helper: every loop that tries again waits a "full jitter" backoff, a random time
// between 0 and min(cap, base * 2^n). Clients that failed together (64 handshakes through one
// bastion, deploys waiting for one lock) then spread out instead of retrying in lockstep.
import { setTimeout as sleepFor } from 'node:timers/promises'

export interface Backoff {
  /** The longest first wait; each later one may be twice as long as the one before. */
  baseMs: number
  /** No wait is longer. */
  capMs: number
  /** A number in [0, 1): Math.random unless a test fixes it. */
  random?: () => number
}

/** The wait after the nth failure (0: the first): uniform in [0, min(cap, base * 2^n)). */
export function backoffDelay(n: number, backoff: Backoff): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** n)
  return Math.floor((backoff.random ?? Math.random)() * ceiling)
}

export interface RetryOptions extends Backoff {
  /** Tries in all, the first included; Infinity: until `deadline` or `signal` ends them. */
  attempts: number
  /** Whether a failure is worth another try (default: every one). */
  retryable?: (error: unknown) => boolean
  /** A failure at or after this time (ms since the epoch) is final; a wait ends by it, so a last try comes at it. */
  deadline?: number
  /** Aborted: the wait in progress ends at once and no try follows (the last failure is thrown). */
  signal?: AbortSignal | undefined
  /** Called before each wait, with the failure that caused it. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  /** Waits; tests pass one that records the delays. It resolves (never rejects) when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  now?: () => number
}

/**
 * Runs work(attempt) (attempt counts from 1) until it resolves, and rethrows the last failure when it
 * is not retryable, the attempts are spent, the deadline has passed or the signal aborted.
 */
export async function retry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? abortableSleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt)
    } catch (error) {
      if (attempt >= options.attempts || options.signal?.aborted) throw error
      if (options.deadline !== undefined && now() >= options.deadline) throw error
      if (options.retryable && !options.retryable(error)) throw error
      let delay = backoffDelay(attempt - 1, options)
      if (options.deadline !== undefined) delay = Math.min(delay, options.deadline - now())
      options.onRetry?.(error, attempt, delay)
      await sleep(delay, options.signal)
      if (options.signal?.aborted) throw error
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepFor(ms, undefined, signal ? { signal } : {}).catch(() => undefined)
}
