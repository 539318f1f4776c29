import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { targetArgs, timeoutFlag } from '../src/cli/target-flags.js'

export default class Audit extends BaseCommand {
  static override summary = "Deploy history: the local audit log, and with --remote each host's own release history."
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    remote: Flags.boolean({ description: "Read each host's history.jsonl over SSH instead of the local log.", default: false }),
    limit: Flags.integer({ description: 'Newest entries to show per host.', default: 20, min: 1 }),
    ...timeoutFlag(),
  }

  static override examples = ['<%= config.bin %> audit', '<%= config.bin %> audit erebus --remote']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Audit)
    const { openProject } = await import('../src/config/open.js')
    const { project } = await openProject(flags.project)
    const { resolveTargets } = await import('../src/plan/plan.js')
    const hosts = resolveTargets(project, { selectors: argv as string[] })
    let entries: Record<string, unknown>[]
    const errors: { host: string; error: string }[] = []
    if (flags.remote) {
      const { hostHistory } = await import('../src/ops/inspect.js')
      const read = await hostHistory(project, hosts, { timeoutMs: flags.timeout * 1000, limit: flags.limit, redact: await this.secretsMask(project) })
      entries = read.flatMap((h) => h.entries.slice(-flags.limit).map((e) => ({ ...e, host: h.host })))
      for (const h of read) if ('error' in h && h.error) errors.push({ host: h.host, error: h.error })
      if (errors.length > 0) process.exitCode = 1
    } else {
      const { readAudit, auditLogPath } = await import('../src/audit/audit.js')
      const all = (await readAudit()).filter((e) => hosts.includes(String(e.host)) && e.platform === project.platform.name)
      entries = hosts.flatMap((h) => all.filter((e) => e.host === h).slice(-flags.limit))
      if (!this.jsonEnabled() && entries.length === 0) this.log(`no entries in ${auditLogPath()}`)
    }
    if (this.jsonEnabled()) return { kind: 'ai-platform/audit', entries, ...(errors.length > 0 ? { errors } : {}) }
    for (const e of errors) this.logToStderr(`${e.host}: cannot read its history: ${e.error}`)
    for (const e of entries) this.log(`${String(e.time)}  ${String(e.host).padEnd(12)} ${String(e.status ?? e.event).padEnd(10)} ${String(e.release ?? '')}  ${String(e.user ?? '')}@${String(e.machine ?? '')}${e.error ? `  ${String(e.error)}` : ''}`)
    return undefined
  }
}
