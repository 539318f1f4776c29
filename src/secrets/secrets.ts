// The secrets file: NAME=value lines in the project directory, mode 0600, never committed. The value is
// everything after `=` to the end of the line, exactly as written (spaces, quotes, `$`, `#`, `!`
// included); one pair of quotes around the whole value is dropped, so `P="a b "` keeps its spaces.
// Values go only into each host's .env (`NAME='value'`, 0600 on the host, read by the shell that starts
// compose); everywhere else they are names or ***.
import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError, UserError, type Issue } from '../errors.js'
import type { Project, SecretSpec } from '../config/model.js'
import type { Redact } from '../remote/executor.js'
import { singleQuoted } from '../remote/quote.js'

export const SECRETS_FILE = 'secrets.env'
/** Control characters (C0, DEL, C1): a value is one line of printable text. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const MIN_VALUE_LENGTH = 4
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

export function secretsPath(project: Pick<Project, 'dir'>): string {
  return join(project.dir, SECRETS_FILE)
}

export interface SecretsFile {
  path: string
  values: Map<string, string>
  exists: boolean
}

export function parseSecrets(text: string, display: string): { values: Map<string, string>; issues: Issue[] } {
  const values = new Map<string, string>()
  const issues: Issue[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '' || line.trimStart().startsWith('#')) return
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!match) {
      issues.push({
        file: display,
        line: index + 1,
        col: 1,
        path: '',
        message: 'not a NAME=value line',
        allowed: 'NAME=value or # comment',
        got: 'something else',
        severity: 'error',
      })
      return
    }
    const name = match[1]!
    let value = match[2]!
    if (
      value.length >= 2 &&
      ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"')))
    )
      value = value.slice(1, -1)
    const control = CONTROL.exec(value)
    if (control) {
      // Never echo the value itself: where the character is and which one.
      const code = control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')
      issues.push({
        file: display,
        line: index + 1,
        col: name.length + 2,
        path: name,
        message: `the value holds a control character (U+${code}) at character ${control.index + 1}`,
        allowed: 'any printable character, spaces included',
        got: `U+${code}`,
        severity: 'error',
      })
      return
    }
    if (value.length > 0 && value.length < MIN_VALUE_LENGTH) {
      // masking "42" wherever it stands would garble every message; such a value protects nothing anyway
      issues.push({
        file: display,
        line: index + 1,
        col: name.length + 2,
        path: name,
        message: 'the value is too short to be a secret, or to be masked in output',
        allowed: `at least ${MIN_VALUE_LENGTH} characters (or empty)`,
        got: `${value.length}`,
        severity: 'error',
      })
      return
    }
    if (values.has(name)) {
      issues.push({ file: display, line: index + 1, col: 1, path: name, message: 'defined twice', severity: 'error' })
      return
    }
    values.set(name, value)
  })
  return { values, issues }
}

/**
 * The secrets file's values. Like ssh with a private key, a file that others may read is refused
 * (`secrets init`, which makes it 0600, passes `openModeOk`).
 */
