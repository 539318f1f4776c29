import { BaseCommand } from '../../src/cli/base-command.js'

export default class SecretsInit extends BaseCommand {
  static override summary = "Fill the project's secrets.env with strong random values for every declared secret."
  static override description = `Never overwrites an existing value. The file is written atomically with mode 0600. Secrets declared with generate: false (e.g. cloud API keys) are listed for you to add by hand.`
  static override enableJsonFlag = true
  static override examples = ['<%= config.bin %> secrets init --project ./my-platform']

  async run(): Promise<unknown> {
    const { flags } = await this.parse(SecretsInit)
    const { openProject } = await import('../../src/config/open.js')
    const { initSecrets } = await import('../../src/secrets/secrets.js')
    const { UserError } = await import('../../src/errors.js')
    const { project } = await openProject(flags.project)
    if (project.bundled) {
      throw new UserError(
        'the bundled reference platform has no place for secrets',
        'Scaffold your own platform with `ai-platform init DIR`, then run this there.',
      )
    }
    const result = await initSecrets(project)
    if (this.jsonEnabled()) return result
    this.log(`${result.path}: ${result.created.length} generated, ${result.kept.length} kept`)
    if (result.created.length > 0) this.log(`  generated: ${result.created.join(', ')}`)
    if (result.toSupply.length > 0) this.log(`  add by hand: ${result.toSupply.join(', ')}`)
    return undefined
  }
}
