// What a host's Compose project runs, read through the Docker Engine API, and whether it is ready.
import type Docker from 'dockerode'
import { RemoteError } from '../errors.js'
import type { Executor, WaitOptions } from '../remote/executor.js'
import { NoAnswer, readWithin, REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'
import { retry } from '../util/retry.js'

export interface ContainerState {
  id: string
  name: string
  service: string
  image: string
  /** created | running | paused | restarting | exited | removing | dead */
  state: string
  /** healthy | unhealthy | starting | none */
  health: string
  exitCode: number | null
  status: string
  created: number
  /** Compose's digest of the service definition the container was created from (com.docker.compose.config-hash). */
  configHash: string
  /** The image it was created from (sha256:...), when the engine says. */
  imageId?: string
}

export interface ExpectedService {
  name: string
  oneshot: boolean
  /** Containers the service runs when ready (Compose's deploy.replicas): 0 is none, by design. */
  replicas: number
}

/** A service that is not ready: why, and the container the reason was read from (its logs explain a failure). */
export interface NotReady {
  service: string
  reason: string
  container?: string
}

export type Readiness = { ready: true } | { ready: false; failed: NotReady[]; waiting: NotReady[] }

/** Docker's summary before API 1.52 has no Health field: the Status text carries it. */
export function healthFromStatus(status: string, health?: { Status?: string } | null): string {
  if (health?.Status) return health.Status
  if (/\(healthy\)/.test(status)) return 'healthy'
  if (/\(unhealthy\)/.test(status)) return 'unhealthy'
  if (/\(health: starting\)/.test(status)) return 'starting'
  return 'none'
}

export function exitCodeFromStatus(status: string): number | null {
  const match = /^Exited \((-?\d+)\)/.exec(status)
  return match ? Number(match[1]) : null
}

/**
 * The project's containers. The answer is the host's: each entry must have the shape Docker gives it
 * (strings where strings belong), or the whole answer is refused with what was wrong.
 */
async function projectContainers(
  docker: Docker,
  project: string,
  signal?: AbortSignal,
  host = 'the host',
): Promise<ContainerState[]> {
  const list: unknown = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }),
    ...(signal ? { abortSignal: signal } : {}),
  })
  return parseContainerList(list, host)
}

/** projectContainers over a host's executor, bounded by the caller's timeout (default REMOTE_WAIT_MS) and signal. */
export function listProject(
  exec: Pick<Executor, 'host' | 'docker'>,
  project: string,
  options: WaitOptions = {},
): Promise<ContainerState[]> {
  return withDeadline(
    exec.host,
    'the Docker API (list containers)',
    options.timeoutMs ?? REMOTE_WAIT_MS,
    (signal) => projectContainers(exec.docker(), project, signal, exec.host),
    options.signal,
  )
}

/**
 * listProject asked again, until `deadline` (epoch ms), while the host's Docker engine does not answer
 * within `timeoutMs` (default REMOTE_WAIT_MS): for the waits of a deploy, which have a deadline of
 * their own, so that one slow answer from a busy engine does not fail a rollout or its rollback.
 */
