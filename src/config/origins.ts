import type { PathSegment, SourceFile } from './source.js'

/** Where a host, service, model or stack was written, so that rules about it can point there. */
export interface Origin {
  source: SourceFile
  path: PathSegment[]
}

/** Keyed `host:NAME`, `service:NAME`, `model:NAME`, `stack:NAME`. */
export type Origins = Map<string, Origin>

export type OriginKind = 'host' | 'service' | 'model' | 'stack'

export function originOf(origins: Origins, kind: OriginKind, name: string): Origin {
  const origin = origins.get(`${kind}:${name}`)
  // Every name a rule sees was recorded when its file was merged.
  if (!origin) throw new Error(`bug: no origin recorded for ${kind} ${name}`)
  return origin
}
