// Confirmation before a run changes hosts. A run that would change more than one host asks first,
// whatever words chose them (a bare `deploy` means every host, as `all` does), and without a terminal
// to ask on (a pipe, CI=true) it is refused unless --yes says the answer.
import { createInterface } from 'node:readline/promises'
import { UserError } from '../errors.js'

/** Where a question is asked, and whether anyone is there to answer it. */
export interface Terminal {
  interactive: boolean
  ask(question: string): Promise<string>
}

export function processTerminal(): Terminal {
  return {
    interactive: process.stdin.isTTY === true && process.env.CI !== 'true',
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr })
      try {
        return await rl.question(question)
      } finally {
        rl.close()
      }
    },
  }
}

/** Asks on the terminal; without one the caller must pass --yes, and `refusal` says what needed it. */
export async function confirm(
  question: string,
  yes: boolean,
  refusal: string,
  terminal: Terminal = processTerminal(),
): Promise<void> {
  if (yes) return
  if (!terminal.interactive)
    throw new UserError(
      refusal,
      'Run again with --yes to confirm without a prompt (a pipe, or CI=true, has no terminal to ask on).',
    )
  const answer = await terminal.ask(`${question} [y/N] `)
  if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('cancelled')
}

/** What a run is about to change: "Deploy 3 hosts of platform mini in 2 waves", and those hosts. */
export interface Change {
  action: string
  hosts: readonly string[]
}

/** How a service asks before it changes hosts; the command decides how (a prompt, --yes, a refusal). */
export type ConfirmChange = (change: Change) => Promise<void>

/** Only a run that changes more than one host asks: one host is what the operator named. */
export function needsConfirmation(hosts: readonly string[]): boolean {
  return new Set(hosts).size > 1
}

export function confirmChanges(command: string, yes: boolean, terminal?: Terminal): ConfirmChange {
  return async ({ action, hosts }) => {
    if (!needsConfirmation(hosts)) return
    const named = hostList([...new Set(hosts)])
    await confirm(
      `${action}: ${named}?`,
      yes,
      `${command} would change ${new Set(hosts).size} hosts (${named}), and no terminal is attached to confirm it on`,
      terminal,
    )
  }
}

/** At most ten names: a fleet of a hundred must not fill the screen. */
function hostList(hosts: readonly string[]): string {
  return hosts.length <= 10 ? hosts.join(', ') : `${hosts.slice(0, 9).join(', ')} and ${hosts.length - 9} more`
}