export function listProjectUntil(
  exec: Pick<Executor, 'host' | 'docker'>,
  project: string,
  deadline: number,
  options: { signal?: AbortSignal; onSlow?: (error: NoAnswer) => void; timeoutMs?: number } = {},
): Promise<ContainerState[]> {
  const each = options.timeoutMs ?? REMOTE_WAIT_MS
  const attempts = retry(
    () =>
      listProject(exec, project, {
        timeoutMs: readWithin(each, deadline),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    {
      attempts: Infinity,
      baseMs: 500,
      capMs: 2000,
      deadline,
      signal: options.signal,
      retryable: (error) => error instanceof NoAnswer,
      onRetry: (error) => options.onSlow?.(error as NoAnswer),
    },
  )
  // an abort in the pause between tries ends it as interrupted, not as the last try's "no answer"
  return attempts.catch((error: unknown) => {
    if (options.signal?.aborted)
      throw new RemoteError({
        host: exec.host,
        message: `${exec.host}: the Docker API (list containers) was interrupted`,
      })
    throw error
  })
}

export function parseContainerList(list: unknown, host: string): ContainerState[] {
  const refuse = (detail: string) =>
    new RemoteError({
      host,
      argv: ['docker', 'ps'],
      message: `${host}: the Docker API's container list is not what Docker sends (${detail})`,
    })
  if (!Array.isArray(list)) throw refuse('not a list')
  const text = (value: unknown): value is string => typeof value === 'string'
  return list
    .map((item: unknown, index): ContainerState | null => {
      const c = item as Record<string, unknown> | null
      if (c === null || typeof c !== 'object') throw refuse(`entry ${index} is not an object`)
      const labels = (c.Labels ?? {}) as Record<string, unknown>
      if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => !text(v)))
        throw refuse(`entry ${index}: Labels`)
      if (!text(c.Id) || !/^[0-9a-f]{12,64}$/.test(c.Id)) throw refuse(`entry ${index}: Id`)
      if (c.Names !== undefined && (!Array.isArray(c.Names) || !c.Names.every(text)))
        throw refuse(`entry ${index}: Names`)
      for (const key of ['Image', 'State', 'Status'] as const)
        if (c[key] !== undefined && !text(c[key])) throw refuse(`entry ${index}: ${key}`)
      if (typeof c.Created !== 'number' || !Number.isFinite(c.Created)) throw refuse(`entry ${index}: Created`)
      const health = c.Health as { Status?: unknown } | undefined
      if (
        health !== undefined &&
        (typeof health !== 'object' || health === null || (health.Status !== undefined && !text(health.Status)))
      )
        throw refuse(`entry ${index}: Health`)
      const service = labels['com.docker.compose.service'] as string | undefined
      if (labels['com.docker.compose.oneoff'] === 'True' || service === undefined) return null
      const status = (c.Status as string | undefined) ?? ''
      return {
        id: c.Id,
        name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
        service,
        image: (c.Image as string | undefined) ?? '',
        state: (c.State as string | undefined) ?? '',
        health: healthFromStatus(status, health as { Status?: string } | undefined),
        exitCode: exitCodeFromStatus(status),
        status,
        created: c.Created,
        configHash: (labels['com.docker.compose.config-hash'] as string | undefined) ?? '',
        ...(typeof c.ImageID === 'string' && /^sha256:[0-9a-f]{64}$/.test(c.ImageID) ? { imageId: c.ImageID } : {}),
      }
    })
    .filter((c): c is ContainerState => c !== null)
}

/**
 * Ready: every expected service runs as many containers as it declares replicas, each running and
 * healthy (or without a healthcheck); one-shots exited 0; a service scaled to 0 runs none.
 */
export function evaluateReadiness(
  expected: readonly ExpectedService[],
  containers: readonly ContainerState[],
): Readiness {
  const failed: NotReady[] = []
  const waiting: NotReady[] = []
  for (const service of expected) {
    const mine = containersOf(containers, service.name)
    if (service.replicas === 0) {
      // Compose stops and removes them on `up`; until then they are on their way out, not a failure.
      const left = mine.filter((c) => c.state === 'running' || c.state === 'restarting').length
      if (left > 0) waiting.push({ service: service.name, reason: `scaled to 0, ${left} still running` })
      continue
    }
    const container = mine[0]
    if (!container) {
      waiting.push({ service: service.name, reason: 'no container' })
      continue
    }
    if (service.oneshot) {
      if (container.state === 'exited' && container.exitCode === 0) continue
      if (container.state === 'exited' || container.state === 'dead')
        failed.push({
          service: service.name,
          reason: `exited with ${container.exitCode ?? 'an unknown code'}`,
          container: container.id,
        })
      else waiting.push({ service: service.name, reason: container.state })
      continue
    }
    // Every replica counts: one crashed replica of three is a failed service, not a ready one. The
    // newest ones do: a replaced container may linger while it exits.
    const current = mine.slice(0, service.replicas)
    const verdicts = current.map((c) => ({ container: c, verdict: replicaVerdict(c) }))
    const name = (c: ContainerState) => (service.replicas > 1 ? `${c.name}: ` : '')
    const failure = verdicts.find((v) => v.verdict?.failed)
    const pending = verdicts.find((v) => v.verdict && !v.verdict.failed)
    const running = current.filter((c) => c.state === 'running').length
    if (failure) {
      failed.push({
        service: service.name,
        reason: `${name(failure.container)}${failure.verdict!.reason}`,
        container: failure.container.id,
      })
    } else if (current.length < service.replicas) {
      waiting.push({ service: service.name, reason: `${running}/${service.replicas} replicas running` })
    } else if (pending) {
      waiting.push({ service: service.name, reason: `${name(pending.container)}${pending.verdict!.reason}` })
    }
  }
  if (failed.length === 0 && waiting.length === 0) return { ready: true }
  return { ready: false, failed, waiting }
}

