import { BaseCommand } from '../src/cli/base-command.js'
import { acceptNewFlag, targetArgs, timeoutFlag } from '../src/cli/target-flags.js'

export default class Preflight extends BaseCommand {
  static override summary =
    "The deploy's preflight on its own: SSH, Docker, Compose v2/v1, base directory, disk, NAS mounts, GPU driver."
  static override enableJsonFlag = true
  static override strict = false
  static override args = targetArgs
  static override flags = { ...timeoutFlag(), ...acceptNewFlag }
  static override examples = ['<%= config.bin %> preflight all', '<%= config.bin %> preflight @ollama --json']

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(Preflight)
    const { openProject } = await import('../src/config/open.js')
    const { preflight } = await import('../src/ops/inspect.js')
    const { project } = await openProject(flags.project, { connecting: 'preflight' })
    const redact = await this.secretsMask(project)
    const report = await preflight(project, argv as string[], {
      acceptNew: flags['accept-new'],
      timeoutMs: flags.timeout * 1000,
      redact,
    })
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    for (const host of report.hosts) {
      this.log(`${host.host}: ${host.ok ? 'ready' : 'NOT READY'}`)
      for (const check of host.checks)
        this.log(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name.padEnd(16)} ${check.detail}`)
    }
    return undefined
  }
}
