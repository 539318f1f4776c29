import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag } from '../src/cli/target-flags.js'

export default class Rollback extends BaseCommand {
  static override summary =
    'Put a host back on a release it keeps (default: the one it ran before), gated on health like a deploy.'
  static override description = `Under the host's deploy lock: switch BASE/current to that release, compose up, wait for every service to be healthy, and record it in the host's history. If that release does not come up healthy, the host is switched back to the release it ran and the command fails. Without --to, the release before the one it runs, skipping failed releases and those of the same content. A later deploy of the same inventory redeploys the rendered release as usual.

Ctrl-C (or SIGTERM) abandons the rollback: the host goes back on the release it ran. A second exits at once, saying what may be left. After a signal the exit status is 130 (SIGINT) or 143 (SIGTERM).`
  static override enableJsonFlag = true
  static override args = { host: Args.string({ description: 'Host name.', required: true }) }
  static override flags = {
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
  }
  static override examples = [
    '<%= config.bin %> rollback erebus',
    '<%= config.bin %> rollback erebus --to 20261123T033928Z-9c2e15e2 --json',
  ]

  async run(): Promise<unknown> {
    const { flags, args } = await this.parse(Rollback)
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
}
