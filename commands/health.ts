import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, GLOBAL, targetArgs } from '../src/cli/target-flags.js'
import { jsonSafe, terminalSafe } from '../src/util/printable.js'

export default class Health extends BaseCommand {
  static override summary =
    'Check the whole fleet: containers, HTTP/TCP endpoints, GPUs and Ollama models, in parallel.'
  static override description = `Per host: the container of every service (running, Docker health), each service's declared checks (HTTP status and body, TCP, a command), the GPU driver (nvidia-smi / rocm-smi: GPUs seen, memory), and each Ollama node's API with the models the inventory places on it. Ports bound to a host's loopback are reached through its SSH connection. An on-demand service that is not running is shown as stopped (on demand), status stopped: by design, not a failure; one that runs is checked like any other. Exit 0 only if every required check passes; an unreachable host is reported, never a crash. With --watch --json, one JSON document per round.

JSON report (--json): {kind: "ai-platform/health", ok, platform, checkedAt, durationMs, summary: {hosts, unreachable, checks, ok, failed, optionalFailed, stopped}, hosts: [{host, reachable, error?, latencyMs, checks: [{host, service, check, status: ok|fail|warn|stopped, required, latencyMs, detail}]}]}.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    timeout: Flags.integer({
      description: 'Seconds each connection and check may take.',
      default: 5,
      min: 1,
      helpValue: 'SECONDS',
      helpGroup: GLOBAL,
    }),
    watch: Flags.boolean({
      description:
        "Check again every --interval seconds until Ctrl-C (exit status: the last round's; after SIGTERM 143).",
      default: false,
    }),
    interval: Flags.integer({
      description: 'Seconds between checks with --watch.',
      default: 5,
      min: 1,
      helpValue: 'SECONDS',
    }),
    ...acceptNewFlag,
  }

  static override examples = [
    '<%= config.bin %> health all',
    '<%= config.bin %> health @ollama --json',
    '<%= config.bin %> health erebus --watch',
  ]

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Health)
    const { openProject } = await import('../src/config/open.js')
    const { checkHealth } = await import('../src/health/service.js')
    const { formatHealth } = await import('../src/ui/health-table.js')
    const { project } = await openProject(flags.project, { connecting: 'health' })
    const redact = await this.secretsMask(project)
    const options = {
      selectors: argv as string[],
      timeoutMs: flags.timeout * 1000,
      acceptNew: flags['accept-new'],
      redact,
    }
    if (!flags.watch) {
      const report = await checkHealth(project, options)
      if (!report.ok) process.exitCode = 1
      if (this.jsonEnabled()) return report
      this.logStyled(formatHealth(report))
      return undefined
    }
    // Ctrl-C ends the watch after the round in progress, with that round's status; SIGTERM with 143.
    const signals = this.interruptible({
      steps: [{ called: 'stop watching', doing: null }],
      left: () => 'health only reads: nothing is left on the hosts.',
      endsOnCtrlC: true,
    })
    const stopped = signals.after(1)
    while (!stopped.aborted) {
      const report = await checkHealth(project, options)
      // --json: one document per round (NDJSON); otherwise the screen is cleared and drawn again
      if (this.jsonEnabled())
        process.stdout.write(
          `${jsonSafe(JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' ? redact(value) : value)))}\n`,
        )
      else
        process.stdout.write(
          `\x1b[2J\x1b[H${terminalSafe(redact(`${new Date().toLocaleTimeString()}  (every ${flags.interval} s, Ctrl-C to stop)\n\n${formatHealth(report)}`))}\n`,
        )
      process.exitCode = report.ok ? 0 : 1
      for (let waited = 0; waited < flags.interval * 10 && !stopped.aborted; waited++)
        await new Promise((r) => setTimeout(r, 100))
    }
    signals.dispose()
    return undefined
  }
}
