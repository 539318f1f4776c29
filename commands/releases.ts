import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, timeoutFlag } from '../src/cli/target-flags.js'

export default class Releases extends BaseCommand {
  static override summary =
    'Fleet releases: the platform as each deploy that changed it left it, one id for all its hosts.'
  static override description = `A deploy that changes a host records a fleet release: its id, when, who, the command, a digest of the rendered inputs, and the release each host of the run then runs (a failed host: the one it was rolled back to). It is kept on this machine ($XDG_STATE_HOME/ai-platform/fleet-releases.jsonl) and on every host of the run (BASE/fleet-releases.jsonl); --remote reads the hosts' records too, so another workstation sees the same history.

With --remote, a host whose record cannot be read is reported (and in the JSON's errors), the others are still shown, and the exit status is 1. Lines that are not a fleet release are skipped and counted (rejected).

JSON report (--json): {kind: "ai-platform/releases", releases: [{id, time, user, machine, command, platform, digest, hosts: [{host, release, status}]}], rejected, errors?: [{host, error}]}, oldest first.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = {
    remote: Flags.boolean({
      description: "Also read each host's fleet-releases.jsonl over SSH (targets: which hosts).",
      default: false,
    }),
    limit: Flags.integer({ description: 'Newest fleet releases to show.', default: 20, min: 1 }),
    ...timeoutFlag(),
    ...acceptNewFlag,
  }
  static override examples = ['<%= config.bin %> releases', '<%= config.bin %> releases --remote --json']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Releases)
    const { openProject } = await import('../src/config/open.js')
    const { project } = await openProject(flags.project, flags.remote ? { connecting: 'releases --remote' } : {})
    const { readLocalFleetReleases, mergeFleetReleases } = await import('../src/deploy/fleet-release.js')
    const local = await readLocalFleetReleases()
    const lists = [local.releases.filter((r) => r.platform === project.platform.name)]
    let rejected = local.rejected
    const errors: { host: string; error: string }[] = []
    if (flags.remote) {
      const { hostFleetReleases } = await import('../src/ops/inspect.js')
      for (const read of await hostFleetReleases(project, argv as string[], {
        timeoutMs: flags.timeout * 1000,
        limit: flags.limit,
        acceptNew: flags['accept-new'],
        redact: await this.secretsMask(project),
      })) {
        lists.push(read.releases.filter((r) => r.platform === project.platform.name))
        rejected += read.rejected
        if (read.error !== undefined) errors.push({ host: read.host, error: read.error })
      }
    }
    const releases = mergeFleetReleases(lists).slice(-flags.limit)
    if (errors.length > 0) process.exitCode = 1
    if (this.jsonEnabled())
      return { kind: 'ai-platform/releases', releases, rejected, ...(errors.length > 0 ? { errors } : {}) }
    const { formatFleetReleases } = await import('../src/ui/ops-text.js')
    for (const line of formatFleetReleases(releases, errors, rejected)) this.log(line)
    return undefined
  }
}
