// `ai-platform validate`: load everything and render every host in memory, so template and
// interpolation mistakes are found too. Nothing is written, nothing leaves the machine.
import type { Issue } from '../errors.js'
import { renderHosts } from '../render/render.js'
import { hasErrors, loadProject } from './load.js'
import { resolveProjectDir } from './project-dir.js'

export interface ValidationReport {
  valid: boolean
  project: string
  issues: Issue[]
  summary: { hosts: number; stacks: number; services: number; templates: number; models: number; errors: number; warnings: number }
}

export async function validateProject(projectFlag: string | undefined): Promise<ValidationReport> {
  const location = resolveProjectDir(projectFlag)
  const { project, issues, origins } = await loadProject(location)
  const all = [...issues]
  if (project && !hasErrors(issues)) all.push(...renderHosts(project, project.hostOrder, { origins }).issues)
  const errors = all.filter((i) => i.severity === 'error').length
  return {
    valid: errors === 0,
    project: location.bundled ? '(bundled reference platform)' : location.dir,
    issues: all,
    summary: {
      hosts: project?.hostOrder.length ?? 0,
      stacks: project?.stacks.length ?? 0,
      services: project ? Object.keys(project.services).length : 0,
      templates: project ? Object.keys(project.templates).length : 0,
      models: project ? Object.keys(project.models).length : 0,
      errors,
      warnings: all.length - errors,
    },
  }
}
