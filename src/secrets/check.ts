// secrets.env as `validate` sees it: every refusal deploy would meet, as located issues, found with
// the functions deploy calls (parseSecrets, envFileFor) and readSecrets' rule for the file's mode.
// Values are never part of an issue.
import { readFile } from 'node:fs/promises'
import { UserError, type Issue } from '../errors.js'
import type { Project } from '../config/model.js'
import type { HostRender } from '../render/render.js'
import { loginFor } from '../remote/registry-auth.js'
import { SECRETS_FILE, envFileFor, fileMode, parseSecrets, secretsPath } from './secrets.js'

export interface SecretsCheck {
  /** False when there is no secrets.env: nothing was checked (deploy refuses to start without one once a host needs a secret). */
  found: boolean
  issues: Issue[]
}

/**
 * Checks the secrets file of the platform in `dir`: its lines, its mode, and, given the hosts'
 * renders, a value for every secret a host needs.
 */
export async function checkSecrets(
  dir: string,
  hosts: { project: Pick<Project, 'platform'>; renders: readonly HostRender[] } | null,
): Promise<SecretsCheck> {
  const path = secretsPath({ dir })
  const mode = await fileMode(path)
  if (mode === null) return { found: false, issues: [] }
  const at = { file: SECRETS_FILE, line: 1, col: 1, path: '', severity: 'error' as const }
  const issues: Issue[] = []
  if (mode & 0o077) {
    issues.push({
      ...at,
      message: 'can be read by others: secret values must be private to you',
      allowed: `mode 0600, as \`chmod 600 ${SECRETS_FILE}\` sets it`,
      got: `mode ${mode.toString(8).padStart(4, '0')}`,
    })
  }
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    issues.push({ ...at, message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` })
    return { found: true, issues }
  }
  const parsed = parseSecrets(text, SECRETS_FILE)
  issues.push(...parsed.issues)
  if (!hosts) return { found: true, issues }
  // A name whose line was refused is reported there, not again as missing.
  const known = new Map(parsed.values)
  for (const issue of parsed.issues) if (issue.path !== '' && !known.has(issue.path)) known.set(issue.path, '')
  for (const render of hosts.renders) {
    try {
      envFileFor(render.secrets, known, hosts.project, render.host)
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      const hint = error.hint ? `; ${error.hint.charAt(0).toLowerCase()}${error.hint.slice(1).replace(/\.$/, '')}` : ''
      issues.push({ ...at, message: error.message, allowed: `a NAME=value line for each${hint}` })
    }
  }
  try {
    loginFor(
      hosts.project.platform,
      known,
      hosts.renders.flatMap((r) => r.services.map((s) => s.image)),
    )
  } catch (error) {
    if (!(error instanceof UserError)) throw error
    issues.push({ ...at, message: error.message, allowed: 'a NAME=value line for the registry password' })
  }
  return { found: true, issues }
}
