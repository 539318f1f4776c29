import { Args } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base-command.js'
import { acceptNewFlag, yesFlag } from '../../src/cli/target-flags.js'

export default class LockRelease extends BaseCommand {
  static override summary = 'Remove the deploy lock from hosts, whoever holds it (for a deploy that died).'
  static override description = `Asks first when it would change more than one host: --yes answers, and without a terminal (a pipe, CI=true) it is refused unless --yes is given.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = { host: Args.string({ description: 'Hosts to unlock (names, @tag or all).', required: true }) }
  static override flags = { ...acceptNewFlag, ...yesFlag }
  static override examples = ['<%= config.bin %> lock release erebus']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(LockRelease)
    const { openProject } = await import('../../src/config/open.js')
    const { releaseLocks } = await import('../../src/ops/inspect.js')
    const { project } = await openProject(flags.project, { connecting: 'lock release' })
    const redact = await this.secretsMask(project)
    const report = await releaseLocks(project, argv as string[], {
      acceptNew: flags['accept-new'],
      redact,
      confirm: this.confirmChanges(flags.yes),
    })
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    for (const h of report.hosts)
      this.log(
        `${h.host}: ${'error' in h ? `FAILED: ${h.error}` : h.released ? `released (was held by ${h.holder})` : 'was not locked'}`,
      )
    return undefined
  }
}
