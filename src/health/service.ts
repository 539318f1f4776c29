// `ai-platform health`: every host and check in parallel over pooled connections. An unreachable host is
// reported as such, never as a crash; exit 0 only when every required check passes.
import type { Host, Project, Service } from '../config/model.js'
import { errorMessage } from '../errors.js'
import { resolveTargets } from '../plan/plan.js'
import { connector, type ConnectChoices, type Connector } from '../remote/connect.js'
import {
  checkedService,
  containerChecks,
  expectedOn,
  gpuCheck,
  hostContainers,
  HttpPool,
  onDemandContainerChecks,
  serviceChecks,
  type CheckContext,
  type CheckResult,
} from './checks.js'

export interface HostHealth {
  host: string
  reachable: boolean
  error?: string
  latencyMs: number
  checks: CheckResult[]
}

export interface HealthReport {
  kind: 'ai-platform/health'
  ok: boolean
  platform: string
  checkedAt: string
  durationMs: number
  hosts: HostHealth[]
  summary: {
    hosts: number
    unreachable: number
    checks: number
    ok: number
    failed: number
    optionalFailed: number
    /** On-demand services that run nothing, by design. */
    stopped: number
  }
}

export interface HealthOptions extends ConnectChoices {
  selectors: string[]
  timeoutMs: number
  connector?: Connector
}

export async function checkHealth(project: Project, options: HealthOptions): Promise<HealthReport> {
  const started = performance.now()
  const hosts = resolveTargets(project, { selectors: options.selectors })
  const own = options.connector === undefined
  const connections =
    options.connector ??
    connector(project, {
      acceptNew: options.acceptNew === true,
      attempts: 1,
      readyTimeoutMs: options.timeoutMs,
      redact: options.redact,
    })
  const dispatcher = new HttpPool(options.timeoutMs)
  try {
    const results = await Promise.all(
      hosts.map((name) => checkHost(project, name, connections, options.timeoutMs, dispatcher)),
    )
    const all = results.flatMap((h) => h.checks)
    const failed = all.filter((c) => c.status === 'fail' && c.required).length
    return {
      kind: 'ai-platform/health',
      ok: failed === 0 && results.every((h) => h.reachable),
      platform: project.platform.name,
      checkedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - started),
      hosts: results,
      summary: {
        hosts: results.length,
        unreachable: results.filter((h) => !h.reachable).length,
        checks: all.length,
        ok: all.filter((c) => c.status === 'ok').length,
        failed,
        optionalFailed: all.filter((c) => c.status === 'fail' && !c.required).length,
        stopped: all.filter((c) => c.status === 'stopped').length,
      },
    }
  } finally {
    await dispatcher.close().catch(() => undefined)
    if (own) await connections.closeAll()
  }
}

async function checkHost(
  project: Project,
  name: string,
  connections: Connector,
  timeoutMs: number,
  dispatcher: CheckContext['dispatcher'],
  models = true,
): Promise<HostHealth> {
  const host = project.hosts[name]!
  const services = Object.values(project.services)
    .filter((s) => s.hosts.includes(name))
    .sort((a, b) => a.name.localeCompare(b.name))
  const t0 = performance.now()
  let exec = null
  let error: string | undefined
  try {
    exec = await connections.get(name)
  } catch (e) {
    error = errorMessage(e)
  }
  const ctx: CheckContext = { project, host, exec, timeoutMs, models, dispatcher }
  const checks: CheckResult[] = []
  /** On-demand services that run here now: their own checks apply, as any service's do. */
  let runningOnDemand: Service[] = []
  const reachableChecks = async (): Promise<void> => {
    /** Every service meant to run here fails its container check, for one reason. */
    const allFail = (detail: string): CheckResult[] =>
      active(services, host, project).map((s) => ({
        host: name,
        service: s.name,
        check: 'container',
        status: 'fail' as const,
        required: true,
        latencyMs: 0,
        detail,
      }))
    if (!exec) {
      checks.push(...allFail('host unreachable'))
      return
    }
    try {
      const { containers, ms } = await hostContainers(exec, project.platform.composeProject, timeoutMs)
      const expected = services.filter((s) => s.tier !== 'on-demand').map((s) => expectedOn(s, host, project))
      checks.push(...containerChecks(name, expected, containers, ms))
      const onDemand = services.filter((s) => s.tier === 'on-demand' && !s.oneshot)
      const onDemandResults = onDemandContainerChecks(
        name,
        onDemand.map((s) => expectedOn(s, host, project)),
        containers,
        ms,
      )
      checks.push(...onDemandResults)
      runningOnDemand = onDemand.filter((_, i) => onDemandResults[i]!.status !== 'stopped')
    } catch (e) {
      checks.push(...allFail(errorMessage(e).replace(`${name}: `, '')))
    }
  }
  const [onDemandDeclared, gpu, declared] = await Promise.all([
    reachableChecks().then(() =>
      Promise.all(
        runningOnDemand
          .filter((s) => expectedOn(s, host, project).replicas > 0)
          .map((s) => serviceChecks(ctx, checkedService(s, host, project))),
      ),
    ),
    gpuCheck(ctx),
    Promise.all(active(services, host, project).map((s) => serviceChecks(ctx, checkedService(s, host, project)))),
  ])
  if (gpu) checks.push(gpu)
  checks.push(...declared.flat(), ...onDemandDeclared.flat())
  // One block per service: its container first, then its own checks; host-level checks last.
  const order = (c: CheckResult) => [c.service === null ? '~' : c.service, c.check === 'container' ? 0 : 1] as const
  checks.sort((a, b) => order(a)[0].localeCompare(order(b)[0]) || order(a)[1] - order(b)[1])
  const report: HostHealth = {
    host: name,
    reachable: exec !== null,
    latencyMs: Math.round(performance.now() - t0),
    checks,
  }
  if (error) report.error = error
  return report
}

/** Services that should be running on the host: not on demand, not one-shots, not scaled to 0 there. */
function active(services: readonly Service[], host: Host, project: Project): Service[] {
  return services.filter((s) => s.tier !== 'on-demand' && !s.oneshot && expectedOn(s, host, project).replicas > 0)
}
