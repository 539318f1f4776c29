import { Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, yesFlag } from '../../src/cli/target-flags.js'

export default class Backup extends BaseCommand {
  static override summary = 'Dump the platform databases (pg_dump inside the database container), rotated on the host.'
  static override description = `Every service marked x-ai-platform.backup (the reference: postgres on erebus) is dumped: each non-template database with pg_dump -Fc, plus the roles, into BASE/backups/<service>/<id> on its host, keeping the newest \`keep\` backups (directories 0700, files 0600 from the first byte; a failed backup leaves nothing). Any database name works: dump files are named <name>.dump, other characters written as %XX. --download copies them to this machine.

Asks first when it would change more than one host: --yes answers, and without a terminal (a pipe, CI=true) it is refused unless --yes is given.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    download: Flags.string({
      description: 'Also copy the backup files into DIR/<host>/<service>/<id>.',
      helpValue: 'DIR',
    }),
    ...acceptNewFlag,
    ...yesFlag,
  }
  static override examples = ['<%= config.bin %> backup', '<%= config.bin %> backup erebus --download ./backups']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Backup)
    const { openProject } = await import('../../src/config/open.js')
    const { backup } = await import('../../src/ops/backup.js')
    const { project } = await openProject(flags.project, { connecting: 'backup' })
    const redact = await this.secretsMask(project)
    const report = await backup(project, {
      selectors: argv as string[],
      ...(flags.download ? { download: flags.download } : {}),
      acceptNew: flags['accept-new'],
      redact,
      confirm: this.confirmChanges(flags.yes),
    })
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    for (const b of report.backups) {
      if (!b.ok) this.log(`${b.host} ${b.service}: FAILED: ${b.error}`)
      else
        this.log(
          `${b.host} ${b.service}: backup ${b.id}: ${b.files.map((f) => `${f.name} (${f.bytes} B)`).join(', ')}${b.downloaded ? `; copied to ${b.downloaded}` : ''}`,
        )
    }
    return undefined
  }
}
