// The inventory files merged into one: `platform` once, host and model names unique across files.
import { fileIssue, hasErrors, type ConfigIssue } from './issues.js'
import type { Origins } from './origins.js'
import type { ReadDocument } from './read.js'
import type { InventoryDocument, InventoryModel, InventoryPlatform } from './schema-types.generated.js'
import { configIssueAt, type SourceFile } from './source.js'
import type { WrittenHost } from './rules/hosts.js'

export interface MergedInventory {
  platform: { raw: InventoryPlatform; source: SourceFile } | null
  /** In inventory order: file order, then order within the file. */
  hosts: WrittenHost[]
  models: { raw: InventoryModel; source: SourceFile }[]
  /** Each file's own issues (parse, schema) in file order, with the duplicates found merging it. */
  issues: ConfigIssue[]
}

/** Records where each host and model was written in `origins`. A file that failed its schema adds only its issues. */
export function mergeInventory(
  documents: readonly ReadDocument<InventoryDocument>[],
  origins: Origins,
): MergedInventory {
  const merged: MergedInventory = { platform: null, hosts: [], models: [], issues: [] }
  const hostFiles = new Map<string, SourceFile>()
  const modelFiles = new Map<string, SourceFile>()
  for (const { issues, checked } of documents) {
    merged.issues.push(...issues)
    if (!checked) continue
    const { source, value } = checked
    if (value.platform) {
      if (merged.platform) {
        merged.issues.push(
          configIssueAt(
            'duplicate-platform',
            source,
            ['platform'],
            `platform is already defined in ${merged.platform.source.display}`,
            { key: true },
          ),
        )
      } else merged.platform = { raw: value.platform, source }
    }
    for (const [name, raw] of Object.entries(value.hosts ?? {})) {
      const earlier = hostFiles.get(name)
      if (earlier) {
        merged.issues.push(
          configIssueAt(
            'duplicate-host',
            source,
            ['hosts', name],
            `duplicate host name: already defined in ${earlier.display}`,
            { key: true },
          ),
        )
        continue
      }
      hostFiles.set(name, source)
      merged.hosts.push({ name, raw, source })
      origins.set(`host:${name}`, { source, path: ['hosts', name] })
    }
    ;(value.models ?? []).forEach((raw, index) => {
      const earlier = modelFiles.get(raw.name)
      if (earlier) {
        merged.issues.push(
          configIssueAt(
            'duplicate-model',
            source,
            ['models', index, 'name'],
            `duplicate model: already declared in ${earlier.display}`,
            { got: JSON.stringify(raw.name) },
          ),
        )
        return
      }
      modelFiles.set(raw.name, source)
      merged.models.push({ raw, source })
      origins.set(`model:${raw.name}`, { source, path: ['models', index] })
    })
  }
  return merged
}

/** What the merged inventory lacks, reported only when nothing else is wrong with it (a broken file may hold what is missing). */
export function missingInventory(merged: MergedInventory, firstFile: string): ConfigIssue[] {
  if (hasErrors(merged.issues)) return []
  if (!merged.platform)
    return [
      fileIssue('no-platform', firstFile, 'no platform block in any inventory file', {
        path: 'platform',
        allowed: 'platform: {name: ...} in one file',
      }),
    ]
  if (merged.hosts.length === 0)
    return [fileIssue('no-hosts', firstFile, 'the inventory defines no hosts', { path: 'hosts' })]
  return []
}
