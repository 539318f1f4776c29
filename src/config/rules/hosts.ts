// Rules on hosts as written: what a host mounts and its GPU settings, then one writer per NAS export.
import type { ConfigIssue } from '../issues.js'
import type { InventoryHost } from '../schema-types.generated.js'
import { configIssueAt, type SourceFile } from '../source.js'

/** A host as its inventory file wrote it, at `hosts.NAME` of `source`. */
export interface WrittenHost {
  name: string
  raw: InventoryHost
  source: SourceFile
}

const AMD_ONLY = ['gfx_version', 'video_gid', 'render_gid'] as const

/** `exports`: the NAS exports platform.nas declares, or null when no platform block was read (nothing to check mounts against). */
export function hostRules({ name, raw, source }: WrittenHost, exports: readonly string[] | null): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  if (exports !== null) {
    for (const exportName of Object.keys(raw.mounts ?? {})) {
      if (exports.includes(exportName)) continue
      issues.push(
        configIssueAt(
          'unknown-export',
          source,
          ['hosts', name, 'mounts', exportName],
          'mounts an export the NAS does not have',
          {
            key: true,
            allowed: exports.length > 0 ? exports.join(', ') : 'none (platform.nas.exports is empty)',
            got: JSON.stringify(exportName),
          },
        ),
      )
    }
  }
  const gpu = raw.hardware?.gpu
  for (const key of AMD_ONLY) {
    if (gpu && gpu[key] !== undefined && gpu.vendor !== 'amd') {
      issues.push(
        configIssueAt('amd-only', source, ['hosts', name, 'hardware', 'gpu', key], `${key} applies to AMD GPUs only`, {
          key: true,
          got: `vendor ${gpu.vendor}`,
        }),
      )
    }
  }
  return issues
}

/** Ollama servers sharing one store do not coordinate their writes: one writer per export. `hosts` in inventory order. */
export function mountWriterRules(hosts: readonly WrittenHost[]): ConfigIssue[] {
  const writers = new Map<string, WrittenHost[]>()
  for (const host of hosts) {
    for (const [exportName, mount] of Object.entries(host.raw.mounts ?? {})) {
      if (mount.mode === 'rw') writers.set(exportName, [...(writers.get(exportName) ?? []), host])
    }
  }
  const issues: ConfigIssue[] = []
  for (const [exportName, list] of writers) {
    const names = list.map((h) => h.name)
    for (const { name, source } of list.slice(1)) {
      issues.push(
        configIssueAt(
          'export-writers',
          source,
          ['hosts', name, 'mounts', exportName, 'mode'],
          `export "${exportName}" already has a writer (${names[0]}); concurrent writers corrupt a shared model store`,
          {
            allowed: 'one host with mode rw per export',
            got: names.join(', '),
          },
        ),
      )
    }
  }
  return issues
}
