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

export interface OnDemandRun {
  action: 'up' | 'down'
  project: string | undefined
  host: string
  /** The command line's arguments after HOST. */
  services: string[]
  dryRun: boolean
  lockWaitS: number
  healthTimeoutS: number
  acceptNew: boolean
  argv: readonly string[]
  interruptible: OnDemandOptions['interruptible']
  json: boolean
  log: (line: string) => void
}

/** Runs `up` or `down`: the report for --json, else its lines through `log`. */
export async function runOnDemand(run: OnDemandRun): Promise<unknown> {
  const { openProject } = await import('../config/open.js')
  const { onDemand } = await import('../ops/on-demand.js')
  const { formatOnDemand } = await import('../ui/ops-text.js')
  const { stderrLine } = await import('./reporters.js')
  const { project } = await openProject(run.project, run.dryRun ? {} : { connecting: run.action })
  const report = await onDemand(project, {
    action: run.action,
    host: run.host,
    services: run.services,
    dryRun: run.dryRun,
    lockWaitS: run.lockWaitS,
    healthTimeoutS: run.healthTimeoutS,
    acceptNew: run.acceptNew,
    log: stderrLine,
    command: [run.action, ...run.argv].join(' '),
    interruptible: run.interruptible,
  })
  if (run.json) return report
  for (const line of formatOnDemand(report)) run.log(line)
  return undefined
}
