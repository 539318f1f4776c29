// Which hosts must be up before which, from services' cross-host `requires`: read by the loader (a host
// cycle is a configuration error) and by the planner (the waves).
import type { Project } from './model.js'
import { findCycles } from '../util/graph.js'

export interface HostEdge {
  /** The host that must be up first. */
  host: string
  /** Why: "service on this host requires service on that host". */
  because: { service: string; requires: string }[]
}

/** Which hosts depend on which, derived from services' cross-host `requires`. */
export function hostDependencies(project: Pick<Project, 'services' | 'hostOrder'>): Map<string, HostEdge[]> {
  const edges = new Map<string, HostEdge[]>()
  for (const name of project.hostOrder) edges.set(name, [])
  for (const service of Object.values(project.services).sort((a, b) => a.name.localeCompare(b.name))) {
    for (const hostName of service.hosts) {
      for (const required of service.requires) {
        const target = project.services[required]
        if (!target) continue
        for (const other of target.hosts) {
          if (other === hostName) continue
          const list = edges.get(hostName)!
          let edge = list.find((e) => e.host === other)
          if (!edge) {
            edge = { host: other, because: [] }
            list.push(edge)
          }
          edge.because.push({ service: service.name, requires: required })
        }
      }
    }
  }
  for (const list of edges.values())
    list.sort((a, b) => project.hostOrder.indexOf(a.host) - project.hostOrder.indexOf(b.host))
  return edges
}

/** Host-level cycles, each described with the service requirements that close it. */
export function hostCycles(
  project: Pick<Project, 'services' | 'hostOrder'>,
): { hosts: string[]; description: string; service: string }[] {
  const deps = hostDependencies(project)
  const simple = new Map<string, string[]>([...deps].map(([host, list]) => [host, list.map((e) => e.host)]))
  return findCycles(simple).map((cycle) => {
    const steps = cycle.map((host, i) => {
      const next = cycle[(i + 1) % cycle.length]!
      const edge = deps.get(host)!.find((e) => e.host === next)!
      const why = edge.because[0]!
      return `${why.service} on ${host} requires ${why.requires} on ${next}`
    })
    const first = deps.get(cycle[0]!)!.find((e) => e.host === cycle[1 % cycle.length])!.because[0]!.service
    return { hosts: cycle, description: `${[...cycle, cycle[0]].join(' -> ')} (${steps.join('; ')})`, service: first }
  })
}
