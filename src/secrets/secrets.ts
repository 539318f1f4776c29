// The secrets file: dotenv lines NAME=value in the project directory, mode 0600, never committed.
// Values go only into each host's .env (0600 on the host); everywhere else they are names or ***.
import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError, UserError, type Issue } from '../errors.js'
import type { Project, SecretSpec } from '../config/model.js'

export const SECRETS_FILE = 'secrets.env'
/** Characters a value may hold: Compose v1 and v2 read .env files differently once quotes, `$` or spaces appear. */
const SAFE_VALUE = /^[A-Za-z0-9._~+/=@:,%^-]*$/
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
      issues.push({ file: display, line: index + 1, col: 1, path: '', message: 'not a NAME=value line', allowed: 'NAME=value or # comment', got: 'something else', severity: 'error' })
      return
    }
    const name = match[1]!
    let value = match[2]!
    if (value.length >= 2 && ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"')))) value = value.slice(1, -1)
    if (!SAFE_VALUE.test(value)) {
      // Never echo the value itself.
      issues.push({ file: display, line: index + 1, col: name.length + 2, path: name, message: 'the value has characters .env files cannot carry safely', allowed: 'letters, digits and . _ ~ + / = @ : , % ^ -', got: 'quotes, spaces, $, # or other characters', severity: 'error' })
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

export async function readSecrets(project: Pick<Project, 'dir'>): Promise<SecretsFile> {
  const path = secretsPath(project)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
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
  const current = await readSecrets(project)
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
    const existing = current.exists ? await readFile(current.path, 'utf8') : '# ai-platform secrets: keep out of version control (mode 0600).\n'
    const text = existing + (existing.endsWith('\n') || existing === '' ? '' : '\n') + additions.map((l) => `${l}\n`).join('')
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
export function envFileFor(secretNames: readonly string[], values: ReadonlyMap<string, string>, project: Pick<Project, 'platform'>, host: string): string {
  const missing = secretNames.filter((name) => !values.has(name) && !project.platform.secrets[name]?.optional)
  if (missing.length > 0) {
    throw new UserError(
      `host ${host} needs secrets that ${SECRETS_FILE} does not define: ${missing.join(', ')}`,
      `Run \`ai-platform secrets init\` to generate them${missing.some((m) => project.platform.secrets[m]?.generate === false) ? ', and add the ones marked generate: false by hand' : ''}.`,
    )
  }
  return secretNames.map((name) => `${name}=${values.get(name) ?? ''}\n`).join('')
}

export async function fileMode(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mode & 0o777
  } catch {
    return null
  }
}

/** Replaces every secret value in text with ***, longest first so a value containing another is masked whole. */
export function redact(text: string, values: Iterable<string>): string {
  const sorted = [...values].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length)
  let out = text
  for (const value of sorted) out = out.split(value).join('***')
  return out
}
