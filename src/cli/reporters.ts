// Which display a run gets, decided here in the command layer so services never read the terminal:
// listr2 tasks on a terminal; plain timestamped lines when not a TTY, in CI, or with --json (whose
// progress goes to stderr, the JSON document alone to stdout).
import type { Plan } from '../plan/plan.js'
import { listrReporter, plainReporter, type Reporter } from '../ui/deploy-reporters.js'

/** A line for the operator on stderr. */
export function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** A live display: stderr is a terminal, not CI, not --json. */
export function interactive(json: boolean): boolean {
  return !json && process.stderr.isTTY === true && process.env.CI !== 'true'
}

export function deployReporter(json: boolean): (plan: Plan) => Promise<Reporter> {
  return async (plan) => (interactive(json) ? listrReporter(plan) : plainReporter(stderrLine))
}
