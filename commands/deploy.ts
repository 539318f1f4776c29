import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, targetFlags, yesFlag } from '../src/cli/target-flags.js'

export default class Deploy extends BaseCommand {
  static override summary = 'Deploy hosts in dependency order over SSH, gated on health, rolling back what fails.'
  static override description = `Targets are host names, @tag or all (the default). A host starts when every host it depends on in this run is up and healthy; independent hosts go in parallel (--concurrency). Per host: preflight (Docker, Compose v2 or v1, GPU driver, disk, NAS mounts), lock, upload the release and switch \`current\` atomically, pull missing images, \`compose up\`, wait for health, record. A host whose rendered files equal what it runs is left alone (--force redeploys). A failure rolls that host back to its previous release and skips its dependents. --dry-run prints the plan and touches nothing.

A run that would deploy more than one host asks first; --yes answers, and without a terminal (a pipe, CI=true) it is refused unless --yes is given. It needs your platform (--project DIR, AIP_PROJECT, or a platform directory as the current directory); only --dry-run falls back to the bundled reference platform.

Ctrl-C (or SIGTERM) starts no new host; hosts in flight finish or roll back. A second abandons their health waits (they are rolled back); a third exits at once, naming the hosts it may leave mid-deploy and locked. Exit status: 0 when every host is deployed, unchanged or repaired; 1 otherwise; after a signal 130 (SIGINT) or 143 (SIGTERM), whatever the hosts did.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    ...targetFlags,
    'dry-run': Flags.boolean({
      description: 'Print the plan and stop: no connection is opened, nothing is written.',
      default: false,
    }),
    force: Flags.boolean({
      description: 'Deploy hosts even when they already run the rendered release.',
      default: false,
    }),
    concurrency: Flags.integer({ description: 'Hosts deployed at once.', default: 10, min: 1 }),
    'lock-wait': Flags.integer({
      description: 'Seconds to wait for a host locked by another deploy (0: fail at once).',
      default: 0,
      min: 0,
      helpValue: 'SECONDS',
    }),
    'health-timeout': Flags.integer({
      description: 'Seconds a host may take to become healthy.',
      default: 300,
      min: 1,
      helpValue: 'SECONDS',
    }),
    ...acceptNewFlag,
    pull: Flags.string({
      description:
        'Pull images when missing on the host, always, or never (air-gapped hosts: a missing image fails the host before anything changes).',
      options: ['missing', 'always', 'never'],
      default: 'missing',
    }),
    ...yesFlag,
  }

  static override examples = [
    '<%= config.bin %> deploy erebus',
    '<%= config.bin %> deploy all --yes',
    '<%= config.bin %> deploy all --dry-run --json',
    '<%= config.bin %> deploy @ollama --with-deps',
  ]

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Deploy)
    const { openProject } = await import('../src/config/open.js')
    const open = await openProject(flags.project, flags['dry-run'] ? {} : { connecting: 'deploy' })
    const phase = flags.phase as 'infra' | 'ai' | 'monitor' | undefined
    if (flags['dry-run']) {
      const { planRun } = await import('../src/plan/service.js')
      const { plan } = planRun(open, { selectors: argv as string[], phase, withDeps: flags['with-deps'] })
      if (this.jsonEnabled()) return plan
      const { formatPlan } = await import('../src/ui/plan-text.js')
      const { outputWidth } = await import('../src/ui/wrap.js')
      this.logStyled(formatPlan(plan, { title: 'Dry run', width: outputWidth() }))
      this.log('\nDry run: nothing was contacted or changed.')
      return undefined
    }
    const { deployCommand } = await import('../src/deploy/service.js')
    const { formatSummary } = await import('../src/ui/deploy-reporters.js')
    const { deployReporter, stderrLine } = await import('../src/cli/reporters.js')
    const { report } = await deployCommand(open, {
      selectors: argv as string[],
      phase,
      withDeps: flags['with-deps'],
      force: flags.force,
      concurrency: flags.concurrency,
      lockWaitS: flags['lock-wait'],
      healthTimeoutS: flags['health-timeout'],
      acceptNew: flags['accept-new'],
      pull: flags.pull as 'missing' | 'always' | 'never',
      confirm: this.confirmChanges(flags.yes),
      reporter: deployReporter(this.jsonEnabled()),
      warn: stderrLine,
      command: ['deploy', ...this.argv].join(' '),
      tool: this.config.version,
      interruptible: this.interruptible,
    })
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    process.stderr.write(`${formatSummary(report)}\n`)
    return undefined
  }
}
