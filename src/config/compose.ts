// Pure readings of Compose syntax shared by validation and rendering.
import type { HealthCheck } from './model.js'

export interface PublishedPort {
  hostIp: string
  /** First and last host port of the mapping (equal unless a range). */
  from: number
  to: number
  protocol: 'tcp' | 'udp'
  /** Index in the service's ports list. */
  index: number
}

/** Published host ports of a service's `ports` list; entries without a host port publish nothing fixed. */
export function publishedPorts(ports: unknown): PublishedPort[] {
  if (!Array.isArray(ports)) return []
  const out: PublishedPort[] = []
  ports.forEach((entry, index) => {
    if (typeof entry === 'object' && entry !== null) {
      const long = entry as { published?: string | number; host_ip?: string; protocol?: string }
      if (long.published === undefined) return
      const range = parseRange(String(long.published))
      if (range)
        out.push({
          hostIp: long.host_ip ?? '0.0.0.0',
          ...range,
          protocol: long.protocol === 'udp' ? 'udp' : 'tcp',
          index,
        })
      return
    }
    if (typeof entry !== 'string') return
    const [spec, proto] = entry.split('/') as [string, string | undefined]
    const protocol = proto === 'udp' ? 'udp' : 'tcp'
    let rest = spec
    let hostIp = '0.0.0.0'
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest)
    if (v6) {
      hostIp = v6[1]!
      rest = v6[2]!
    }
    const parts = rest.split(':')
    if (parts.length === 3) {
      hostIp = parts[0]!
      parts.shift()
    }
    if (parts.length !== 2 || parts[0] === '') return
    const range = parseRange(parts[0]!)
    if (range) out.push({ hostIp, ...range, protocol, index })
  })
  return out
}

/** Compose's `deploy.replicas` of a service definition: 1 when unset; 0 means not running by design. */
export function replicasOf(definition: Record<string, unknown>): number {
  const deploy = definition.deploy
  const replicas = isPlainObject(deploy) ? deploy.replicas : undefined
  return typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 0 ? replicas : 1
}

function parseRange(text: string): { from: number; to: number } | null {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text)
  if (!match) return null
  const from = Number(match[1])
  return { from, to: match[2] === undefined ? from : Number(match[2]) }
}

/** The ports a service's declared checks connect to. */
export function checkPorts(health: readonly HealthCheck[]): number[] {
  return health.flatMap((c) => [c.http?.port, c.tcp?.port, c.ollama?.port]).filter((p): p is number => p !== undefined)
}

/** The ports a service's checks use that its `ports` list publishes on the host's loopback only. */
export function loopbackPorts(checkPorts: readonly number[], ports: unknown): number[] {
  const loopback = publishedPorts(ports).filter((p) => p.hostIp === '127.0.0.1' || p.hostIp === '::1')
  return [...new Set(checkPorts.filter((port) => loopback.some((p) => p.from <= port && port <= p.to)))].sort(
    (a, b) => a - b,
  )
}

export function portsOverlap(a: PublishedPort, b: PublishedPort): boolean {
  if (a.protocol !== b.protocol) return false
  const anyIp = a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0' || a.hostIp === '::' || b.hostIp === '::'
  if (!anyIp && a.hostIp !== b.hostIp) return false
  return a.from <= b.to && b.from <= a.to
}

export interface VariableUse {
  name: string
  /** True when the reference carries a default (`${X:-d}` or `${X-d}`), so X need not be set. */
  hasDefault: boolean
}

/** Variables a string asks Compose to interpolate (`$$` is a literal dollar). */
export function composeVariables(text: string): VariableUse[] {
  const uses: VariableUse[] = []
  const pattern = /\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g
  for (const match of text.matchAll(pattern)) {
    if (match[0] === '$$') continue
    if (match[2] !== undefined) {
      uses.push({ name: match[2], hasDefault: false })
      continue
    }
    const inner = match[1]!
    const parsed = /^([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?/.exec(inner)
    if (!parsed) {
      uses.push({ name: inner, hasDefault: false })
      continue
    }
    const op = parsed[2]
    uses.push({ name: parsed[1]!, hasDefault: op === ':-' || op === '-' || op === ':+' || op === '+' })
  }
  return uses
}

/**
 * Dollars Compose cannot interpolate: a `$` followed by neither `$`, `{...}` nor a name, or an
 * unclosed `${`. Compose v2 refuses the file ("invalid interpolation format"); v1 too.
 */
export function badDollars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$') continue
    const next = text[i + 1]
    if (next === '$') {
      i++
      continue
    }
    if (next === '{') {
      const close = text.indexOf('}', i + 2)
      if (close === -1 || !/^[A-Za-z_][A-Za-z0-9_]*([:]?[-?+].*)?$/s.test(text.slice(i + 2, close))) return true
      i = close
      continue
    }
    if (next === undefined || !/[A-Za-z_]/.test(next)) return true
  }
  return false
}

/** Every string inside a value, with its path. */
export function walkStrings(
  value: unknown,
  path: (string | number)[],
  visit: (text: string, path: (string | number)[]) => void,
): void {
  if (typeof value === 'string') visit(value, path)
  else if (Array.isArray(value)) value.forEach((item, i) => walkStrings(item, [...path, i], visit))
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walkStrings(item, [...path, key], visit)
  }
}

/** Deep merge for service overrides: mappings merge, everything else (lists included) is replaced. */
export function mergeService(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key]
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeService(current, value) : value
  }
  return out
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The host side of a short-syntax bind mount, or null for named volumes and anonymous ones. */
export function bindSource(volume: unknown): string | null {
  if (typeof volume === 'string') {
    const source = volume.split(':')[0]!
    return source.startsWith('/') || source.startsWith('.') || source.startsWith('~') ? source : null
  }
  if (isPlainObject(volume) && volume.type === 'bind' && typeof volume.source === 'string') return volume.source
  return null
}
