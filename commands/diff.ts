import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, targetArgs } from '../src/cli/target-flags.js'

export default class Diff extends BaseCommand {
  static override summary =
    'What a deploy would change: the rendered files against those of the release each host runs, as unified diffs.'
  static override description = `Reads each host's current release (compose.yaml, config files, the .env digest) in two round trips and compares it with what would be rendered now. Secret values never appear: a changed .env is reported as changed, without its content.

Exit status, as diff(1) and \`git diff --exit-code\`: 0 when every host runs what would be rendered (a deploy would change nothing), 1 when a host differs or cannot be read (it cannot be shown to be up to date; the others are still compared and shown). A broken project is also 1, with its errors.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = acceptNewFlag
  static override examples = ['<%= config.bin %> diff erebus', '<%= config.bin %> diff all --json']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Diff)
    const { openProject } = await import('../src/config/open.js')
    const { diffHosts } = await import('../src/ops/diff.js')
    const open = await openProject(flags.project, { connecting: 'diff' })
    const report = await diffHosts(open, argv as string[], {
      acceptNew: flags['accept-new'],
      redact: await this.secretsMask(open.project),
    })
    if (report.hosts.some((h) => !h.reachable || !h.same)) process.exitCode = 1
    if (this.jsonEnabled()) return report
    const { unreadReason } = await import('../src/ui/ops-text.js')
    for (const host of report.hosts) {
      if (!host.reachable) {
        this.log(`${host.host}: unreachable: ${unreadReason(host.host, host.error ?? 'no answer')}`)
        continue
      }
      const env = host.env === 'changed' ? '; .env changed (values not shown)' : ''
      if (host.same) this.log(`${host.host}: up to date (${host.current})`)
      else
        this.log(
          `${host.host}: ${host.current ? `${host.changes.length} file(s) differ from ${host.current}` : 'no release yet'}${env}`,
        )
      for (const change of host.changes) this.log(change.diff.replace(/^=+\n/, '').trimEnd())
    }
    return undefined
  }
}
