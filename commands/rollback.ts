import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, yesFlag } from '../src/cli/target-flags.js'

export default class Rollback extends BaseCommand {
  static override summary =
    'Put a host back on a release it keeps (default: the one it ran before), or with --fleet every host of a fleet release, gated on health like a deploy.'
  static override description = `Under the host's deploy lock: switch BASE/current to that release, compose up, wait for every service to be healthy, and record it in the host's history. If that release does not come up healthy, the host is switched back to the release it ran and the command fails. Without --to, the release before the one it runs, skipping failed releases and those of the same content. A later deploy of the same inventory redeploys the rendered release as usual.

With --fleet, the argument is a fleet release id (\`ai-platform releases\`; default: the fleet release before the newest; a fleet release names the hosts of its own run): every host it names goes back on the release it ran then. The plan is shown first and nothing changes when a host no longer keeps its release; hosts already there are left alone; the others go one at a time in reverse dependency order, each under its lock and gated on health; the first that fails stops the run (it is back on the release it ran) and the rest are reported not started. --dry-run shows the plan and stops; more than one host asks first (--yes). Once every host is back, the rollback is recorded as a fleet release of its own.

Ctrl-C (or SIGTERM) abandons the rollback: the host goes back on the release it ran. A second exits at once, saying what may be left. After a signal the exit status is 130 (SIGINT) or 143 (SIGTERM).`
  static override enableJsonFlag = true
  static override args = {
    host: Args.string({ description: 'Host name; with --fleet, a fleet release id (optional).' }),
  }
  static override flags = {
    fleet: Flags.boolean({
      description:
        'Roll back every host of a fleet release (the argument: its id; default: the one before the newest).',
      default: false,
    }),
    'dry-run': Flags.boolean({
      description: 'With --fleet: show the plan and stop (hosts are read, nothing is changed).',
      default: false,
    }),
    to: Flags.string({
      description: 'Release id to return to (see `ai-platform status` or `audit HOST --remote`).',
      helpValue: 'RELEASE',
    }),
    'lock-wait': Flags.integer({
      description: 'Seconds to wait for a host locked by a deploy (0: fail at once).',
      default: 0,
      min: 0,
      helpValue: 'SECONDS',
    }),
    'health-timeout': Flags.integer({
      description: 'Seconds the host may take to become healthy.',
      default: 300,
      min: 1,
      helpValue: 'SECONDS',
    }),
    ...acceptNewFlag,
    ...yesFlag,
  }
  static override examples = [
    '<%= config.bin %> rollback erebus',
    '<%= config.bin %> rollback erebus --to 20261123T033928Z-9c2e15e2 --json',
    '<%= config.bin %> rollback --fleet --dry-run',
    '<%= config.bin %> rollback --fleet fleet-20261201T111205Z-0c5f2220 --yes',
  ]

  async run(): Promise<unknown> {
    const { flags, args } = await this.parse(Rollback)
    if (flags.fleet === true) return this.fleet(args.host ?? null, flags)
    if (args.host === undefined || flags['dry-run']) {
      const { UserError } = await import('../src/errors.js')
      throw args.host === undefined
        ? new UserError(
            'rollback needs a host, or --fleet',
            'e.g. `ai-platform rollback erebus` or `ai-platform rollback --fleet --dry-run`.',
          )
        : new UserError(
            '--dry-run goes with --fleet',
            'A rollback of one host has no dry run; `ai-platform audit HOST --remote` shows the releases it ran.',
          )
    }
    const { openProject } = await import('../src/config/open.js')
    const { rollbackCommand } = await import('../src/deploy/service.js')
    const { stderrLine } = await import('../src/cli/reporters.js')
    const open = await openProject(flags.project, { connecting: 'rollback' })
    const report = await rollbackCommand(open, {
      host: args.host,
      to: flags.to ?? null,
      lockWaitS: flags['lock-wait'],
      healthTimeoutS: flags['health-timeout'],
      acceptNew: flags['accept-new'],
      log: stderrLine,
      command: ['rollback', ...this.argv].join(' '),
      interruptible: this.interruptible,
    })
    if (this.jsonEnabled()) return { kind: 'ai-platform/rollback', ...report }
    this.log(
      `${report.host}: rolled back from ${report.from} to ${report.to} in ${(report.durationMs / 1000).toFixed(1)} s`,
    )
    for (const s of report.services) this.log(`  ${s.name.padEnd(28)} ${s.state.padEnd(10)} ${s.health}`)
    return undefined
  }

  private async fleet(
    id: string | null,
    flags: {
      project?: string
      yes: boolean
      'dry-run': boolean
      'lock-wait': number
      'health-timeout': number
      'accept-new': boolean
    },
  ): Promise<unknown> {
    const { openProject } = await import('../src/config/open.js')
    const { fleetRollbackCommand } = await import('../src/deploy/service.js')
    const { stderrLine } = await import('../src/cli/reporters.js')
    const open = await openProject(flags.project, { connecting: 'rollback --fleet' })
    const report = await fleetRollbackCommand(open, {
      id,
      dryRun: flags['dry-run'],
      lockWaitS: flags['lock-wait'],
      healthTimeoutS: flags['health-timeout'],
      acceptNew: flags['accept-new'],
      confirm: this.confirmChanges(flags.yes),
      log: stderrLine,
      command: ['rollback', ...this.argv].join(' '),
      interruptible: this.interruptible,
    })
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    if (report.dryRun) {
      this.log(`Dry run: nothing was changed (rollback --fleet ${report.target}).`)
      return undefined
    }
    for (const h of report.hosts)
      this.log(
        `  ${h.host.padEnd(14)} ${h.status.padEnd(12)} ${h.status === 'already' ? h.to : `${h.from ?? '-'} -> ${h.to}`}${h.error ? `  ${h.error}` : ''}`,
      )
    this.log(
      report.ok
        ? `rolled back to ${report.target}${report.fleetRelease ? `, recorded as ${report.fleetRelease.id}` : ''}`
        : `FAILED: rollback to ${report.target} stopped; hosts not started are on the release they ran`,
    )
    return undefined
  }
}