export async function readSecrets(
  project: Pick<Project, 'dir'>,
  options: { openModeOk?: boolean } = {},
): Promise<SecretsFile> {
  const path = secretsPath(project)
  let text: string
  try {
    const handle = await open(path, 'r')
    try {
      const mode = (await handle.stat()).mode & 0o777
      if (mode & 0o077 && !options.openModeOk) {
        throw new UserError(
          `${path} can be read by others (mode ${mode.toString(8).padStart(4, '0')}): secret values must be private to you`,
          `chmod 600 ${path} (and consider whether the values have been seen).`,
        )
      }
      text = await handle.readFile('utf8')
    } finally {
      await handle.close()
    }
  } catch (error) {
    if (error instanceof UserError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, values: new Map(), exists: false }
    throw new UserError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  const { values, issues } = parseSecrets(text, SECRETS_FILE)
  if (issues.length > 0) throw new ConfigError(issues)
  return { path, values, exists: true }
}

export function generateSecret(spec: Pick<SecretSpec, 'length' | 'prefix'>): string {
  // Rejection sampling keeps every character equally likely.
  let out = ''
  while (out.length < spec.length) {
    for (const byte of randomBytes(spec.length * 2)) {
      if (byte < 248 && out.length < spec.length) out += ALPHABET[byte % 62]
    }
  }
  return spec.prefix + out
}

export interface SecretsInitResult {
  path: string
  created: string[]
  kept: string[]
  /** Declared with generate: false and not optional: the user must supply them. */
  toSupply: string[]
}

/** Adds a strong random value for every declared secret that has none; never touches an existing value. */
export async function initSecrets(project: Pick<Project, 'dir' | 'platform'>): Promise<SecretsInitResult> {
  const current = await readSecrets(project, { openModeOk: true })
  const created: string[] = []
  const kept: string[] = []
  const toSupply: string[] = []
  const additions: string[] = []
  for (const spec of Object.values(project.platform.secrets).sort((a, b) => a.name.localeCompare(b.name))) {
    if (current.values.has(spec.name)) {
      kept.push(spec.name)
    } else if (spec.generate) {
      additions.push(`${spec.name}=${generateSecret(spec)}`)
      created.push(spec.name)
    } else if (!spec.optional) {
      toSupply.push(spec.name)
    }
  }
  if (additions.length > 0 || !current.exists) {
    const existing = current.exists
      ? await readFile(current.path, 'utf8')
      : '# ai-platform secrets: keep out of version control (mode 0600).\n'
    const text =
      existing + (existing.endsWith('\n') || existing === '' ? '' : '\n') + additions.map((l) => `${l}\n`).join('')
    await writeFileAtomic(current.path, text, 0o600)
  } else {
    await chmod(current.path, 0o600)
  }
  return { path: current.path, created, kept, toSupply }
}

/** Write to a temporary file in the same directory, fsync, then rename: readers see the old or the new file, never half. */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  const handle = await open(temp, 'wx', mode)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await chmod(temp, mode)
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
}

/** The .env a host gets: exactly the secrets its services use. */
export function envFileFor(
  secretNames: readonly string[],
  values: ReadonlyMap<string, string>,
  project: Pick<Project, 'platform'>,
  host: string,
): string {
  const missing = secretNames.filter((name) => !values.has(name) && !project.platform.secrets[name]?.optional)
  if (missing.length > 0) {
    throw new UserError(
      `host ${host} needs secrets that ${SECRETS_FILE} does not define: ${missing.join(', ')}`,
      `Run \`ai-platform secrets init\` to generate them${missing.some((m) => project.platform.secrets[m]?.generate === false) ? ', and add the ones marked generate: false by hand' : ''}.`,
    )
  }
  return secretNames.map((name) => `${name}=${singleQuoted(values.get(name) ?? '')}\n`).join('')
}

export async function fileMode(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mode & 0o777
  } catch {
    return null
  }
}

/** Replaces every secret value in text with *** (redactor() once, then the function for many texts). */
export function redact(text: string, values: Iterable<string>): string {
  return redactor(values)(text)
}

/**
 * A function masking every secret value in a text, in the forms it travels in: as written, URL-encoded
 * (a connection string), JSON-escaped, and base64 at each of its three alignments (basic auth, a
 * Kubernetes-style secret, a token), so `user:pass` inside a base64 blob is masked too. Longest first,
 * so a value containing another is masked whole. (parseSecrets refuses values under four characters:
 * masked wherever they stood, they would garble every message.)
 */
export function redactor(values: Iterable<string>): Redact {
  const forms = new Set<string>()
  for (const value of values) if (value !== '') for (const form of encodedForms(value)) forms.add(form)
  const sorted = [...forms].sort((a, b) => b.length - a.length)
  return (text: string) => {
    let out = text
    for (const form of sorted) if (out.includes(form)) out = out.split(form).join('***')
    return out
  }
}

function encodedForms(value: string): string[] {
  const forms = [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]
  if (value.length >= 4) {
    const bytes = Buffer.from(value, 'utf8')
    for (let offset = 0; offset < 3; offset++) {
      // base64 of the value at this offset in a longer text; drop the characters the neighbours change
      const b64 = Buffer.concat([Buffer.alloc(offset), bytes])
        .toString('base64')
        .replace(/=+$/, '')
      const start = Math.ceil((offset * 4) / 3)
      const end = Math.floor(((offset + bytes.length) * 4) / 3)
      const middle = b64.slice(start, end)
      if (middle.length >= 6) forms.push(middle, middle.replace(/\+/g, '-').replace(/\//g, '_'))
    }
  }
  return [...new Set(forms)]
}
