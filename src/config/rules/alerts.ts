// Alertmanager receivers (platform.alerts.receivers): each is exactly one kind (webhook, ntfy, email)
// under a name of its own, and every secret it names is declared and reaches a service's environment
// (the reference's Alertmanager writes its environment into files that alertmanager.yml points at:
// a secret no service is given would be an empty file, and the receiver would fail when it fires).
import type { ConfigIssue } from '../issues.js'
import type { Platform, Service } from '../model.js'
import { configIssueAt, type SourceFile } from '../source.js'
import { passedInEnvironment } from './models.js'

const KINDS = ['webhook', 'ntfy', 'email'] as const
const RESERVED = 'none'

export function alertRules(
  platform: Platform,
  services: Readonly<Record<string, Service>>,
  source: SourceFile,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
  const declared = Object.keys(platform.secrets).sort()
  platform.alertReceivers.forEach((receiver, index) => {
    const path = ['platform', 'alerts', 'receivers', index]
    if (seen.has(receiver.name) || receiver.name === RESERVED)
      issues.push(
        configIssueAt(
          'alert-receiver',
          source,
          [...path, 'name'],
          receiver.name === RESERVED
            ? `"${RESERVED}" is the receiver of alerts no route sends anywhere (templates/alertmanager)`
            : 'a second receiver with this name',
          { allowed: 'a name of its own', got: JSON.stringify(receiver.name) },
        ),
      )
    seen.add(receiver.name)
    const kinds = KINDS.filter((k) => receiver[k] !== undefined)
    if (kinds.length !== 1)
      issues.push(
        configIssueAt(
          'alert-receiver',
          source,
          path,
          kinds.length === 0 ? 'says nowhere to send alerts' : 'is more than one receiver',
          {
            allowed: 'exactly one of webhook, ntfy, email (list another receiver for another destination)',
            got: kinds.length === 0 ? 'none' : kinds.join(' and '),
          },
        ),
      )
    const secrets: [string, string, string | undefined][] = [
      ['webhook', 'bearer_secret', receiver.webhook?.bearerSecret],
      ['ntfy', 'token_secret', receiver.ntfy?.tokenSecret],
      ['email', 'password_secret', receiver.email?.passwordSecret],
    ]
    for (const [kind, key, name] of secrets) {
      if (name === undefined) continue
      const at = [...path, kind, key]
      if (!platform.secrets[name])
        issues.push(
          configIssueAt('alert-secret', source, at, 'not a declared secret', {
            allowed: `a name under platform.secrets (${declared.join(', ') || 'none declared'})`,
            got: JSON.stringify(name),
          }),
        )
      else if (!passedInEnvironment(services, name))
        issues.push(
          configIssueAt(
            'alert-secret',
            source,
            at,
            `no placed service passes ${name} in its environment: Alertmanager reads it from /run/secrets/${name}, written from its environment at start`,
            { allowed: `${name}: \${${name}} in the Alertmanager service's environment` },
          ),
        )
    }
  })
  return issues
}
