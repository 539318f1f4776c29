// Compose interpolation in a service and its overrides: every ${VAR} without a default must be a
// declared secret, and every $ must be one Compose can read.
import { badDollars, composeVariables, walkStrings } from '../compose.js'
import type { ConfigIssue } from '../issues.js'
import type { Service } from '../model.js'
import type { Origin } from '../origins.js'
import { configIssueAt, describeValue, type PathSegment } from '../source.js'

export function variableRules(service: Service, declared: readonly string[], { source, path }: Origin): ConfigIssue[] {
  const sites: { text: string; at: PathSegment[] }[] = []
  walkStrings(service.compose, [...path], (text, at) => sites.push({ text, at }))
  service.overrides.forEach((override, index) =>
    walkStrings(override.set, [...path, 'x-ai-platform', 'overrides', index, 'set'], (text, at) =>
      sites.push({ text, at }),
    ),
  )
  const issues: ConfigIssue[] = []
  for (const { text, at } of sites) {
    if (badDollars(text)) {
      issues.push(
        configIssueAt('bad-dollar', source, at, 'has a $ that Compose cannot interpolate', {
          allowed: '${NAME}, $NAME, or $$ for a literal dollar',
          got: describeValue(text),
        }),
      )
      continue
    }
    for (const use of composeVariables(text)) {
      if (use.hasDefault || declared.includes(use.name)) continue
      issues.push(
        configIssueAt('undeclared-secret', source, at, `uses \${${use.name}}, which is not a declared secret`, {
          allowed:
            declared.length > 0
              ? `${declared.join(', ')} (platform.secrets), or \${${use.name}:-default}`
              : 'secrets declared under platform.secrets',
          got: use.name,
        }),
      )
    }
  }
  return issues
}
