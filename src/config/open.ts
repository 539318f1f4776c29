import { ConfigError, type Issue } from '../errors.js'
import { hasErrors } from './issues.js'
import { loadProject } from './load.js'
import type { Project } from './model.js'
import type { Origin } from './origins.js'
import { resolveProjectDir, type ProjectChoice } from './project-dir.js'

export interface OpenProject {
  project: Project
  origins: Map<string, Origin>
  warnings: Issue[]
}

/**
 * Load the platform for a command: every error at once as a ConfigError, warnings returned. A command
 * that connects to hosts names itself in `connecting`, and never gets the bundled reference platform.
 */
export async function openProject(
  flag: string | undefined,
  choice: Pick<ProjectChoice, 'connecting'> = {},
): Promise<OpenProject> {
  const location = resolveProjectDir(flag, choice)
  const { project, issues, origins } = await loadProject(location)
  if (!project || hasErrors(issues)) throw new ConfigError(issues)
  return { project, origins, warnings: issues.filter((i) => i.severity === 'warning') }
}
