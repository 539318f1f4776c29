import type { Host, Selector } from './model.js'

export interface Selection {
  hosts: string[]
  unknownHosts: string[]
  unknownTags: string[]
}

/** Hosts named or tagged (all when neither is given), narrowed by GPU and VRAM, minus exclusions; in inventory order. */
export function selectHosts(
  selector: Selector,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
): Selection {
  const named = selector.hosts ?? []
  const tags = selector.tags ?? []
  const unknownHosts = [...named, ...(selector.exclude ?? [])].filter((name) => hosts[name] === undefined)
  const knownTags = new Set(order.flatMap((name) => hosts[name]!.tags))
  const unknownTags = tags.filter((tag) => !knownTags.has(tag))
  const everyone = selector.all === true || (selector.hosts === undefined && selector.tags === undefined)
  const picked = order.filter((name) => {
    const host = hosts[name]!
    if (!everyone && !named.includes(name) && !host.tags.some((tag) => tags.includes(tag))) return false
    if (selector.exclude?.includes(name)) return false
    if (selector.gpu !== undefined) {
      if (host.gpu === undefined) return false
      if (selector.gpu !== 'any' && host.gpu.vendor !== selector.gpu) return false
    }
    if (selector.min_vram_gb !== undefined && totalVramGb(host) < selector.min_vram_gb) return false
    return true
  })
  return { hosts: picked, unknownHosts, unknownTags }
}

function totalVramGb(host: Host): number {
  return host.gpu ? (host.gpu.vramGb ?? 0) * host.gpu.count : 0
}
