import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, timeoutFlag } from '../src/cli/target-flags.js'

export default class Status extends BaseCommand {
  static override summary =
    'Per host: the release it runs, when and by whom it was deployed, and its containers, read from the hosts.'
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = { ...timeoutFlag(), ...acceptNewFlag }
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status erebus --json']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Status)
    const { openProject } = await import('../src/config/open.js')
    const { status } = await import('../src/ops/inspect.js')
    const { project } = await openProject(flags.project, { connecting: 'status' })
    const redact = await this.secretsMask(project)
    const report = await status(project, argv as string[], {
      timeoutMs: flags.timeout * 1000,
      acceptNew: flags['accept-new'],
      redact,
    })
    if (report.hosts.some((h) => !h.reachable)) process.exitCode = 1
    if (this.jsonEnabled()) return report
    const { formatStatus } = await import('../src/ui/ops-text.js')
    for (const line of formatStatus(report.hosts)) this.log(line)
    return undefined
  }
}
