import { ConfigError, type Issue } from '../errors.js'
import { hasErrors, loadProject, type Origin } from './load.js'
import type { Project } from './model.js'
import { resolveProjectDir } from './project-dir.js'

export interface OpenProject {
  project: Project
  origins: Map<string, Origin>
  warnings: Issue[]
}

/** Load the platform for a command: every error at once as a ConfigError, warnings returned. */
export async function openProject(flag: string | undefined): Promise<OpenProject> {
  const location = resolveProjectDir(flag)
  const { project, issues, origins } = await loadProject(location)
  if (!project || hasErrors(issues)) throw new ConfigError(issues)
  return { project, origins, warnings: issues.filter((i) => i.severity === 'warning') }
}
