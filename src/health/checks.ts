// Health checks, one implementation for `health` and for the deploy engine's gates: HTTP (undici), TCP,
// container state through the Docker API, a remote command, GPU drivers, and Ollama (the API answers
// *and* the expected models are there).
import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Agent } from 'undici'
import type { HealthCheck, Host, Project, Service } from '../config/model.js'
import { checkPorts, loopbackPorts } from '../config/compose.js'
import { replicasOn, serviceForHost } from '../config/service-for-host.js'
import { errorMessage } from '../errors.js'
import { endpointOrigin, resolveEndpoint } from '../remote/endpoint.js'
import type { Executor } from '../remote/executor.js'
import { NVIDIA_QUERY, ROCM_QUERY, parseNvidiaSmi, parseRocmSmi } from '../remote/facts.js'
import {
  evaluateReadiness,
  listProject,
  replicaSummary,
  STOPPED_ON_DEMAND,
  type ContainerState,
  type ExpectedService,
} from '../deploy/containers.js'
import { parseTags } from '../models/ollama.js'
import { readBody } from '../util/read-body.js'

/** stopped: an on-demand service that runs nothing, by design (neither ok nor failed). */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'stopped'

export interface CheckResult {
  host: string
  /** null for host-level checks (SSH, GPU). */
  service: string | null
  check: string
  status: CheckStatus
  required: boolean
  latencyMs: number
  detail: string
}

export interface CheckContext {
  project: Project
  host: Host
  /** null when the host could not be reached over SSH. */
  exec: Executor | null
  timeoutMs: number
  /** Check that the models the inventory places on a node are present (health: yes; deploy gate: no). */
  models: boolean
  dispatcher: HttpPool
}

/**
 * What the checks of one service on one host need: the checks, and which of their ports are bound to
 * the host's loopback (reached through its SSH connection, the others directly). Built from the
 * inventory (checkedService) or from a release record, so a release is judged by its own checks.
 */
export interface CheckedService {
  name: string
  health: readonly HealthCheck[]
  loopbackPorts: readonly number[]
}

/** A service's checks as the inventory declares them today. */
export function checkedService(service: Service, host: Host, project: Project): CheckedService {
  return {
    name: service.name,
    health: service.health,
    loopbackPorts: loopbackPorts(
      checkPorts(service.health),
      serviceForHost(service, host, project.hosts, project.hostOrder).ports,
    ),
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now()
  try {
    const value = await work()
    return { value, ms: Math.round(performance.now() - t0) }
  } catch (error) {
    return { error, ms: Math.round(performance.now() - t0) }
  }
}

async function httpGet(
  ctx: CheckContext,
  service: CheckedService,
  port: number,
  path: string,
  scheme = 'http',
): Promise<{ status: number; body: string }> {
  const endpoint = resolveEndpoint(ctx.host, port, service.loopbackPorts)
  if (endpoint.via === 'ssh') {
    if (!ctx.exec) throw new Error('host unreachable over SSH (port is bound to its loopback)')
    const exec = ctx.exec
    const { Client } = await loadUndici()
    const client = new Client(endpointOrigin(endpoint, scheme), {
      connect: (_options, callback) => {
        exec.forward(port, undefined, { timeoutMs: ctx.timeoutMs }).then(
          (stream: Duplex) => callback(null, stream as never),
          (error: Error) => callback(error, null),
        )
      },
    })
    try {
      const response = await client.request({
        method: 'GET',
        path,
        headersTimeout: ctx.timeoutMs,
        bodyTimeout: ctx.timeoutMs,
        signal: AbortSignal.timeout(ctx.timeoutMs),
      })
      return { status: response.statusCode, body: await readBody(response.body, MAX_CHECK_BODY_BYTES) }
    } finally {
      await client.close().catch(() => undefined)
    }
  }
  const { request } = await loadUndici()
  const response = await request(`${endpointOrigin(endpoint, scheme)}${path}`, {
    dispatcher: await ctx.dispatcher.agent(),
    headersTimeout: ctx.timeoutMs,
    bodyTimeout: ctx.timeoutMs,
    signal: AbortSignal.timeout(ctx.timeoutMs),
  })
  return { status: response.statusCode, body: await readBody(response.body, MAX_CHECK_BODY_BYTES) }
}

function tcpConnect(ctx: CheckContext, service: CheckedService, port: number): Promise<void> {
  const endpoint = resolveEndpoint(ctx.host, port, service.loopbackPorts)
  if (endpoint.via === 'ssh') {
    if (!ctx.exec) return Promise.reject(new Error('host unreachable over SSH (port is bound to its loopback)'))
    return ctx.exec.forward(port, undefined, { timeoutMs: ctx.timeoutMs }).then((stream) => void stream.destroy())
  }
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: endpoint.address, port, timeout: ctx.timeoutMs })
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('timeout', () => {
      socket.destroy()
      reject(new Error(`no answer within ${ctx.timeoutMs} ms`))
    })
    socket.once('error', reject)
  })
}

