import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { onDemandFlags, runOnDemand } from '../src/cli/on-demand.js'

export default class Up extends BaseCommand {
  static override summary =
    'Start on-demand services on a host, on the release it runs, and wait for them to be healthy.'
  static override description = `Services of tier on-demand are rendered under the Compose profile on-demand: deploy does not start them. Under the host's deploy lock: \`compose --profile on-demand up --detach --no-deps SERVICE...\` on the host's current release (on-demand services they require on that host are started with them, first; what else they depend on is run by deploy), then the same health wait as a deploy (containers running and healthy, then each service's own checks), and a "started" line in the host's history and the local audit log. A service that does not come up healthy is left as it is and the command fails. A later deploy keeps started on-demand services running, on the new release.

Refused: an unknown host or service, a service not placed on the host or not on demand, a host that runs no (recorded) release, or whose release does not have the service yet (deploy it first). --dry-run says what it would do and contacts nothing.`
  static override enableJsonFlag = true
  static override usage = 'up HOST SERVICE... [--dry-run] [--lock-wait SECONDS] [--health-timeout SECONDS] [--json]'
  static override strict = false
  static override args = {
    host: Args.string({ description: 'Host name.', required: true }),
    service: Args.string({ description: 'On-demand services to start (one or more).', required: true }),
  }
  static override flags = {
    ...onDemandFlags,
    'health-timeout': Flags.integer({
      description: 'Seconds the services may take to become healthy.',
      default: 300,
      min: 1,
      helpValue: 'SECONDS',
    }),
  }

  static override examples = [
    '<%= config.bin %> up kratos comfyui',
    '<%= config.bin %> up hephaestus tempo --health-timeout 120 --json',
    '<%= config.bin %> up kratos comfyui --dry-run',
  ]

  async run(): Promise<unknown> {
    const { flags, args, argv } = await this.parse(Up)
    return runOnDemand({
      action: 'up',
      project: flags.project,
      host: args.host,
      services: (argv as string[]).slice(1),
      dryRun: flags['dry-run'],
      lockWaitS: flags['lock-wait'],
      healthTimeoutS: flags['health-timeout'],
      acceptNew: flags['accept-new'],
      argv: this.argv,
      interruptible: this.interruptible,
      json: this.jsonEnabled(),
      log: (line) => this.log(line),
    })
  }
}
