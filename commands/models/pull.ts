import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base-command.js'
import { modelsFlags } from '../../src/cli/models-flags.js'
import { yesFlag } from '../../src/cli/target-flags.js'

export default class ModelsPull extends BaseCommand {
  static override summary = 'Pull the models each Ollama node serves, in parallel, with live progress.'
  static override description = `Models come from the inventory (a host's models and the models: placement rules), the same source the LiteLLM routes are rendered from. A shared model store is pulled into once, by the node that mounts it read-write. Models already present are skipped. A stream line with an "error" key is a failure even under HTTP 200; interrupted pulls are retried and resume from Ollama's partial files.

Asks first when it would change more than one host: --yes answers, and without a terminal (a pipe, CI=true) it is refused unless --yes is given.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = {
    models: Args.string({ description: 'Models to pull (default: every placed model).', required: false }),
  }
  static override flags = {
    ...modelsFlags,
    'per-node': Flags.integer({ description: 'Pulls at once on one node.', default: 2, min: 1 }),
    attempts: Flags.integer({
      description: 'Tries per model for interrupted or failed transfers.',
      default: 3,
      min: 1,
    }),
    ...yesFlag,
  }

  static override examples = [
    '<%= config.bin %> models pull',
    '<%= config.bin %> models pull --on hades llama3.1:70b',
    '<%= config.bin %> models pull --on @ollama --json',
  ]

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(ModelsPull)
    const { openProject } = await import('../../src/config/open.js')
    const { runModelsPull } = await import('../../src/cli/models.js')
    const { project } = await openProject(flags.project, { connecting: 'models pull' })
    const redact = await this.secretsMask(project)
    const report = await runModelsPull(project, {
      on: flags.on ?? [],
      models: argv as string[],
      perNode: flags['per-node'],
      attempts: flags.attempts,
      timeoutMs: flags.timeout * 1000,
      acceptNew: flags['accept-new'],
      json: this.jsonEnabled(),
      redact,
      interruptible: this.interruptible,
      confirm: this.confirmChanges(flags.yes),
    })
    if (!report.ok) process.exitCode = 1
    return this.jsonEnabled() ? report : undefined
  }
}
