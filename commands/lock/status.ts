import { BaseCommand } from '../../src/cli/base-command.js'
import { targetArgs, timeoutFlag } from '../../src/cli/target-flags.js'

export default class LockStatus extends BaseCommand {
  static override summary = 'Show who holds the deploy lock on each host, since when, for what.'
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = timeoutFlag()
  static override examples = ['<%= config.bin %> lock status', '<%= config.bin %> lock status erebus']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(LockStatus)
    const { openProject } = await import('../../src/config/open.js')
    const { lockStatus } = await import('../../src/ops/inspect.js')
    const { project } = await openProject(flags.project)
    const redact = await this.secretsMask(project)
    const report = await lockStatus(project, argv as string[], { timeoutMs: flags.timeout * 1000, redact })
    if (this.jsonEnabled()) return report
    for (const h of report.hosts) this.log(`${h.host}: ${!h.reachable ? `unreachable: ${h.error}` : h.lock ? `locked by ${h.lock.holder} since ${h.lock.since ?? '?'} (${h.lock.command ?? '?'})` : 'not locked'}`)
    return undefined
  }
}
