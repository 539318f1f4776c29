import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { targetArgs } from '../src/cli/target-flags.js'

export default class Render extends BaseCommand {
  static override summary = "Write each host's compose.yaml, .env and config files to a local directory."
  static override description = `Writes DIR/<host>/compose.yaml, DIR/<host>/files/<hash>/... and DIR/<host>/.env (mode 0600, only the secrets that host's services use, as NAME='value' lines: \`set -a; . ./.env; set +a\` before running compose on them). Rendering is deterministic: the same input gives the same bytes.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    out: Flags.string({ description: 'Directory to write into.', default: 'rendered', helpValue: 'DIR' }),
    'no-secrets': Flags.boolean({
      description: 'Do not write .env files (no secrets file needed; Compose then sees empty values).',
      default: false,
    }),
  }

  static override examples = [
    '<%= config.bin %> render all --out rendered',
    '<%= config.bin %> render erebus --no-secrets',
  ]

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Render)
    const { openProject } = await import('../src/config/open.js')
    const { planRun } = await import('../src/plan/service.js')
    const { writeRenders } = await import('../src/render/write.js')
    const open = await openProject(flags.project)
    const { renders } = planRun(open, { selectors: argv as string[] })
    const written = await writeRenders(open.project, renders, flags.out, { secrets: !flags['no-secrets'] })
    if (this.jsonEnabled()) return { out: flags.out, hosts: written }
    for (const host of written)
      this.log(
        `${host.host.padEnd(12)} ${host.dir}  ${host.files.length} files  hash ${host.hash.slice(0, 12)}${host.env === 'skipped' ? '  (.env skipped)' : ''}`,
      )
    return undefined
  }
}
