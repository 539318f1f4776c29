import { BaseCommand } from '../../src/cli/base-command.js'
import { acceptNewFlag, targetArgs } from '../../src/cli/target-flags.js'

export default class BackupList extends BaseCommand {
  static override summary = 'List the database backups kept on the hosts, newest first, with file sizes.'
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = acceptNewFlag
  static override examples = ['<%= config.bin %> backup list erebus']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(BackupList)
    const { openProject } = await import('../../src/config/open.js')
    const { backupList } = await import('../../src/ops/backup.js')
    const { project } = await openProject(flags.project, { connecting: 'backup list' })
    const redact = await this.secretsMask(project)
    const report = await backupList(project, argv as string[], { acceptNew: flags['accept-new'], redact })
    if (report.hosts.some((h) => 'error' in h)) process.exitCode = 1
    if (this.jsonEnabled()) return report
    for (const h of report.hosts) {
      this.log(
        `${h.host} ${h.service}:${'error' in h ? ` FAILED: ${h.error}` : h.backups.length === 0 ? ' no backups' : ''}`,
      )
      for (const b of h.backups) this.log(`  ${b.id}  ${b.files.map((f) => `${f.name} ${f.bytes} B`).join(', ')}`)
    }
    return undefined
  }
}
