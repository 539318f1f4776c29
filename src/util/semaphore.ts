/** A counting semaphore: at most `limit` holders at once, first come first served. */
export class Semaphore {
  private active = 0
  private readonly waiting: (() => void)[] = []
  constructor(private readonly limit: number) {
    if (limit < 1) throw new Error(`Semaphore limit must be >= 1, got ${limit}`)
  }

  /** A place, or a rejection with the signal's reason when it aborts first (the wait is then given up). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', giveUp)
        this.active++
        let released = false
        resolve(() => {
          if (released) return
          released = true
          this.active--
          this.waiting.shift()?.()
        })
      }
      const giveUp = (): void => {
        const index = this.waiting.indexOf(grant)
        if (index >= 0) this.waiting.splice(index, 1)
        reject(abortReason(signal!))
      }
      if (this.active < this.limit) return grant()
      if (signal?.aborted) return reject(abortReason(signal))
      this.waiting.push(grant)
      signal?.addEventListener('abort', giveUp, { once: true })
    })
  }

  async use<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire()
    try {
      return await work()
    } finally {
      release()
    }
  }
}

/** The signal's reason as an Error (AbortSignal's is a DOMException unless abort() was given another value). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'aborted')
}
