// Ctrl-C and SIGTERM, one escalation for every command that handles them: each signal takes the next
// step the command offers (deploy: stop starting hosts, then abandon the health waits in flight), and
// the one after its last step exits at once, saying in one line what may be left. A run that saw a
// signal ends as a shell reports a process the signal ended: 128 + its number, 130 for SIGINT and 143
// for SIGTERM (the base command applies it), never 0.

export type StopSignal = 'SIGINT' | 'SIGTERM'

const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM']

export function signalStatus(signal: StopSignal): 130 | 143 {
  return signal === 'SIGINT' ? 130 : 143
}

export interface InterruptStep {
  /** How the line of the step before names this one: "abandon their health waits (they are rolled back)". */
  called: string
  /** Said when the signal taking this step comes ("starting no new host; ..."); null says nothing (the command ends at once). */
  doing: string | null
}

export interface InterruptSpec {
  steps: readonly InterruptStep[]
  /** One line: what exiting at once, with the work cut wherever it is, may leave behind. */
  left: () => string
  /** Ctrl-C is how this command ends (a follow, a watch): after one, its own status stands. SIGTERM still ends it with 143. */
  endsOnCtrlC?: boolean
}

export interface Interrupts {
  /** Aborted by the nth signal (1: the first), which takes steps[n - 1]. */
  after(n: number): AbortSignal
  /** The status the run ends with because of a signal, or null (no signal, or a Ctrl-C that ends this command normally). */
  status(): 130 | 143 | null
  /** Stops listening (the process's default for the signals is back). */
  dispose(): void
}

/** How a command hands a service the escalation: the service names its steps, the command owns the exit status. */
export type Interruptible = (spec: InterruptSpec) => Interrupts

/** What the escalation touches of the process: listening, saying, exiting. */
export interface SignalHost {
  on(signal: StopSignal, listener: (signal: StopSignal) => void): void
  off(signal: StopSignal, listener: (signal: StopSignal) => void): void
  say(line: string): void
  exit(code: number): void
}

function processSignals(): SignalHost {
  return {
    on: (signal, listener) => process.on(signal, listener),
    off: (signal, listener) => process.off(signal, listener),
    say: (line) => process.stderr.write(`\n${line}\n`),
    // The one exit that cannot wait for the command to return: the operator asked for it.
    exit: (code) => process.exit(code),
  }
}

export function interrupts(spec: InterruptSpec, host: SignalHost = processSignals()): Interrupts {
  const controllers = spec.steps.map(() => new AbortController())
  let count = 0
  let last: StopSignal | null = null
  const listener = (signal: StopSignal): void => {
    count++
    last = signal
    const step = spec.steps[count - 1]
    if (step === undefined) {
      host.say(`${signal}: exiting at once; ${spec.left()}`)
      host.exit(signalStatus(signal))
      return
    }
    controllers[count - 1]!.abort()
    const next = spec.steps[count]?.called ?? 'exit at once'
    if (step.doing !== null)
      host.say(`${signal}: ${step.doing}. ${signal === 'SIGINT' ? 'Ctrl-C again' : 'Again'} to ${next}.`)
  }
  for (const signal of STOP_SIGNALS) host.on(signal, listener)
  let listening = true
  return {
    after(n) {
      const controller = controllers[n - 1]
      if (!controller) throw new Error(`interrupts: no step ${n} (the command has ${controllers.length})`)
      return controller.signal
    },
    status() {
      if (last === null || (last === 'SIGINT' && spec.endsOnCtrlC === true)) return null
      return signalStatus(last)
    },
    dispose() {
      if (!listening) return
      listening = false
      for (const signal of STOP_SIGNALS) host.off(signal, listener)
    },
  }
}
