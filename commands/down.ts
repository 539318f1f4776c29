import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag } from '../src/cli/target-flags.js'

export default class Down extends BaseCommand {
  static override summary = 'Stop on-demand services on a host and remove their containers, and only theirs.'
  static override description = `Under the host's deploy lock: \`compose --profile on-demand rm --stop --force SERVICE...\` on the host's current release, then a "stopped" line in the host's history and the local audit log. Nothing else on the host is touched. \`health\` and \`status\` then show the services as stopped (on demand), not failed.

Refused as \`up\` refuses: an unknown host or service, a service not placed on the host or not on demand (deploy manages it), a host that runs no (recorded) release. --dry-run says what it would do and contacts nothing.`
  static override enableJsonFlag = true
  static override usage = 'down HOST SERVICE... [--dry-run] [--lock-wait SECONDS] [--json]'
  static override strict = false
  static override args = {
    host: Args.string({ description: 'Host name.', required: true }),
    service: Args.string({ description: 'On-demand services to stop (one or more).', required: true }),
  }
  static override flags = {
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
  static override examples = ['<%= config.bin %> down kratos comfyui', '<%= config.bin %> down hephaestus tempo --json']

  async run(): Promise<unknown> {
    const { flags, args, argv } = await this.parse(Down)
    const { openProject } = await import('../src/config/open.js')
    const { onDemand } = await import('../src/ops/on-demand.js')
    const { formatOnDemand } = await import('../src/ui/ops-text.js')
    const { stderrLine } = await import('../src/cli/reporters.js')
    const { project } = await openProject(flags.project, flags['dry-run'] ? {} : { connecting: 'down' })
    const report = await onDemand(project, {
      action: 'down',
      host: args.host,
      services: (argv as string[]).slice(1),
      dryRun: flags['dry-run'],
      lockWaitS: flags['lock-wait'],
      healthTimeoutS: 0,
      acceptNew: flags['accept-new'],
      log: stderrLine,
      command: ['down', ...this.argv].join(' '),
      interruptible: this.interruptible,
    })
    if (this.jsonEnabled()) return report
    for (const line of formatOnDemand(report)) this.log(line)
    return undefined
  }
}
