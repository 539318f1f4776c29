import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'

export default class Init extends BaseCommand {
  static override summary =
    'Scaffold a platform directory from the reference platform or an example, with generated secrets.'
  static override description = `Copies inventory/, stacks/, templates/ (and docker/, the build contexts, when there is one) and the JSON schemas into DIR, adds a .gitignore that keeps secrets.env out of git, and fills secrets.env (mode 0600) with strong random values.

--from picks what to copy: a bundled example (sutazai, agents-gateway, fastapi-platform; see README.md) or any platform directory; without it, the bundled reference platform. The source must validate before anything is written.`
  static override enableJsonFlag = true
  static override args = {
    dir: Args.string({ description: 'Directory to create (must be new or empty).', required: true }),
  }
  static override flags = {
    from: Flags.string({
      description: 'A bundled example (sutazai, agents-gateway, fastapi-platform) or a platform directory to copy.',
      helpValue: 'EXAMPLE|DIR',
    }),
  }
  static override examples = [
    '<%= config.bin %> init ./my-platform',
    '<%= config.bin %> init ./agents --from agents-gateway',
  ]

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Init)
    const { initProject } = await import('../src/init/init.js')
    const result = await initProject(args.dir, flags.from)
    if (this.jsonEnabled()) return result
    this.log(
      `created ${result.dir} from ${result.from}: ${result.copied.join(', ')}; ${result.secrets.created.length} secrets generated in ${result.secrets.path}`,
    )
    if (result.secrets.toSupply.length > 0) this.log(`add by hand: ${result.secrets.toSupply.join(', ')}`)
    this.log(`next: edit ${result.dir}/inventory/hosts.yaml, then \`ai-platform validate --project ${args.dir}\``)
    return undefined
  }
}
