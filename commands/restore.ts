import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, yesFlag } from '../src/cli/target-flags.js'

export default class Restore extends BaseCommand {
  static override summary = 'Restore databases from a backup kept on the host (asks for confirmation).'
  static override description = `pg_restore --clean --if-exists into the running database container: the restored databases lose what changed since the backup. Always asks first: --yes answers, and without a terminal (a pipe, CI=true) it is refused unless --yes is given.`
  static override enableJsonFlag = true
  static override args = { host: Args.string({ description: 'Host holding the backup.', required: true }) }
  static override flags = {
    from: Flags.string({ description: 'Backup id (see `backup list`).', required: true }),
    database: Flags.string({
      description: 'Only these databases (repeatable; default all in the backup).',
      multiple: true,
    }),
    ...yesFlag,
    ...acceptNewFlag,
  }

  static override examples = ['<%= config.bin %> restore erebus --from 20261123T040000Z --database litellm']

  async run(): Promise<unknown> {
    const { flags, args } = await this.parse(Restore)
    const { openProject } = await import('../src/config/open.js')
    const { restore } = await import('../src/ops/backup.js')
    const { confirm } = await import('../src/cli/confirm.js')
    const { project } = await openProject(flags.project, { connecting: 'restore' })
    const redact = await this.secretsMask(project)
    const what = flags.database?.length ? flags.database.join(', ') : 'every database in it'
    await confirm(
      `Restore ${what} on ${args.host} from backup ${flags.from}? Changes since then are lost.`,
      flags.yes,
      `restore would overwrite databases on ${args.host}, and no terminal is attached to confirm it on`,
    )
    const report = await restore(project, {
      host: args.host,
      from: flags.from,
      databases: flags.database ?? [],
      acceptNew: flags['accept-new'],
      redact,
    })
    if (this.jsonEnabled()) return report
    this.log(`${report.host} ${report.service}: restored ${report.restored.join(', ')} from ${report.from}`)
    return undefined
  }
}
