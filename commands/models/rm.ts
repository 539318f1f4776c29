import { Args } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base-command.js'
import { modelsFlags } from '../../src/cli/models-flags.js'
import { yesFlag } from '../../src/cli/target-flags.js'

export default class ModelsRm extends BaseCommand {
  static override summary = 'Delete models from Ollama nodes (on the writer for a shared store).'
  static override description = `Asks first when it would change more than one host: --yes answers, and without a terminal (a pipe, CI=true) it is refused unless --yes is given.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = { models: Args.string({ description: 'Models to delete.', required: true }) }
  static override flags = { ...modelsFlags, ...yesFlag }
  static override examples = ['<%= config.bin %> models rm llava:13b --on kratos']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(ModelsRm)
    const { openProject } = await import('../../src/config/open.js')
    const { runModelsRm } = await import('../../src/cli/models.js')
    const { project } = await openProject(flags.project, { connecting: 'models rm' })
    const redact = await this.secretsMask(project)
    const { report, text } = await runModelsRm(project, {
      on: flags.on ?? [],
      models: argv as string[],
      timeoutMs: flags.timeout * 1000,
      acceptNew: flags['accept-new'],
      redact,
      confirm: this.confirmChanges(flags.yes),
    })
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    this.log(text)
    return undefined
  }
}
