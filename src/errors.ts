// A small error taxonomy: user errors (a hint, no stack), remote errors (host, argv, exit code, stderr tail),
// anything else a bug (with its stack). Only bin/ and the oclif base command (src/cli/base-command.ts) turn
// these into exit codes.

/** One located problem in the user's files: `file:line:col path: message (allowed ..., got ...)`. */
export interface Issue {
  file: string
  line: number
  col: number
  /** Dotted path inside the document, e.g. `hosts.hades.gpu.vendor`. Empty for the whole file. */
  path: string
  message: string
  allowed?: string
  got?: string
  severity: 'error' | 'warning'
}

export function formatIssue(issue: Issue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}`
  const detail: string[] = []
  if (issue.allowed !== undefined) detail.push(`allowed ${issue.allowed}`)
  if (issue.got !== undefined) detail.push(`got ${issue.got}`)
  const suffix = detail.length > 0 ? ` (${detail.join(', ')})` : ''
  const path = issue.path === '' ? '' : `${issue.path}: `
  const prefix = issue.severity === 'warning' ? 'warning: ' : ''
  return `${where} ${prefix}${path}${issue.message}${suffix}`
}

/** A mistake the user can fix: printed without a stack, exit 1. */
export class UserError extends Error {
  readonly hint: string | undefined
  constructor(message: string, hint?: string) {
    super(message)
    this.name = 'UserError'
    this.hint = hint
  }
}

/** Every problem found in the platform's files, reported together. */
export class ConfigError extends UserError {
  readonly issues: readonly Issue[]
  constructor(issues: readonly Issue[]) {
    const errors = issues.filter((i) => i.severity === 'error')
    super(
      `${errors.length} error${errors.length === 1 ? '' : 's'} in the platform's files:\n${issues.map(formatIssue).join('\n')}`,
    )
    this.name = 'ConfigError'
    this.issues = issues
  }
}

export interface RemoteErrorOptions {
  host: string
  /** What ran on the host, when a command did. */
  argv?: readonly string[]
  /** How it ended; null (the default) when it ended without a status: a time-out, a signal, a lost connection. */
  exitCode?: number | null
  /** What it printed; the error keeps the last 12 lines. */
  stderr?: string
  /** Default: `HOST: \`ARGV\` exited with CODE:` and the stderr tail. */
  message?: string
}

/** A command on a host failed: says which host, what ran, how it ended. */
export class RemoteError extends Error {
  readonly host: string
  readonly argv: readonly string[]
  readonly exitCode: number | null
  readonly stderrTail: string
  constructor({ host, argv = [], exitCode = null, stderr = '', message }: RemoteErrorOptions) {
    const tail = tailLines(stderr, 12)
    super(message ?? `${host}: \`${argv.join(' ')}\` exited with ${exitCode ?? 'a signal'}${tail ? `:\n${tail}` : ''}`)
    this.name = 'RemoteError'
    this.host = host
    this.argv = argv
    this.exitCode = exitCode
    this.stderrTail = tail
  }
}

function tailLines(text: string, count: number): string {
  const lines = text.trimEnd().split('\n')
  return lines.slice(-count).join('\n')
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
