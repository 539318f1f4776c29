import { portsOverlap, publishedPorts, replicasOf, type PublishedPort } from '../compose.js'
import type { ConfigIssue } from '../issues.js'
import type { Host, Service } from '../model.js'
import { originOf, type Origin, type Origins } from '../origins.js'
import { selectHosts } from '../select.js'
import { serviceForHost } from '../service-for-host.js'
import { configIssueAt, describeValue } from '../source.js'

/** One service per published port on a host, after each host's overrides. */
export function portRules(
  services: Readonly<Record<string, Service>>,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
  origins: Origins,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const hostName of order) {
    const seen: { port: PublishedPort; service: string }[] = []
    for (const service of Object.values(services)) {
      if (!service.hosts.includes(hostName)) continue
      const definition = serviceForHost(service, hosts[hostName]!, hosts, order)
      for (const port of publishedPorts(definition.ports)) {
        const clash = seen.find((s) => portsOverlap(s.port, port))
        if (!clash) {
          seen.push({ port, service: service.name })
          continue
        }
        const { source, path } = originOf(origins, 'service', service.name)
        issues.push(
          configIssueAt(
            'port-conflict',
            source,
            [...path, 'ports', port.index],
            `host "${hostName}" already publishes ${port.protocol} port ${port.from} for service "${clash.service}"`,
            {
              allowed: 'one service per published port on a host',
              got: `${port.from}/${port.protocol}`,
            },
          ),
        )
      }
    }
  }
  return issues
}

/**
 * Replicas of a service each bind its published ports: a fixed host port (or a range narrower than the
 * replica count) validates but fails at `compose up` for the second replica. Checked per host, after
 * its overrides; reported where the port (or the override that changes it) is written.
 */
export function replicaPortRules(
  service: Service,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
  { source, path }: Origin,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const reported = new Set<string>()
  for (const hostName of service.hosts) {
    const definition = serviceForHost(service, hosts[hostName]!, hosts, order)
    const replicas = replicasOf(definition)
    // a rolling update runs a batch of new containers beside the old ones
    const batch = service.rollout && !service.oneshot && replicas > 0 ? Math.min(service.rollout.batch, replicas) : 0
    const need = replicas + batch
    if (batch > 0 && definition.network_mode === 'host') {
      const key = `${path.join('.')}.network_mode`
      if (!reported.has(key)) {
        reported.add(key)
        issues.push(
          configIssueAt(
            'replica-port',
            source,
            [...path, 'network_mode'],
            `a rolling update runs new containers beside the old ones, which cannot share the host's network`,
            { allowed: 'a bridge network (no network_mode: host) with rollout', got: '"host"' },
          ),
        )
      }
    }
    if (need <= 1) continue
    // The ports list as this host gets it comes from the last matching override that sets one, else the base.
    const overrideIndex = service.overrides.findLastIndex(
      (o) => 'ports' in o.set && selectHosts(o.on, hosts, order).hosts.includes(hostName),
    )
    const at =
      overrideIndex === -1 ? [...path, 'ports'] : [...path, 'x-ai-platform', 'overrides', overrideIndex, 'set', 'ports']
    const written = Array.isArray(definition.ports) ? (definition.ports as unknown[]) : []
    for (const port of publishedPorts(definition.ports)) {
      const width = port.to - port.from + 1
      if (width >= need) continue
      const key = `${at.join('.')}.${port.index}`
      if (reported.has(key)) continue
      reported.add(key)
      issues.push(
        configIssueAt(
          'replica-port',
          source,
          [...at, port.index],
          `${batch > 0 ? `${replicas} replica${replicas === 1 ? '' : 's'} rolled ${batch} at a time (up to ${need} containers)` : `${replicas} replicas`} on host "${hostName}" cannot share host port${width > 1 ? 's' : ''} ${port.from}${width > 1 ? `-${port.to}` : ''}`,
          {
            allowed: `a container-only port (no host port), or a host port range with one port per ${batch > 0 ? 'container' : 'replica'} (${port.from}-${port.from + need - 1})`,
            got: describeValue(written[port.index]),
          },
        ),
      )
    }
  }
  return issues
}
