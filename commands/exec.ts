import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag } from '../src/cli/target-flags.js'

export default class Exec extends BaseCommand {
  static override summary = 'Run a command on a host, or inside a service container, and exit with its status.'
  static override description = `The command after -- is passed as an argument list: on the host it is quoted word by word, in a container it goes to the Docker API as an array. Nothing is interpreted by a local shell.`
  static override usage = 'exec HOST [--service SERVICE] [--project DIR] -- COMMAND [ARG...]'
  static override args = { host: Args.string({ description: 'Host name.', required: true }) }
  static override flags = {
    service: Flags.string({ char: 's', description: 'Run inside this service container instead of on the host.' }),
    ...acceptNewFlag,
  }
  static override examples = [
    '<%= config.bin %> exec erebus -- df -h /opt',
    '<%= config.bin %> exec erebus --service postgres -- psql -U postgres -c "select 1"',
  ]

  async run(): Promise<void> {
    // Everything after `--` is the command, word for word: oclif parses only what comes before it
    // (its non-strict mode moves flag values into argv and takes the command's own flags).
    const dash = this.argv.indexOf('--')
    const command = dash >= 0 ? this.argv.slice(dash + 1) : []
    const { flags, args } = await this.parse(Exec, dash >= 0 ? this.argv.slice(0, dash) : this.argv)
    const { openProject } = await import('../src/config/open.js')
    const { execOn } = await import('../src/ops/logs.js')
    const { project } = await openProject(flags.project, { connecting: 'exec' })
    const redact = await this.secretsMask(project)
    process.exitCode = await execOn(project, {
      host: args.host,
      ...(flags.service ? { service: flags.service } : {}),
      argv: command,
      out: process.stdout,
      err: process.stderr,
      acceptNew: flags['accept-new'],
      redact,
    })
  }
}
