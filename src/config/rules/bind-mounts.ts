import { bindSource } from '../compose.js'
import type { ConfigIssue } from '../issues.js'
import type { Service } from '../model.js'
import type { Origin } from '../origins.js'
import { configIssueAt, describeValue, type PathSegment } from '../source.js'

/** Bind mounts stay inside the host's base directory or name absolute paths, overrides included. */
export function bindMountRules(service: Service, { source, path }: Origin): ConfigIssue[] {
  const lists: { volumes: unknown; at: PathSegment[] }[] = [
    { volumes: service.compose.volumes, at: [...path, 'volumes'] },
  ]
  service.overrides.forEach((override, index) =>
    lists.push({ volumes: override.set.volumes, at: [...path, 'x-ai-platform', 'overrides', index, 'set', 'volumes'] }),
  )
  const issues: ConfigIssue[] = []
  for (const { volumes, at } of lists) {
    if (!Array.isArray(volumes)) continue
    volumes.forEach((volume, index) => {
      const bind = bindSource(volume)
      if (bind !== null && /(^|\/)\.\.(\/|$)/.test(bind)) {
        issues.push(
          configIssueAt('bind-escape', source, [...at, index], 'bind mount source must not climb out with ..', {
            allowed: 'an absolute path, or ./path inside the host base directory',
            got: describeValue(bind),
          }),
        )
      }
    })
  }
  return issues
}
