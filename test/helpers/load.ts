import { loadProject, type LoadResult } from '../../src/config/load.js'
import type { Project } from '../../src/config/model.js'
import { formatIssue } from '../../src/errors.js'
import { REPO } from './project.js'

export async function loadOk(dir: string = REPO, bundled = false): Promise<LoadResult & { project: Project }> {
  const result = await loadProject({ dir, bundled })
  const errors = result.issues.filter((i) => i.severity === 'error')
  if (!result.project || errors.length > 0)
    throw new Error(`fixture does not load:\n${result.issues.map(formatIssue).join('\n')}`)
  return result as LoadResult & { project: Project }
}
