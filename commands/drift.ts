import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, timeoutFlag } from '../src/cli/target-flags.js'
import { jsonSafe } from '../src/util/printable.js'

export default class Drift extends BaseCommand {
  static override summary =
    'What differs between each host and the release it records: containers, images, config files, .env.'
  static override description = `Per host, against the release it records as current (read from the host; nothing is rendered): a service running fewer containers than the release declares (missing, or stopped), a container made from another definition than the release's (Compose's config-hash), a container whose image reference now names another image (retagged or replaced by hand: the next restart runs something else), a config file of the release edited or removed on the host, and its .env edited or removed (against the .env.sha256 the release carries; an older release without one is not judged on it). On-demand services are not expected to run. Exit 0 when no host drifted, 1 when one did or could not be read.

--watch checks every --interval seconds until Ctrl-C and prints each change (drift that appears or goes away); with --notify each change is also sent to the inventory's alert receivers of kind webhook (JSON {text, host, kind, service, detail, resolved}) and ntfy (the text as the message), and where the platform runs its Alertmanager, each round's drift is posted to its API (POST /api/v2/alerts: alertname ConfigDrift with labels host, kind, service, severity, platform, drift_id) for its own receivers, email included: a drift is sent again each round and held four rounds after the last (a round: --interval plus the longest round so far, at least --timeout; so a stopped watch leaves none firing), a resolved one is ended at once; a host that cannot be read keeps the drift it had (unknown is not resolved). A receiver that does not answer is a warning on stderr; the watch goes on.

JSON report (--json): {kind: "ai-platform/drift", ok, checkedAt, hosts: [{host, release, drift: [{kind, service?, detail}], error?}]}; with --watch, one per round.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    watch: Flags.boolean({
      description: 'Check again every --interval seconds until Ctrl-C, printing each change.',
      default: false,
    }),
    interval: Flags.integer({
      description: 'Seconds between checks with --watch.',
      default: 60,
      min: 5,
      helpValue: 'SECONDS',
    }),
    notify: Flags.boolean({
      description:
        "With --watch: send each change to the inventory's webhook and ntfy alert receivers, and to the platform's Alertmanager.",
      default: false,
    }),
    ...timeoutFlag(),
    ...acceptNewFlag,
  }
  static override examples = ['<%= config.bin %> drift', '<%= config.bin %> drift @gpu --watch --interval 300 --notify']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Drift)
    const { openProject } = await import('../src/config/open.js')
    const { driftConnector, driftRound } = await import('../src/ops/drift.js')
    const { formatDrift } = await import('../src/ui/ops-text.js')
    const { project } = await openProject(flags.project, { connecting: 'drift' })
    const redact = await this.secretsMask(project)
    const options = { timeoutMs: flags.timeout * 1000, acceptNew: flags['accept-new'], redact }
    if (!flags.watch) {
      const report = await driftRound(project, argv as string[], options)
      if (!report.ok) process.exitCode = 1
      if (this.jsonEnabled()) return report
      for (const line of formatDrift(report)) this.log(line)
      return undefined
    }
    const { carryUnreadable, driftChanges, notifyChanges } = await import('../src/ops/drift-watch.js')
    const { readSecrets } = await import('../src/secrets/secrets.js')
    const secrets = flags.notify ? (await readSecrets(project)).values : new Map<string, string>()
    const signals = this.interruptible({
      steps: [{ called: 'stop watching', doing: null }],
      left: () => 'drift only reads: nothing is left on the hosts.',
      endsOnCtrlC: true,
    })
    const stopped = signals.after(1)
    // Alertmanager holds a drift four rounds after it was last sent: a round is the interval and the
    // longest round so far (reads and notices), at least a deadline
    let longest = flags.timeout * 1000
    const holdMs = () => 4 * (flags.interval * 1000 + longest)
    let previous: Awaited<ReturnType<typeof driftRound>> | null = null
    while (!stopped.aborted) {
      // one set of connections per round: its hosts', and Alertmanager's when its API is on its host's loopback
      const connections = driftConnector(project, options)
      try {
        const started = Date.now()
        const report = await driftRound(project, argv as string[], options, connections)
        const judged = carryUnreadable(previous, report)
        const changes = driftChanges(previous, judged)
        previous = judged
        if (this.jsonEnabled())
          process.stdout.write(
            `${jsonSafe(JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' ? redact(value) : value)))}\n`,
          )
        else for (const c of changes) this.log(`${report.checkedAt}  ${c.text}`)
        if (flags.notify) {
          const alertmanager = { current: driftChanges(null, judged), holdMs: holdMs(), connections }
          for (const warning of await notifyChanges(project, secrets, changes, redact, alertmanager))
            this.logToStderr(warning)
        }
        longest = Math.max(longest, Date.now() - started)
        process.exitCode = report.ok ? 0 : 1
      } finally {
        await connections.closeAll()
      }
      for (let waited = 0; waited < flags.interval * 10 && !stopped.aborted; waited++)
        await new Promise((r) => setTimeout(r, 100))
    }
    signals.dispose()
    return undefined
  }
}
