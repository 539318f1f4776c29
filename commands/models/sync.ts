import { Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base-command.js'
import { modelsFlags } from '../../src/cli/models-flags.js'
import { yesFlag } from '../../src/cli/target-flags.js'

export default class ModelsSync extends BaseCommand {
  static override summary =
    'Make the Ollama nodes match the inventory: pull what is missing; --prune deletes what is not declared.'
  static override description = `Asks first when it would change more than one host: --yes answers, and without a terminal (a pipe, CI=true) it is refused unless --yes is given.`
  static override enableJsonFlag = true
  static override flags = {
    ...modelsFlags,
    prune: Flags.boolean({ description: 'Delete models no node sharing the store declares.', default: false }),
    'per-node': Flags.integer({ description: 'Pulls at once on one node.', default: 2, min: 1 }),
    attempts: Flags.integer({ description: 'Tries per model.', default: 3, min: 1 }),
    ...yesFlag,
  }

  static override examples = ['<%= config.bin %> models sync', '<%= config.bin %> models sync --prune --on hades']

  async run(): Promise<unknown> {
    const { flags } = await this.parse(ModelsSync)
    const { openProject } = await import('../../src/config/open.js')
    const { runModelsSync } = await import('../../src/cli/models.js')
    const { project } = await openProject(flags.project, { connecting: 'models sync' })
    const redact = await this.secretsMask(project)
    const report = await runModelsSync(project, {
      on: flags.on ?? [],
      models: [],
      perNode: flags['per-node'],
      attempts: flags.attempts,
      timeoutMs: flags.timeout * 1000,
      acceptNew: flags['accept-new'],
      prune: flags.prune,
      json: this.jsonEnabled(),
      redact,
      interruptible: this.interruptible,
      confirm: this.confirmChanges(flags.yes),
    })
    if (!report.ok) process.exitCode = 1
    return this.jsonEnabled() ? report : undefined
  }
}