/** One container of a long-running service: null when ready, else why not and whether waiting can help. */
function replicaVerdict(container: ContainerState): { failed: boolean; reason: string } | null {
  if (container.state === 'exited' || container.state === 'dead')
    return {
      failed: true,
      reason: `${container.state}${container.exitCode !== null ? ` with ${container.exitCode}` : ''}`,
    }
  // Docker is backing off between crashes: waiting out the health timeout would only delay the verdict.
  if (container.state === 'restarting') return { failed: true, reason: 'keeps crashing (restarting)' }
  if (container.health === 'unhealthy') return { failed: true, reason: 'unhealthy' }
  if (container.state !== 'running') return { failed: false, reason: container.state }
  if (container.health === 'starting') return { failed: false, reason: 'health: starting' }
  return null
}

/** A service's containers, newest first. */
function containersOf(containers: readonly ContainerState[], service: string): ContainerState[] {
  return containers.filter((c) => c.service === service).sort((a, b) => b.created - a.created)
}

/** An on-demand service that runs no container: stopped by design (`ai-platform down`, or never started), not failed. */
export const STOPPED_ON_DEMAND = 'stopped (on demand)'

/** What a service runs against what it declares: `scaled to 0` when it runs nothing by design. */
export interface ReplicaSummary {
  /** The state of a replica that is not running (the newest's when all run), `missing`, or `scaled to 0`. */
  state: string
  health: string
  running: number
  replicas: number
}

export function replicaSummary(service: ExpectedService, containers: readonly ContainerState[]): ReplicaSummary {
  const all = containersOf(containers, service.name)
  const mine = service.replicas === 0 ? all : all.slice(0, service.replicas)
  const running = mine.filter((c) => c.state === 'running').length
  const base = { running, replicas: service.replicas }
  if (service.replicas === 0 && running === 0) return { ...base, state: 'scaled to 0', health: 'none' }
  const shown = mine.find((c) => c.state !== 'running') ?? mine.find((c) => c.health !== 'healthy') ?? mine[0]
  return { ...base, state: shown?.state ?? 'missing', health: shown?.health ?? 'none' }
}

/** The last lines a container wrote, demultiplexed from Docker's stream format. */
export async function containerLogTail(docker: Docker, id: string, lines = 20, signal?: AbortSignal): Promise<string> {
  const raw = await docker
    .getContainer(id)
    .logs({ stdout: true, stderr: true, tail: lines, follow: false, ...(signal ? { abortSignal: signal } : {}) })
  return demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)))
}

/** Docker's multiplexed log frames: 8-byte header (stream, 0, 0, 0, size32be) then the payload. */
export function demux(buffer: Buffer): string {
  let offset = 0
  const parts: string[] = []
  while (
    offset + 8 <= buffer.length &&
    buffer[1] === 0 &&
    (buffer[offset] === 1 || buffer[offset] === 2 || buffer[offset] === 0)
  ) {
    const size = buffer.readUInt32BE(offset + 4)
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString('utf8'))
    offset += 8 + size
  }
  if (offset === 0) return buffer.toString('utf8')
  return parts.join('')
}
