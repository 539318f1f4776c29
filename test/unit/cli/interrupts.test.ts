import { describe, expect, it } from 'vitest'
import {
  interrupts,
  signalStatus,
  type InterruptSpec,
  type SignalHost,
  type StopSignal,
} from '../../../src/cli/interrupts.js'

/** A process stand-in: signals are sent by hand; what is said and the exit are recorded. */
function fakeProcess() {
  const listeners = new Map<StopSignal, Set<(signal: StopSignal) => void>>([
    ['SIGINT', new Set()],
    ['SIGTERM', new Set()],
  ])
  const said: string[] = []
  const exits: number[] = []
  const host: SignalHost = {
    on: (signal, listener) => void listeners.get(signal)!.add(listener),
    off: (signal, listener) => void listeners.get(signal)!.delete(listener),
    say: (line) => void said.push(line),
    exit: (code) => void exits.push(code),
  }
  const send = (signal: StopSignal) => listeners.get(signal)!.forEach((listener) => listener(signal))
  return { host, send, said, exits, listening: () => listeners.get('SIGINT')!.size + listeners.get('SIGTERM')!.size }
}

const deploySteps: InterruptSpec = {
  steps: [
    { called: 'stop starting hosts', doing: 'starting no new host; hosts in flight finish or roll back' },
    {
      called: 'abandon their health waits (they are rolled back)',
      doing: 'abandoning the health waits in flight; those hosts are rolled back',
    },
  ],
  left: () => 'left mid-deploy: erebus (locked, not switched); `ai-platform lock release erebus` frees its lock.',
}

describe('Ctrl-C and SIGTERM escalation', () => {
  it('128 + the signal number: 130 for SIGINT, 143 for SIGTERM', () => {
    expect([signalStatus('SIGINT'), signalStatus('SIGTERM')]).toEqual([130, 143])
  })

  it('three Ctrl-C: stop, abandon the waits, then exit at once with 130 after one line saying what is left', () => {
    const p = fakeProcess()
    const signals = interrupts(deploySteps, p.host)
    expect([signals.after(1).aborted, signals.after(2).aborted, signals.status()]).toEqual([false, false, null])
    p.send('SIGINT')
    expect([signals.after(1).aborted, signals.after(2).aborted, signals.status()]).toEqual([true, false, 130])
    p.send('SIGINT')
    expect([signals.after(1).aborted, signals.after(2).aborted, p.exits]).toEqual([true, true, []])
    p.send('SIGINT')
    expect(p.exits).toEqual([130])
    expect(p.said).toEqual([
      'SIGINT: starting no new host; hosts in flight finish or roll back. Ctrl-C again to abandon their health waits (they are rolled back).',
      'SIGINT: abandoning the health waits in flight; those hosts are rolled back. Ctrl-C again to exit at once.',
      'SIGINT: exiting at once; left mid-deploy: erebus (locked, not switched); `ai-platform lock release erebus` frees its lock.',
    ])
  })

  it('SIGTERM escalates the same way and gives 143, never 0; the latest signal decides', () => {
    const p = fakeProcess()
    const signals = interrupts(deploySteps, p.host)
    p.send('SIGTERM')
    expect(signals.status()).toBe(143)
    expect(p.said).toEqual([
      'SIGTERM: starting no new host; hosts in flight finish or roll back. Again to abandon their health waits (they are rolled back).',
    ])
    p.send('SIGINT')
    expect(signals.status()).toBe(130)
    p.send('SIGTERM')
    expect(p.exits).toEqual([143])
  })

  it('a command that ends on Ctrl-C keeps its own status after one; SIGTERM still gives 143; a second signal exits at once', () => {
    const p = fakeProcess()
    const follow = interrupts(
      {
        steps: [{ called: 'close the log streams', doing: null }],
        left: () => 'logs only reads: nothing is left on erebus.',
        endsOnCtrlC: true,
      },
      p.host,
    )
    p.send('SIGINT')
    expect([follow.after(1).aborted, follow.status(), p.said]).toEqual([true, null, []])
    p.send('SIGINT')
    expect(p.exits).toEqual([130])
    expect(p.said).toEqual(['SIGINT: exiting at once; logs only reads: nothing is left on erebus.'])
    const q = fakeProcess()
    const watch = interrupts(
      { steps: [{ called: 'stop watching', doing: null }], left: () => '', endsOnCtrlC: true },
      q.host,
    )
    q.send('SIGTERM')
    expect(watch.status()).toBe(143)
  })

  it('dispose stops listening, once; a step the command does not have is a bug', () => {
    const p = fakeProcess()
    const signals = interrupts(deploySteps, p.host)
    expect(p.listening()).toBe(2)
    signals.dispose()
    signals.dispose()
    expect(p.listening()).toBe(0)
    expect(() => signals.after(3)).toThrow('interrupts: no step 3 (the command has 2)')
  })
})
