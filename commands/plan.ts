import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { targetArgs, targetFlags } from '../src/cli/target-flags.js'

export default class PlanCommand extends BaseCommand {
  static override summary = 'Show the deploy plan: waves of hosts, the services on each, file hashes.'
  static override description = `The same plan object that \`deploy\` executes and \`deploy --dry-run\` prints. Pure: reads only the platform directory, opens no network connection.

--format mermaid or dot prints the deploy graph instead, to paste into docs or render (Mermaid, or Graphviz: \`dot -Tsvg\`): the hosts grouped by wave, and an arrow from each host to every host that waits for it, labelled with the services it waits for.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    ...targetFlags,
    format: Flags.string({
      description: 'text for people; mermaid (flowchart) or dot (Graphviz) for the deploy graph.',
      options: ['text', 'mermaid', 'dot'],
      default: 'text',
      exclusive: ['json'],
    }),
  }

  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan orpheus --with-deps',
    '<%= config.bin %> plan @ollama --json',
    '<%= config.bin %> plan all --phase infra',
    '<%= config.bin %> plan all --format dot | dot -Tsvg > plan.svg',
  ]

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(PlanCommand)
    const { openProject } = await import('../src/config/open.js')
    const { planRun } = await import('../src/plan/service.js')
    const open = await openProject(flags.project)
    const { plan } = planRun(open, {
      selectors: argv as string[],
      phase: flags.phase as 'infra' | 'ai' | 'monitor' | undefined,
      withDeps: flags['with-deps'],
    })
    if (this.jsonEnabled()) return plan
    if (flags.format === 'mermaid' || flags.format === 'dot') {
      const { formatPlanDot, formatPlanMermaid } = await import('../src/ui/plan-graph.js')
      this.log(flags.format === 'mermaid' ? formatPlanMermaid(plan) : formatPlanDot(plan))
      return undefined
    }
    const { formatPlan } = await import('../src/ui/plan-text.js')
    const { outputWidth } = await import('../src/ui/wrap.js')
    this.logStyled(formatPlan(plan, { width: outputWidth() }))
    return undefined
  }
}
