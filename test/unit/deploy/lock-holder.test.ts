import { spawnSync } from 'node:child_process'
import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { describeHolder, holderRunning, parseHolder } from '../../../src/deploy/lock-holder.js'

const held = (info: Record<string, unknown>) => parseHolder(`held\n${JSON.stringify(info)}\n@@age 5`)

describe('a lock holder whose process is gone', () => {
  it('only a holder on this machine with a pid can be checked', () => {
    const alive = (pid: number) => pid === 7
    expect(holderRunning(held({ user: 'root', machine: 'vm', pid: 7 }), 'vm', alive)).toBe(true)
    expect(holderRunning(held({ user: 'root', machine: 'vm', pid: 8 }), 'vm', alive)).toBe(false)
    expect(holderRunning(held({ user: 'root', machine: 'other', pid: 8 }), 'vm', alive)).toBeNull()
    expect(holderRunning(held({ user: 'root', machine: 'vm' }), 'vm', alive)).toBeNull()
    expect(holderRunning(parseHolder('held\n@@age 5'), 'vm', alive)).toBeNull()
  })

  it('says it is no longer running and what frees the lock; any other holder is named as the lock names it', () => {
    const holder = held({ user: 'root', machine: 'vm', pid: 4242 })
    expect(describeHolder(holder, 'erebus', false)).toBe(
      'root@vm (pid 4242, no longer running: `ai-platform lock release erebus` frees it)',
    )
    expect(describeHolder(holder, 'erebus', true)).toBe('root@vm (pid 4242)')
    expect(describeHolder(holder, 'erebus', null)).toBe('root@vm (pid 4242)')
    expect(describeHolder(parseHolder('held\n@@age 5'), 'erebus', null)).toBe('an unknown holder')
  })

  it('this process runs; a finished one does not', () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    expect(holderRunning({ machine: hostname(), pid: process.pid }, hostname())).toBe(true)
    expect(holderRunning({ machine: hostname(), pid: gone }, hostname())).toBe(false)
  })
})
