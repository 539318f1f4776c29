// `ai-platform validate`: load everything, render every host in memory and read secrets.env as deploy
// would, so that whatever deploy refuses before touching a host is found here, located. Nothing is
// written, nothing leaves the machine, no secret value is printed.
import { renderHosts } from '../render/render.js'
import { checkSecrets } from '../secrets/check.js'
import { hasErrors, withCode, type ConfigIssue } from '../config/issues.js'
import { loadProject } from '../config/load.js'
import { resolveProjectDir } from '../config/project-dir.js'

export interface ValidationReport {
  valid: boolean
  project: string
  /** Each with the code of the rule that found it (src/config/issues.ts). */
  issues: ConfigIssue[]
  summary: {
    hosts: number
    stacks: number
    services: number
    templates: number
    models: number
    errors: number
    warnings: number
    /** `absent`: there is no secrets.env, so its values were not checked; `needed` says whether a deploy would need one. */
    secrets: { file: 'checked' | 'absent'; needed: boolean }
  }
}

export async function validateProject(projectFlag: string | undefined): Promise<ValidationReport> {
  const location = resolveProjectDir(projectFlag)
  const { project, issues, origins } = await loadProject(location)
  const all = [...issues]
  const rendered = project && !hasErrors(issues) ? renderHosts(project, project.hostOrder, { origins }) : null
  if (rendered) all.push(...rendered.issues.map((issue) => withCode(issue, 'render')))
  const secrets = await checkSecrets(location.dir, project && rendered ? { project, renders: rendered.renders } : null)
  all.push(...secrets.issues.map((issue) => withCode(issue, 'secrets')))
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
      secrets: {
        file: secrets.found ? 'checked' : 'absent',
        needed: rendered?.renders.some((r) => r.secrets.length > 0) ?? false,
      },
    },
  }
}
