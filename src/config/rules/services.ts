// Rules on each service against the rest of the fleet: what it requires, where its overrides apply,
// and whether its hosts have the GPUs it asks for.
import type { ConfigIssue } from '../issues.js'
import type { Host, Service } from '../model.js'
import type { Origin } from '../origins.js'
import { selectHosts } from '../select.js'
import { configIssueAt } from '../source.js'
import { selectionRules } from './selection.js'

export function requiresRules(
  service: Service,
  services: Readonly<Record<string, Service>>,
  { source, path }: Origin,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  service.requires.forEach((required, index) => {
    const at = [...path, 'x-ai-platform', 'requires', index]
    const target = services[required]
    if (!target) {
      issues.push(
        configIssueAt('unknown-service', source, at, 'requires an unknown service', {
          allowed: Object.keys(services).sort().join(', '),
          got: JSON.stringify(required),
        }),
      )
    } else if (required === service.name) {
      issues.push(
        configIssueAt('requires-itself', source, at, 'a service cannot require itself', {
          got: JSON.stringify(required),
        }),
      )
    } else if (service.hosts.length > 0 && target.hosts.length === 0) {
      issues.push(
        configIssueAt('requires-unplaced', source, at, `requires "${required}", which is placed on no host`, {
          got: JSON.stringify(required),
        }),
      )
    }
  })
  return issues
}

export function overrideRules(
  service: Service,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
  { source, path }: Origin,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  service.overrides.forEach((override, index) => {
    const at = [...path, 'x-ai-platform', 'overrides', index]
    issues.push(...selectionRules(source, [...at, 'on'], override.on, selectHosts(override.on, hosts, order), order))
    if ('x-ai-platform' in override.set) {
      issues.push(
        configIssueAt('override-meta', source, [...at, 'set', 'x-ai-platform'], 'overrides set Compose keys only', {
          key: true,
        }),
      )
    }
  })
  return issues
}

/** GPU needs against each host's hardware. */
export function gpuRules(
  service: Service,
  hosts: Readonly<Record<string, Host>>,
  { source, path }: Origin,
): ConfigIssue[] {
  const need = service.gpu
  if (!need) return []
  const at = [...path, 'x-ai-platform', 'gpu']
  const issues: ConfigIssue[] = []
  for (const hostName of service.hosts) {
    const gpu = hosts[hostName]!.gpu
    if (!gpu) {
      issues.push(
        configIssueAt('gpu-missing', source, at, `needs a GPU, but host "${hostName}" has none`, {
          allowed: 'hosts with hardware.gpu',
          got: hostName,
        }),
      )
    } else if (need.vendor !== 'any' && need.vendor !== gpu.vendor) {
      issues.push(
        configIssueAt(
          'gpu-vendor',
          source,
          [...at, 'vendor'],
          `needs an ${need.vendor} GPU, but host "${hostName}" has ${gpu.vendor}`,
          { allowed: need.vendor, got: gpu.vendor },
        ),
      )
    } else if (typeof need.count === 'number' && need.count > gpu.count) {
      issues.push(
        configIssueAt(
          'gpu-count',
          source,
          [...at, 'count'],
          `needs ${need.count} GPUs, but host "${hostName}" has ${gpu.count}`,
          { got: String(need.count) },
        ),
      )
    }
  }
  return issues
}

/** A rollout replaces long-running replicas: a one-shot runs to completion and has none to keep up. */
export function rolloutRules(service: Service, { source, path }: Origin): ConfigIssue[] {
  if (!service.rollout) return []
  const healthcheck = service.compose.healthcheck as { disable?: boolean } | undefined
  if (!service.oneshot && (healthcheck === undefined || healthcheck.disable === true))
    return [
      configIssueAt(
        'rollout-oneshot',
        source,
        [...path, 'x-ai-platform', 'rollout'],
        'a rolling update removes old replicas once the new ones are healthy: the service needs a Docker healthcheck to tell',
        { allowed: 'rollout on a service that declares a healthcheck', key: true },
      ),
    ]
  if (!service.oneshot) return []
  return [
    configIssueAt(
      'rollout-oneshot',
      source,
      [...path, 'x-ai-platform', 'rollout'],
      'a one-shot service runs to completion: it has no replicas to roll',
      { allowed: 'rollout on a long-running service (oneshot: false)', key: true },
    ),
  ]
}
