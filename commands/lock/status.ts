import { BaseCommand } from '../../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, timeoutFlag } from '../../src/cli/target-flags.js'

export default class LockStatus extends BaseCommand {
  static override summary = 'Show who holds the deploy lock on each host, since when, for what.'
  static override description = `Only the lock is read (one short command per host). A host that cannot be reached is listed with the reason, the others are still shown, and the exit status is 1.

A lock left by a deploy from this machine whose process is gone says so (and \`ai-platform lock release HOST\` frees it); pidRunning in the JSON tells the same (null for a holder on another machine).

JSON report (--json): {kind: "ai-platform/locks", ok, hosts: [{host, reachable, error?, lock: {holder, since, command, pidRunning} | null}]}.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = { ...timeoutFlag(), ...acceptNewFlag }
  static override examples = ['<%= config.bin %> lock status', '<%= config.bin %> lock status erebus']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(LockStatus)
    const { openProject } = await import('../../src/config/open.js')
    const { lockStatus } = await import('../../src/ops/inspect.js')
    const { project } = await openProject(flags.project, { connecting: 'lock status' })
    const redact = await this.secretsMask(project)
    const report = await lockStatus(project, argv as string[], {
      timeoutMs: flags.timeout * 1000,
      acceptNew: flags['accept-new'],
      redact,
    })
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    const { formatLocks } = await import('../../src/ui/ops-text.js')
    for (const line of formatLocks(report.hosts)) this.log(line)
    return undefined
  }
}
