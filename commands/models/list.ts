import { BaseCommand } from '../../src/cli/base-command.js'
import { modelsFlags } from '../../src/cli/models-flags.js'

export default class ModelsList extends BaseCommand {
  static override summary =
    'Nodes x models: what each Ollama node has, with sizes; missing and undeclared models marked.'
  static override enableJsonFlag = true
  static override flags = modelsFlags
  static override examples = ['<%= config.bin %> models list', '<%= config.bin %> models list --on hades --json']

  async run(): Promise<unknown> {
    const { flags } = await this.parse(ModelsList)
    const { openProject } = await import('../../src/config/open.js')
    const { runModelsList } = await import('../../src/cli/models.js')
    const { project } = await openProject(flags.project, { connecting: 'models list' })
    const redact = await this.secretsMask(project)
    const { report, text } = await runModelsList(project, {
      on: flags.on ?? [],
      timeoutMs: flags.timeout * 1000,
      acceptNew: flags['accept-new'],
      redact,
    })
    if (report.nodes.some((n) => !n.reachable || n.models.some((m) => m.state === 'missing'))) process.exitCode = 1
    if (this.jsonEnabled()) return report
    this.logStyled(text)
    return undefined
  }
}
