// What `up` and `down` share: their flags, and the run (open the platform, call the on-demand service,
// print its report). The commands differ in their words and in up's health wait.
import { Flags } from '@oclif/core'
import type { OnDemandOptions } from '../ops/on-demand.js'
import { acceptNewFlag } from './target-flags.js'

export const onDemandFlags = {
  'dry-run': Flags.boolean({
    description: 'Say what would be done and stop: no connection is opened, nothing is written.',
    default: false,
  }),
  'lock-wait': Flags.integer({
    description: 'Seconds to wait for a host locked by a deploy (0: fail at once).',
    default: 0,
    min: 0,
    helpValue: 'SECONDS',
  }),
  ...acceptNewFlag,
}

/** What the command hands over: the service's options but the log and command line, which are made here. */
export interface OnDemandRun extends Omit<OnDemandOptions, 'log' | 'command'> {
  project: string | undefined
  /** The command line's arguments, for the audit record. */
  argv: readonly string[]
  json: boolean
  /** The report's lines (the command's own stdout). */
  log: (line: string) => void
}

/** Runs `up` or `down`: the report for --json, else its lines through `log`. */
export async function runOnDemand(run: OnDemandRun): Promise<unknown> {
  const { openProject } = await import('../config/open.js')
  const { onDemand } = await import('../ops/on-demand.js')
  const { formatOnDemand } = await import('../ui/ops-text.js')
  const { stderrLine } = await import('./reporters.js')
  const { project } = await openProject(run.project, run.dryRun ? {} : { connecting: run.action })
  const { project: _dir, argv, json: _json, log: _print, ...options } = run
  const report = await onDemand(project, { ...options, log: stderrLine, command: [run.action, ...argv].join(' ') })
  if (run.json) return report
  for (const line of formatOnDemand(report)) run.log(line)
  return undefined
}
