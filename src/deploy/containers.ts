// What a host's Compose project runs, read through the Docker Engine API, and whether it is ready.
import type Docker from 'dockerode'
import { RemoteError } from '../errors.js'
import type { Executor, WaitOptions } from '../remote/executor.js'
import { REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'

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
}

export interface ExpectedService {
  name: string
  oneshot: boolean
}

export type Readiness =
  | { ready: true }
  | { ready: false; failed: { service: string; reason: string }[]; waiting: { service: string; reason: string }[] }

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
      }
    })
    .filter((c): c is ContainerState => c !== null)
}

/** Ready: every expected service has a running container that is healthy or has no healthcheck; one-shots exited 0. */
export function evaluateReadiness(
  expected: readonly ExpectedService[],
  containers: readonly ContainerState[],
): Readiness {
  const failed: { service: string; reason: string }[] = []
  const waiting: { service: string; reason: string }[] = []
  for (const service of expected) {
    const mine = containers.filter((c) => c.service === service.name).sort((a, b) => b.created - a.created)
    const container = mine[0]
    if (!container) {
      waiting.push({ service: service.name, reason: 'no container' })
      continue
    }
    if (service.oneshot) {
      if (container.state === 'exited' && container.exitCode === 0) continue
      if (container.state === 'exited' || container.state === 'dead')
        failed.push({ service: service.name, reason: `exited with ${container.exitCode ?? 'an unknown code'}` })
      else waiting.push({ service: service.name, reason: container.state })
      continue
    }
    if (container.state === 'exited' || container.state === 'dead') {
      failed.push({
        service: service.name,
        reason: `${container.state}${container.exitCode !== null ? ` with ${container.exitCode}` : ''}`,
      })
    } else if (container.state === 'restarting') {
      // Docker is backing off between crashes: waiting out the health timeout would only delay the verdict.
      failed.push({ service: service.name, reason: 'keeps crashing (restarting)' })
    } else if (container.health === 'unhealthy') {
      failed.push({ service: service.name, reason: 'unhealthy' })
    } else if (container.state !== 'running') {
      waiting.push({ service: service.name, reason: container.state })
    } else if (container.health === 'starting') {
      waiting.push({ service: service.name, reason: 'health: starting' })
    }
  }
  if (failed.length === 0 && waiting.length === 0) return { ready: true }
  return { ready: false, failed, waiting }
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
