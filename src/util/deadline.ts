// The one deadline helper: every wait on a host (a Docker API call, a channel or a tunnel opening, a
// transfer) ends by its deadline or the caller's abort signal, whichever comes first, even when the
// work itself never notices its signal.
import { RemoteError } from '../errors.js'

/** What a wait that ran out of time rejects with (an interruption is a plain RemoteError). */
export class NoAnswer extends RemoteError {
  /** The message without the host: `WHAT: no answer within N s`. */
  readonly detail: string
  constructor(host: string, what: string, ms: number) {
    const detail = `${what}: no answer within ${seconds(ms)}`
    super({ host, message: `${host}: ${detail}` })
    this.detail = detail
  }
}

/** For a remote wait that has no timeout of its own to inherit. */
export const REMOTE_WAIT_MS = 30_000

/**
 * One read's deadline inside a longer wait: `each`, cut to what is left before `deadline` (epoch ms),
 * but a few seconds at least (never above `each`), so a last read can still succeed.
 */
export function readWithin(each: number, deadline: number): number {
  return Math.min(each, Math.max(Math.min(each, 5000), deadline - Date.now()))
}

export function seconds(ms: number): string {
  return ms >= 10_000 || ms % 1000 === 0 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`
}

/**
 * Runs work(signal) and settles with it, or rejects with `HOST: WHAT: no answer within N s` when `ms`
 * pass, or `HOST: WHAT was interrupted` when `parent` aborts; either way the signal given to work is
 * aborted, so a request that honours it is torn down.
 */
export function withDeadline<T>(
  host: string,
  what: string,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let onParent: (() => void) | undefined
  return new Promise<T>((resolve, reject) => {
    const fail = (timedOut: boolean): void => {
      reject(
        timedOut
          ? new NoAnswer(host, what, ms)
          : new RemoteError({ host, message: `${host}: ${what} was interrupted` }),
      )
      controller.abort()
    }
    if (parent?.aborted) return fail(false)
    timer = setTimeout(() => fail(true), ms)
    onParent = () => fail(false)
    parent?.addEventListener('abort', onParent, { once: true })
    work(controller.signal).then(resolve, reject)
  }).finally(() => {
    clearTimeout(timer)
    if (onParent) parent?.removeEventListener('abort', onParent)
  })
}
