import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, timeoutFlag } from '../src/cli/target-flags.js'

export default class Audit extends BaseCommand {
  static override summary = "Deploy history: the local audit log, and with --remote each host's own release history."
  static override description = `The local log is $XDG_STATE_HOME/ai-platform/audit.jsonl; --remote reads each host's own history.jsonl instead (its newest --limit lines).

With --remote, a host whose history cannot be read is listed in its place with the reason (and in the JSON's errors), the others are still shown, and the exit status is 1.

JSON report (--json): {kind: "ai-platform/audit", entries: [{host, time, ...}], errors?: [{host, error}]}.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    remote: Flags.boolean({
      description: "Read each host's history.jsonl over SSH instead of the local log.",
      default: false,
    }),
    limit: Flags.integer({ description: 'Newest entries to show per host.', default: 20, min: 1 }),
    ...timeoutFlag(),
    ...acceptNewFlag,
  }

  static override examples = ['<%= config.bin %> audit', '<%= config.bin %> audit erebus --remote']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Audit)
    const { openProject } = await import('../src/config/open.js')
    const { project } = await openProject(flags.project, flags.remote ? { connecting: 'audit --remote' } : {})
    const { resolveTargets } = await import('../src/plan/plan.js')
    const hosts = resolveTargets(project, { selectors: argv as string[] })
    const { formatAudit } = await import('../src/ui/ops-text.js')
    let read: { host: string; entries: Record<string, unknown>[]; error?: string }[]
    if (flags.remote) {
      const { hostHistory } = await import('../src/ops/inspect.js')
      const histories = await hostHistory(project, hosts, {
        timeoutMs: flags.timeout * 1000,
        limit: flags.limit,
        acceptNew: flags['accept-new'],
        redact: await this.secretsMask(project),
      })
      read = histories.map((h) => ({
        ...h,
        entries: h.entries.slice(-flags.limit).map((e) => ({ ...e, host: h.host })),
      }))
    } else {
      const { readAudit, auditLogPath } = await import('../src/audit/audit.js')
      const all = (await readAudit()).filter(
        (e) => hosts.includes(String(e.host)) && e.platform === project.platform.name,
      )
      read = hosts.map((h) => ({ host: h, entries: all.filter((e) => e.host === h).slice(-flags.limit) }))
      if (!this.jsonEnabled() && all.length === 0) this.log(`no entries in ${auditLogPath()}`)
    }
    const errors = read.flatMap((h) => (h.error !== undefined ? [{ host: h.host, error: h.error }] : []))
    if (errors.length > 0) process.exitCode = 1
    if (this.jsonEnabled())
      return {
        kind: 'ai-platform/audit',
        entries: read.flatMap((h) => h.entries),
        ...(errors.length > 0 ? { errors } : {}),
      }
    for (const line of formatAudit(read)) this.log(line)
    return undefined
  }
}
