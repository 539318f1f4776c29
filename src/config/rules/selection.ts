// Selectors (placement, overrides' `on`, model placement) naming hosts or tags the inventory lacks.
import type { ConfigIssue } from '../issues.js'
import type { Selector } from '../model.js'
import type { Selection } from '../select.js'
import { configIssueAt, type PathSegment, type SourceFile } from '../source.js'

export function selectionRules(
  source: SourceFile,
  path: PathSegment[],
  selector: Selector,
  selection: Selection,
  order: readonly string[],
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const name of selection.unknownHosts) {
    const list = selector.hosts?.includes(name) ? 'hosts' : 'exclude'
    const index = (selector[list] ?? []).indexOf(name)
    issues.push(
      configIssueAt('unknown-host', source, [...path, list, index], 'unknown host', {
        allowed: order.join(', '),
        got: JSON.stringify(name),
      }),
    )
  }
  for (const tag of selection.unknownTags) {
    const index = (selector.tags ?? []).indexOf(tag)
    issues.push(
      configIssueAt('unknown-tag', source, [...path, 'tags', index], 'no host carries this tag', {
        got: JSON.stringify(tag),
      }),
    )
  }
  return issues
}
