// Requires without cycles: between services, and between the hosts they tie together.
import { hostCycles } from '../host-dependencies.js'
import type { ConfigIssue } from '../issues.js'
import type { Service } from '../model.js'
import { originOf, type Origins } from '../origins.js'
import { configIssueAt } from '../source.js'
import { findCycles } from '../../util/graph.js'

export function serviceCycleRules(services: Readonly<Record<string, Service>>, origins: Origins): ConfigIssue[] {
  const edges = new Map<string, string[]>()
  for (const service of Object.values(services))
    edges.set(
      service.name,
      service.requires.filter((r) => services[r] !== undefined && r !== service.name),
    )
  return findCycles(edges).map((cycle) => {
    const { source, path } = originOf(origins, 'service', cycle[0]!)
    return configIssueAt(
      'dependency-cycle',
      source,
      [...path, 'x-ai-platform', 'requires'],
      `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
      { allowed: 'requires without cycles' },
    )
  })
}

/** Acyclic services can still tie hosts in a knot: a on A requires b on B, c on B requires d on A. */
export function hostCycleRules(
  services: Record<string, Service>,
  hostOrder: string[],
  origins: Origins,
): ConfigIssue[] {
  return hostCycles({ services, hostOrder }).map((cycle) => {
    const { source, path } = originOf(origins, 'service', cycle.service)
    return configIssueAt(
      'host-cycle',
      source,
      [...path, 'x-ai-platform', 'requires'],
      `host dependency cycle: ${cycle.description}`,
      { allowed: 'requires that order hosts without cycles' },
    )
  })
}
