import { portsOverlap, publishedPorts, type PublishedPort } from '../compose.js'
import type { ConfigIssue } from '../issues.js'
import type { Host, Service } from '../model.js'
import { originOf, type Origins } from '../origins.js'
import { serviceForHost } from '../service-for-host.js'
import { configIssueAt } from '../source.js'

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
