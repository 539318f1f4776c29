import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag } from '../src/cli/target-flags.js'

export default class Logs extends BaseCommand {
  static override summary = "Stream a host's container logs (one service, or all of them interleaved with a prefix)."
  static override description = `Ctrl-C ends cleanly (exit 0): the log streams and the SSH connection are closed, nothing is left running; a second Ctrl-C exits at once (130). SIGTERM ends it the same way, with 143.`
  static override args = {
    host: Args.string({ description: 'Host name.', required: true }),
    service: Args.string({ description: 'Service (default: every service on the host).', required: false }),
  }

  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'Keep streaming new lines.', default: false }),
    since: Flags.string({ description: 'Only lines since a duration ago (30s, 10m, 2h, 1d) or a date.' }),
    tail: Flags.integer({ description: 'Lines from the end of each log to start with.', default: 100, min: 0 }),
    timestamps: Flags.boolean({ char: 't', description: 'Prefix each line with its timestamp.', default: false }),
    ...acceptNewFlag,
  }

  static override examples = ['<%= config.bin %> logs orpheus litellm -f', '<%= config.bin %> logs erebus --since 10m']

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Logs)
    const { openProject } = await import('../src/config/open.js')
    const { streamLogs } = await import('../src/ops/logs.js')
    const { project } = await openProject(flags.project, { connecting: 'logs' })
    const redact = await this.secretsMask(project)
    const signals = this.interruptible({
      steps: [{ called: 'close the log streams', doing: null }],
      left: () => `logs only reads: nothing is left on ${args.host}.`,
      endsOnCtrlC: true,
    })
    try {
      await streamLogs(project, {
        host: args.host,
        ...(args.service ? { service: args.service } : {}),
        follow: flags.follow,
        ...(flags.since ? { since: flags.since } : {}),
        tail: flags.tail,
        timestamps: flags.timestamps,
        acceptNew: flags['accept-new'],
        out: process.stdout,
        err: process.stderr,
        signal: signals.after(1),
        redact,
      })
    } finally {
      signals.dispose()
    }
  }
}
