// Rules on a stack file as a whole, before its services are read.
import { isPlainObject } from '../compose.js'
import type { ConfigIssue } from '../issues.js'
import type { StackDocument } from '../schema-types.generated.js'
import { configIssueAt, type PathSegment, type SourceFile } from '../source.js'

/** `.inf` and `.nan` pass the schema as numbers, but no compose file can hold them (the renderer refused them as a bug). */
export function nonFiniteNumbers(source: SourceFile, value: unknown, path: PathSegment[] = []): ConfigIssue[] {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return []
    return [
      configIssueAt('non-finite-number', source, path, 'is not a finite number', {
        allowed: 'a finite number, or a quoted string such as ".inf"',
        got: Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf',
      }),
    ]
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => nonFiniteNumbers(source, item, [...path, index]))
  if (isPlainObject(value))
    return Object.entries(value).flatMap(([key, item]) => nonFiniteNumbers(source, item, [...path, key]))
  return []
}

export function obsoleteVersion(source: SourceFile, raw: StackDocument): ConfigIssue[] {
  if (raw.version === undefined) return []
  return [
    configIssueAt('obsolete-version', source, ['version'], 'the Compose `version` key is obsolete and is ignored', {
      key: true,
      severity: 'warning',
    }),
  ]
}
