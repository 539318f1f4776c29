import { Args } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'

export default class Init extends BaseCommand {
  static override summary = 'Scaffold a platform directory from the reference platform, with generated secrets.'
  static override description = `Copies inventory/, stacks/, templates/ and the JSON schemas into DIR, adds a .gitignore that keeps secrets.env out of git, and fills secrets.env (mode 0600) with strong random values.`
  static override enableJsonFlag = true
  static override args = {
    dir: Args.string({ description: 'Directory to create (must be new or empty).', required: true }),
  }
  static override examples = ['<%= config.bin %> init ./my-platform']

  async run(): Promise<unknown> {
    const { args } = await this.parse(Init)
    const { initProject } = await import('../src/init/init.js')
    const result = await initProject(args.dir)
    if (this.jsonEnabled()) return result
    this.log(
      `created ${result.dir}: ${result.copied.join(', ')}; ${result.secrets.created.length} secrets generated in ${result.secrets.path}`,
    )
    if (result.secrets.toSupply.length > 0) this.log(`add by hand: ${result.secrets.toSupply.join(', ')}`)
    this.log(`next: edit ${result.dir}/inventory/hosts.yaml, then \`ai-platform validate --project ${args.dir}\``)
    return undefined
  }
}