/** A health endpoint answers a status and a little text: what a check reads of a body is bounded. */
const MAX_CHECK_BODY_BYTES = 1024 * 1024

function normalizeModel(name: string): string {
  return name.includes(':') ? name : `${name}:latest`
}

function reason(error: unknown): string {
  const e = error as { code?: string; name?: string; cause?: { code?: string } }
  const code = e.code ?? e.cause?.code
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (
    e.name === 'TimeoutError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'ETIMEDOUT'
  )
    return 'timed out'
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable'
  return errorMessage(error)
}

/** The declared checks of one service on one host. */
export async function serviceChecks(ctx: CheckContext, service: CheckedService): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  const base = { host: ctx.host.name, service: service.name }
  for (const check of service.health) {
    const required = check.required
    if (check.http) {
      const { port, path, status, body } = check.http
      const name = check.name ?? `http :${port}${path}`
      const r = await timed(() => httpGet(ctx, service, port, path, check.http!.scheme))
      if (r.error)
        results.push({ ...base, check: name, status: 'fail', required, latencyMs: r.ms, detail: reason(r.error) })
      else if (r.value!.status !== status)
        results.push({
          ...base,
          check: name,
          status: 'fail',
          required,
          latencyMs: r.ms,
          detail: `HTTP ${r.value!.status} (expected ${status})`,
        })
      else if (body !== undefined && !r.value!.body.includes(body))
        results.push({
          ...base,
          check: name,
          status: 'fail',
          required,
          latencyMs: r.ms,
          detail: `body lacks ${JSON.stringify(body)}`,
        })
      else
        results.push({
          ...base,
          check: name,
          status: 'ok',
          required,
          latencyMs: r.ms,
          detail: `HTTP ${r.value!.status}`,
        })
    }
    if (check.tcp) {
      const name = check.name ?? `tcp :${check.tcp.port}`
      const r = await timed(() => tcpConnect(ctx, service, check.tcp!.port))
      results.push({
        ...base,
        check: name,
        status: r.error ? 'fail' : 'ok',
        required,
        latencyMs: r.ms,
        detail: r.error ? reason(r.error) : 'open',
      })
    }
    if (check.command) {
      const name = check.name ?? `command ${check.command[0]}`
      if (!ctx.exec) {
        results.push({ ...base, check: name, status: 'fail', required, latencyMs: 0, detail: 'host unreachable' })
        continue
      }
      const exec = ctx.exec
      const r = await timed(() => exec.run(check.command!, { check: false, timeoutMs: ctx.timeoutMs }))
      const ok = !r.error && r.value!.code === 0
      results.push({
        ...base,
        check: name,
        status: ok ? 'ok' : 'fail',
        required,
        latencyMs: r.ms,
        detail: r.error
          ? reason(r.error)
          : `exit ${r.value!.code}${ok ? '' : `: ${(r.value!.stderr || r.value!.stdout).trim().split('\n').pop() ?? ''}`}`,
      })
    }
    if (check.ollama) {
      const name = check.name ?? `ollama :${check.ollama.port}`
      const r = await timed(() => httpGet(ctx, service, check.ollama!.port, '/api/tags'))
      if (r.error || r.value!.status !== 200) {
        results.push({
          ...base,
          check: name,
          status: 'fail',
          required,
          latencyMs: r.ms,
          detail: r.error ? reason(r.error) : `HTTP ${r.value!.status}`,
        })
        continue
      }
      let present: string[] = []
      try {
        present = parseTags(r.value!.body, ctx.host.name).map((m) => m.name)
      } catch (error) {
        results.push({
          ...base,
          check: name,
          status: 'fail',
          required,
          latencyMs: r.ms,
          detail: errorMessage(error).replace(`${ctx.host.name}: `, ''),
        })
        continue
      }
      const expected = ctx.models ? ctx.host.models : []
      const missing = expected.filter((m) => !present.includes(normalizeModel(m)))
      results.push({
        ...base,
        check: name,
        status: missing.length === 0 ? 'ok' : 'fail',
        required,
        latencyMs: r.ms,
        detail:
          missing.length === 0
            ? `${present.length} model${present.length === 1 ? '' : 's'}${expected.length > 0 ? `, all ${expected.length} expected present` : ''}`
            : `missing ${missing.join(', ')}`,
      })
    }
  }
  return results
}

/** What a service should run on a host: its replicas after the host's overrides. */
export function expectedOn(service: Service, host: Host, project: Project): ExpectedService {
  return {
    name: service.name,
    oneshot: service.oneshot,
    replicas: replicasOn(service, host, project.hosts, project.hostOrder),
  }
}

/**
 * Container state of each expected service: every replica running (and healthy when it has a
 * healthcheck), as many as declared; a service scaled to 0 passes with none.
 */
