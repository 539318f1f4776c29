import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { targetArgs, targetFlags } from '../src/cli/target-flags.js'

export default class Deploy extends BaseCommand {
  static override summary = 'Deploy hosts in dependency order over SSH, gated on health, rolling back what fails.'
  static override description = `Targets are host names, @tag or all. Hosts in a wave go in parallel; a wave starts when the
hosts it depends on are healthy. --dry-run prints the plan deploy would execute and touches nothing.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    ...targetFlags,
    'dry-run': Flags.boolean({ description: 'Print the plan and stop: no connection is opened, nothing is written.', default: false }),
  }

  static override examples = ['<%= config.bin %> deploy erebus', '<%= config.bin %> deploy all --dry-run --json', '<%= config.bin %> deploy @ollama --with-deps']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Deploy)
    const { openProject } = await import('../src/config/open.js')
    const { planRun } = await import('../src/plan/service.js')
    const open = await openProject(flags.project)
    const { plan } = planRun(open, { selectors: argv as string[], phase: flags.phase as 'infra' | 'ai' | 'monitor' | undefined, withDeps: flags['with-deps'] })
    if (flags['dry-run']) {
      if (this.jsonEnabled()) return plan
      const { formatPlan } = await import('../src/ui/plan-text.js')
      this.log(formatPlan(plan, { title: 'Dry run' }))
      this.log('\nDry run: nothing was contacted or changed.')
      return undefined
    }
    const { UserError } = await import('../src/errors.js')
    throw new UserError('deploying without --dry-run is not available yet in this build', 'Use --dry-run to see the plan.')
  }
}
