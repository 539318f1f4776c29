import { ConfigError } from '../errors.js'
import type { OpenProject } from '../config/open.js'
import { renderHosts } from '../render/render.js'
import { buildPlan, resolveTargets, type Plan, type TargetOptions } from './plan.js'
import type { HostRender } from '../render/render.js'

export interface PlannedRun {
  plan: Plan
  renders: HostRender[]
}

/** Targets -> renders -> plan. Pure: reads nothing but the project, opens no connection. */
export function planRun(open: OpenProject, options: TargetOptions): PlannedRun {
  const hosts = resolveTargets(open.project, options)
  const { renders, issues } = renderHosts(open.project, hosts, { origins: open.origins })
  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues)
  return { plan: buildPlan(open.project, renders, options), renders }
}
