// The plan as a picture to paste into docs or render: hosts grouped by wave, an arrow from each host to
// every host that waits for it, labelled with the services it waits for. Mermaid flowchart text, or
// Graphviz dot text; names come from the inventory, whose schema allows only [a-z0-9_-] in them. A
// stack's max_unavailable_hosts is a note joined by dotted lines to the hosts it bounds.
import type { Plan } from '../plan/plan.js'

interface Edge {
  /** The host that is deployed first. */
  from: string
  /** The host that waits for it. */
  to: string
  /** What it waits for: the services on `from` that services on `to` require. */
  services: string[]
}

/** Edges between hosts of this plan, in plan order (a host outside the plan orders nothing). */
function edges(plan: Plan): Edge[] {
  const planned = new Set(plan.hosts.map((h) => h.name))
  return plan.hosts.flatMap((host) =>
    host.dependsOn
      .filter((d) => planned.has(d.host))
      .map((d) => ({ from: d.host, to: host.name, services: [...new Set(d.because.map((b) => b.requires))] })),
  )
}

/** Mermaid flowchart: one subgraph per wave; ids carry a prefix, so that a host named `end` is no keyword. */
export function formatPlanMermaid(plan: Plan): string {
  const id = (host: string) => `host_${host}`
  const lines = ['flowchart LR']
  for (const wave of plan.waves) {
    lines.push(`  subgraph wave_${wave.wave}["wave ${wave.wave}"]`)
    for (const host of wave.hosts) lines.push(`    ${id(host)}["${host}"]`)
    lines.push('  end')
  }
  for (const edge of edges(plan)) lines.push(`  ${id(edge.from)} -->|${edge.services.join(', ')}| ${id(edge.to)}`)
  for (const limit of plan.limits) {
    lines.push(`  limit_${limit.stack}{{"${limitText(limit)}"}}`)
    for (const host of limit.hosts) lines.push(`  limit_${limit.stack} -.- ${id(host)}`)
  }
  return lines.join('\n')
}

/** Graphviz dot: one cluster per wave, left to right. */
export function formatPlanDot(plan: Plan): string {
  const lines = [`digraph "${plan.platform}" {`, '  rankdir=LR;', '  node [shape=box];']
  for (const wave of plan.waves) {
    lines.push(`  subgraph cluster_wave_${wave.wave} {`, `    label="wave ${wave.wave}";`)
    for (const host of wave.hosts) lines.push(`    "${host}";`)
    lines.push('  }')
  }
  for (const edge of edges(plan)) lines.push(`  "${edge.from}" -> "${edge.to}" [label="${edge.services.join(', ')}"];`)
  for (const limit of plan.limits) {
    lines.push(`  "limit_${limit.stack}" [shape=note, label="${limitText(limit)}"];`)
    for (const host of limit.hosts) lines.push(`  "limit_${limit.stack}" -> "${host}" [style=dotted, arrowhead=none];`)
  }
  lines.push('}')
  return lines.join('\n')
}

function limitText(limit: Plan['limits'][number]): string {
  return `stack ${limit.stack}: at most ${limit.maxUnavailableHosts} at a time`
}
