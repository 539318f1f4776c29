// What a host's Compose project runs, read through the Docker Engine API, and whether it is ready.
import type Docker from 'dockerode'

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

export async function projectContainers(docker: Docker, project: string): Promise<ContainerState[]> {
  const list: Docker.ContainerInfo[] = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) })
  return list
    .filter((c) => (c.Labels ?? {})['com.docker.compose.oneoff'] !== 'True' && (c.Labels ?? {})['com.docker.compose.service'] !== undefined)
    .map((c) => {
      const labels = c.Labels ?? {}
      const summary = c as typeof c & { Health?: { Status?: string } }
      return {
        id: c.Id,
        name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
        service: labels['com.docker.compose.service'] ?? '',
        image: c.Image,
        state: c.State,
        health: healthFromStatus(c.Status ?? '', summary.Health),
        exitCode: exitCodeFromStatus(c.Status ?? ''),
        status: c.Status ?? '',
        created: c.Created,
      }
    })
}

/** Ready: every expected service has a running container that is healthy or has no healthcheck; one-shots exited 0. */
export function evaluateReadiness(expected: readonly ExpectedService[], containers: readonly ContainerState[]): Readiness {
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
      if (container.state === 'exited' || container.state === 'dead') failed.push({ service: service.name, reason: `exited with ${container.exitCode ?? 'an unknown code'}` })
      else waiting.push({ service: service.name, reason: container.state })
      continue
    }
    if (container.state === 'exited' || container.state === 'dead') {
      failed.push({ service: service.name, reason: `${container.state}${container.exitCode !== null ? ` with ${container.exitCode}` : ''}` })
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
export async function containerLogTail(docker: Docker, id: string, lines = 20): Promise<string> {
  const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer
  return demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)))
}

/** Docker's multiplexed log frames: 8-byte header (stream, 0, 0, 0, size32be) then the payload. */
export function demux(buffer: Buffer): string {
  let offset = 0
  const parts: string[] = []
  while (offset + 8 <= buffer.length && buffer[1] === 0 && (buffer[offset] === 1 || buffer[offset] === 2 || buffer[offset] === 0)) {
    const size = buffer.readUInt32BE(offset + 4)
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString('utf8'))
    offset += 8 + size
  }
  if (offset === 0) return buffer.toString('utf8')
  return parts.join('')
}
