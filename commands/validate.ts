import { BaseCommand } from '../src/cli/base-command.js'

export default class Validate extends BaseCommand {
  static override summary = 'Check the inventory, stacks, templates and secrets.env, and render every host in memory.'
  static override description = `Runs every check deploy makes before it connects to a host: the files, image references, every host's render, and secrets.env when there is one (its lines, its mode, a value for every secret a host needs; values are never printed). Without secrets.env (as in CI) its values are not checked. Reports every problem at once as file:line:col path: message (allowed ..., got ...). Exit status 0 when valid, 1 when any error is found. Opens no network connection.`
  static override enableJsonFlag = true
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate --project ./my-platform --json']

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Validate)
    const { validateProject } = await import('../src/validate/validate.js')
    const { formatIssue } = await import('../src/errors.js')
    const report = await validateProject(flags.project)
    if (!report.valid) process.exitCode = 1
    if (this.jsonEnabled()) return report
    for (const issue of report.issues) this.logToStderr(formatIssue(issue))
    const s = report.summary
    const counts = `${s.hosts} hosts, ${s.stacks} stacks, ${s.services} services, ${s.templates} templates, ${s.models} models`
    const unchecked = s.secrets.file === 'absent' && s.secrets.needed ? ', secrets.env absent (not checked)' : ''
    if (report.valid)
      this.log(`valid: ${report.project}: ${counts}${s.warnings > 0 ? `, ${s.warnings} warning(s)` : ''}${unchecked}`)
    else
      process.stderr.write(
        `invalid: ${s.errors} error(s)${s.warnings > 0 ? `, ${s.warnings} warning(s)` : ''} in ${report.project}\n`,
      )
    return undefined
  }
}