export function containerChecks(
  host: string,
  expected: readonly ExpectedService[],
  containers: readonly ContainerState[],
  latencyMs: number,
): CheckResult[] {
  return expected.map((service) => {
    const readiness = evaluateReadiness([service], containers)
    const summary = replicaSummary(service, containers)
    const count =
      service.replicas === 1 && summary.running <= 1 ? '' : `, ${summary.running}/${summary.replicas} running`
    const detail =
      summary.state === 'missing'
        ? 'no container'
        : `${summary.state}${summary.health !== 'none' ? `, ${summary.health}` : ''}${summary.state === 'scaled to 0' ? '' : count}`
    return {
      host,
      service: service.name,
      check: 'container',
      status: readiness.ready ? 'ok' : 'fail',
      required: true,
      latencyMs,
      detail,
    } satisfies CheckResult
  })
}

/**
 * The container check of on-demand services: one that has no container (never started, or removed by
 * `down`) is stopped by design; one that has any, even exited or crash-looping after an `up`, is checked
 * like any other service (all its replicas running, healthy), so a crash is a failure.
 */
export function onDemandContainerChecks(
  host: string,
  expected: readonly ExpectedService[],
  containers: readonly ContainerState[],
  latencyMs: number,
): CheckResult[] {
  return expected.map((service) =>
    !containers.some((c) => c.service === service.name)
      ? {
          host,
          service: service.name,
          check: 'container',
          status: 'stopped',
          required: false,
          latencyMs,
          detail: STOPPED_ON_DEMAND,
        }
      : containerChecks(host, [service], containers, latencyMs)[0]!,
  )
}

export async function gpuCheck(ctx: CheckContext): Promise<CheckResult | null> {
  const gpu = ctx.host.gpu
  if (!gpu) return null
  const base = { host: ctx.host.name, service: null, check: `gpu ${gpu.vendor}`, required: true }
  if (!ctx.exec) return { ...base, status: 'fail', latencyMs: 0, detail: 'host unreachable' }
  const exec = ctx.exec
  const command = gpu.vendor === 'nvidia' ? NVIDIA_QUERY : ROCM_QUERY
  const r = await timed(() =>
    exec.run(['sh', '-c', gpu.vendor === 'nvidia' ? `${command} 2>&1` : `${command} 2>/dev/null`], {
      check: false,
      timeoutMs: ctx.timeoutMs,
    }),
  )
  if (r.error) return { ...base, status: 'fail', latencyMs: r.ms, detail: reason(r.error) }
  if (r.value!.signal)
    return {
      ...base,
      status: 'fail',
      latencyMs: r.ms,
      detail: `${gpu.vendor === 'nvidia' ? 'nvidia-smi' : 'rocm-smi'} ended without an exit status (signal ${r.value!.signal})`,
    }
  const probe =
    gpu.vendor === 'nvidia'
      ? parseNvidiaSmi(r.value!.stdout, r.value!.code)
      : parseRocmSmi(r.value!.stdout, r.value!.code)
  if (!probe.ok) return { ...base, status: 'fail', latencyMs: r.ms, detail: probe.reason }
  const memory = probe.gpus
    .map((g) => (g.memoryTotalMiB !== null ? `${Math.round(g.memoryTotalMiB / 1024)} GiB` : '?'))
    .join(' + ')
  if (probe.gpus.length < gpu.count)
    return {
      ...base,
      status: 'fail',
      latencyMs: r.ms,
      detail: `${probe.gpus.length} of ${gpu.count} GPUs seen (${memory})`,
    }
  const used = probe.gpus.reduce((n, g) => n + (g.memoryUsedMiB ?? 0), 0)
  return {
    ...base,
    status: 'ok',
    latencyMs: r.ms,
    detail: `${probe.gpus.length} GPU${probe.gpus.length === 1 ? '' : 's'}, ${memory}, ${Math.round(used / 1024)} GiB used`,
  }
}

export async function hostContainers(
  exec: Executor,
  project: string,
  timeoutMs: number,
): Promise<{ containers: ContainerState[]; ms: number }> {
  const t0 = performance.now()
  const containers = await listProject(exec, project, { timeoutMs })
  return { containers, ms: Math.round(performance.now() - t0) }
}

let undici: Promise<typeof import('undici')> | undefined

/** undici is loaded on the first HTTP check: a no-op deploy makes none, and loading it costs start-up time. */
function loadUndici(): Promise<typeof import('undici')> {
  return (undici ??= import('undici'))
}

/** The connection pool of the HTTP checks of one run, created on its first use. */
export class HttpPool {
  private pool: Promise<Agent> | undefined

  constructor(private readonly timeoutMs: number) {}

  agent(): Promise<Agent> {
    return (this.pool ??= loadUndici().then(
      ({ Agent }) => new Agent({ connect: { timeout: this.timeoutMs }, keepAliveTimeout: 1000, connections: 4 }),
    ))
  }

  async close(): Promise<void> {
    if (this.pool) await (await this.pool).close()
  }
}
