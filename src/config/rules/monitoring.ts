// Monitoring's secrets: Alertmanager receivers (platform.alerts.receivers) and authenticated scrapes
// (x-ai-platform.metrics.bearer_secret). Alertmanager and Prometheus read secrets only from files, so the
// reference's containers write their environment into /run/secrets/NAME at start (stacks/monitoring.yaml):
// every secret named here must be declared and reach a placed service's environment, or it would be an
// empty file and the receiver or scrape would fail at run time instead of at `validate`.
// Receivers are also exactly one kind (webhook, ntfy, email) under a name of their own.
import type { ConfigIssue } from '../issues.js'
import type { Platform, Service, Stack } from '../model.js'
import { originOf, type Origins } from '../origins.js'
import { configIssueAt, type PathSegment, type SourceFile } from '../source.js'
import { passedInEnvironment } from './models.js'

const KINDS = ['webhook', 'ntfy', 'email'] as const
const RESERVED = 'none'

export function alertRules(
  platform: Platform,
  services: Readonly<Record<string, Service>>,
  source: SourceFile,
  files: ReaderFiles,
): ConfigIssue[] {
  const readers = readersOf('alerts.receivers', files, services)
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
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
    for (const [kind, key, name] of secrets)
      if (name !== undefined)
        issues.push(
          ...secretFileIssues(platform, services, readers, name, source, [...path, kind, key], 'Alertmanager'),
        )
  })
  return issues
}

/** Each scrape's bearer secret is declared and given to a service (Prometheus). */
export function metricsSecretRules(
  platform: Platform,
  services: Readonly<Record<string, Service>>,
  origins: Origins,
  files: ReaderFiles,
): ConfigIssue[] {
  const readers = readersOf('prometheus.jobs', files, services)
  return Object.values(services).flatMap((service) => {
    const name = service.metrics?.bearerSecret
    if (name === undefined || service.hosts.length === 0) return []
    const { source, path } = originOf(origins, 'service', service.name)
    return secretFileIssues(
      platform,
      services,
      readers,
      name,
      source,
      [...path, 'x-ai-platform', 'metrics', 'bearer_secret'],
      'Prometheus',
    )
  })
}

/** The stacks' rendered files and the templates they come from, to find which services read a secret file. */
export interface ReaderFiles {
  stacks: readonly Stack[]
  templates: Readonly<Record<string, string>>
}

/**
 * The services that mount a file rendered from a template naming `marker` (alertmanager.yml names
 * `alerts.receivers`, prometheus.yml `prometheus.jobs`): the ones whose environment must carry the secret.
 */
function readersOf(marker: string, files: ReaderFiles, services: Readonly<Record<string, Service>>): Service[] {
  const readers = new Set<Service>()
  for (const stack of files.stacks)
    for (const file of stack.files) {
      if (!files.templates[file.template]?.includes(marker)) continue
      const mount = `{{file '${file.path}'}}`
      for (const name of stack.services) {
        const service = services[name]
        if (service && service.hosts.length > 0 && JSON.stringify(service.compose.volumes ?? []).includes(mount))
          readers.add(service)
      }
    }
  return [...readers]
}

function secretFileIssues(
  platform: Platform,
  services: Readonly<Record<string, Service>>,
  readers: readonly Service[],
  name: string,
  source: SourceFile,
  at: PathSegment[],
  reader: string,
): ConfigIssue[] {
  if (!platform.secrets[name])
    return [
      configIssueAt('secret-file', source, at, 'not a declared secret', {
        allowed: `a name under platform.secrets (${Object.keys(platform.secrets).sort().join(', ') || 'none declared'})`,
        got: JSON.stringify(name),
      }),
    ]
  // The services that read the file must each be given it; with none placed, some service at least.
  if (readers.length > 0) {
    const without = readers.filter((r) => !passedInEnvironment({ [r.name]: r }, name)).map((r) => r.name)
    if (without.length > 0)
      return [
        configIssueAt(
          'secret-file',
          source,
          at,
          `${without.join(', ')} read${without.length === 1 ? 's' : ''} it from /run/secrets/${name}, written from ${without.length === 1 ? 'its' : 'their'} environment at start, but ${without.length === 1 ? 'its' : 'their'} environment does not pass ${name}`,
          { allowed: `${name}: \${${name}} in the environment of ${without.join(', ')}` },
        ),
      ]
    return []
  }
  if (!passedInEnvironment(services, name))
    return [
      configIssueAt(
        'secret-file',
        source,
        at,
        `no placed service passes ${name} in its environment: ${reader} reads it from /run/secrets/${name}, written from its environment at start`,
        { allowed: `${name}: \${${name}} in the ${reader} service's environment` },
      ),
    ]
  return []
}
