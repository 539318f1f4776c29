import { Args } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { onDemandFlags, runOnDemand } from '../src/cli/on-demand.js'

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
  static override flags = { ...onDemandFlags }

  static override examples = ['<%= config.bin %> down kratos comfyui', '<%= config.bin %> down hephaestus tempo --json']

  async run(): Promise<unknown> {
    const { flags, args, argv } = await this.parse(Down)
    return runOnDemand({
      action: 'down',
      project: flags.project,
      host: args.host,
      services: (argv as string[]).slice(1),
      dryRun: flags['dry-run'],
      lockWaitS: flags['lock-wait'],
      healthTimeoutS: 0,
      acceptNew: flags['accept-new'],
      argv: this.argv,
      interruptible: this.interruptible,
      json: this.jsonEnabled(),
      log: (line) => this.log(line),
    })
  }
}
