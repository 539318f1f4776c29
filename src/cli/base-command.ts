// The one place that turns errors into output and exit codes: user and remote errors print a message
// (and a hint) without a stack and exit 1; anything else is a bug and shows its stack; a run a signal
// interrupted ends with 130 or 143.
import { Command, Flags } from '@oclif/core'
import { ConfigError, RemoteError, UserError, formatIssue } from '../errors.js'
import { interrupts, type Interruptible, type Interrupts } from './interrupts.js'
import { confirmChanges, type ConfirmChange } from './confirm.js'
import { jsonSafe, printable, terminalSafe } from '../util/printable.js'
import type { Redact } from '../remote/executor.js'
import { honourNoColor } from '../ui/colour.js'
import { GLOBAL } from './target-flags.js'

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    project: Flags.string({
      description:
        'Platform directory holding inventory/, stacks/ and templates/ (default: $AIP_PROJECT, else the current directory when it has inventory/; else validate, plan, render and deploy --dry-run use the bundled reference platform, and commands that connect to hosts refuse).',
      helpValue: 'DIR',
      helpGroup: GLOBAL,
    }),
    verbose: Flags.boolean({
      char: 'v',
      description: 'Trace every command run on a host (to stderr; secret values masked).',
      default: false,
      helpGroup: GLOBAL,
    }),
  }

  protected override async init(): Promise<void> {
    await super.init()
    // Every command's output goes through here first (src/ui/colour.ts).
    honourNoColor()
    // Any command may reach hosts: the trace switch is read where commands run (src/remote/trace.ts).
    // Only before a `--`: what follows is a remote command's own argv (exec).
    const own = this.argv.includes('--') ? this.argv.slice(0, this.argv.indexOf('--')) : this.argv
    if (own.includes('--verbose') || own.includes('-v')) process.env.AIP_DEBUG = '1'
  }

  /** The signal escalations this run installed (interruptible()): they decide its exit status at the end. */
  private readonly escalations: Interrupts[] = []

  /**
   * Ctrl-C and SIGTERM for this run, as src/cli/interrupts.ts escalates them. A run that saw one ends
   * with 130 (SIGINT) or 143 (SIGTERM) whatever its outcome, unless Ctrl-C is how the command ends.
   * An arrow function: services receive it to install their own steps.
   */
  protected interruptible: Interruptible = (spec) => {
    const escalation = interrupts(spec)
    this.escalations.push(escalation)
    return escalation
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    for (const escalation of this.escalations) {
      escalation.dispose()
      const status = escalation.status()
      if (status !== null) process.exitCode = status
    }
    return super.finally(error)
  }

  /**
   * For a service that changes hosts: asks before it changes more than one (src/cli/confirm.ts), unless
   * --yes; without a terminal, refuses, naming this command.
   */
  protected confirmChanges(yes: boolean): ConfirmChange {
    return confirmChanges((this.id ?? this.config.bin).replaceAll(':', ' '), yes)
  }

  /** Masks secret values in everything this command prints (set by secretsMask()). */
  protected mask: Redact = (text) => text

  /**
   * For a command that reaches hosts: reads secrets.env (when there is one), so that no secret value a
   * host echoes back is printed, and returns the mask for the service's own messages and traces.
   */
  protected async secretsMask(project: { dir: string }): Promise<Redact> {
    const { readSecrets, redactor } = await import('../secrets/secrets.js')
    const mask = redactor((await readSecrets(project)).values.values())
    this.mask = mask
    return mask
  }

  /**
   * Every line a command prints may carry what a host sent (errors, names, listings): secret values
   * are masked, and every control sequence and bidi character is escaped (util/printable.ts).
   */
  override log(message = '', ...args: unknown[]): void {
    super.log(typeof message === 'string' ? printable(this.mask(message)) : message, ...args)
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(typeof message === 'string' ? printable(this.mask(message)) : message, ...args)
  }

  /**
   * For text from ai-platform's formatters (src/ui/), which escape what hosts sent themselves and add
   * colours of their own: only those colour (SGR) sequences are kept.
   */
  protected logStyled(text: string): void {
    super.log(terminalSafe(this.mask(text)))
  }

  /** One JSON document, secret values masked in its strings; C1 and bidi characters written as \u escapes. */
  override logJson(json: unknown): void {
    process.stdout.write(
      `${jsonSafe(JSON.stringify(json, (_key, value: unknown) => (typeof value === 'string' ? this.mask(value) : value), 2))}\n`,
    )
  }

  // oclif awaits catch(); an async method keeps every throw below a rejection, as oclif expects
  // eslint-disable-next-line @typescript-eslint/require-await
  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error.oclif !== undefined) {
      // oclif's own parse errors print themselves; a wrong flag or argument is a user mistake (exit 1)
      if (error.oclif.exit === 2 && error.constructor.name !== 'ExitError') error.oclif.exit = 1
      throw error
    }
    const json = this.jsonEnabled()
    if (error instanceof UserError || error instanceof RemoteError) {
      process.exitCode = 1
      if (json) {
        const body: Record<string, unknown> = { message: error.message }
        if (error instanceof ConfigError) body.issues = error.issues
        if (error instanceof UserError && error.hint) body.hint = error.hint
        if (error instanceof RemoteError) Object.assign(body, { host: error.host, exitCode: error.exitCode })
        this.logJson({ error: body })
        return undefined
      }
      if (error instanceof ConfigError) {
        for (const issue of error.issues) process.stderr.write(`${printable(formatIssue(issue))}\n`)
        const count = error.issues.filter((i) => i.severity === 'error').length
        process.stderr.write(`${count} error${count === 1 ? '' : 's'}\n`)
      } else {
        process.stderr.write(`error: ${printable(this.mask(error.message))}\n`)
      }
      if (error instanceof UserError && error.hint) process.stderr.write(`hint: ${printable(this.mask(error.hint))}\n`)
      return undefined
    }
    process.exitCode = 2
    process.stderr.write(
      `ai-platform hit a bug: ${printable(this.mask(error.stack ?? String(error)))}\nPlease report it with the command you ran.\n`,
    )
    return undefined
  }
}
