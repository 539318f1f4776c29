import { createInterface } from 'node:readline/promises'
import { UserError } from '../errors.js'

/** Asks on the terminal; without one (CI, pipes) the caller must pass --yes. */
export async function confirm(question: string, yes: boolean): Promise<void> {
  if (yes) return
  if (process.stdin.isTTY !== true || process.env.CI === 'true') throw new UserError('this needs confirmation, and no terminal is attached', 'Add --yes to confirm non-interactively.')
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  const answer = await rl.question(`${question} [y/N] `)
  rl.close()
  if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('cancelled')
}
