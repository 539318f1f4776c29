import { describe, expect, it } from 'vitest'
import { Semaphore } from '../../../src/util/semaphore.js'

describe('Semaphore', () => {
  it('a waiter that gives up leaves the queue: the place goes to the next one', async () => {
    const semaphore = new Semaphore(1)
    const held = await semaphore.acquire()
    const controller = new AbortController()
    const gaveUp = semaphore.acquire(controller.signal)
    const next = semaphore.acquire()
    controller.abort(new Error('deadline'))
    await expect(gaveUp).rejects.toThrow('deadline')
    held()
    const release = await next
    release()
    await expect(semaphore.acquire(AbortSignal.abort(new Error('late')))).resolves.toBeTypeOf('function')
  })
})
