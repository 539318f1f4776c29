// `ai-platform drift`: what differs between each host and the release it records as current, read
// from the host only (no render): a service running fewer containers than the release declares, or
// stopped ones; a container made from another definition than the release's (Compose's config-hash
// against `compose config --hash` of the release); a container whose image tag now names another
// image (retagged or replaced by hand: the next restart runs something else); a config file of the
// release edited or removed on the host (its files.sha256), and its .env (its .env.sha256).
import type { Project } from '../config/model.js'
import { errorMessage } from '../errors.js'
import { resolveTargets } from '../plan/plan.js'
import { checkReleaseFiles, composeConfigHashes } from '../remote/commands.js'
import { connector, type Connector } from '../remote/connect.js'
import type { Executor } from '../remote/executor.js'
import { REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'
import { printable } from '../util/printable.js'
import { listProject, type ContainerState } from '../deploy/containers.js'
import { inspectImage } from '../deploy/images.js'
import { gatherFacts } from '../deploy/preflight.js'
import type { RecordedService } from '../deploy/release.js'

export type DriftKind = 'missing' | 'stopped' | 'definition' | 'image' | 'file' | 'env'

export interface DriftItem {
  kind: DriftKind
  service?: string
  detail: string
}

export interface HostDrift {
  host: string
  /** The release the host records as current (null: none, or unreadable). */
  release: string | null
  drift: DriftItem[]
  /** Why the host could not be compared (it then counts as drifted: nothing shows it is not). */
  error?: string
}

export interface DriftReport {
  kind: 'ai-platform/drift'
  ok: boolean
  checkedAt: string
  hosts: HostDrift[]
}

/** `SERVICE HASH` lines of `compose config --hash=*`; anything else is skipped. */
export function parseConfigHashes(stdout: string): Map<string, string> {
  const hashes = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const match = /^([A-Za-z0-9][A-Za-z0-9_.-]*) ([0-9a-f]{64})$/.exec(line.trim())
    if (match) hashes.set(match[1]!, match[2]!)
  }
  return hashes
}

/** sha256sum -c's complaints (`files/KEY/PATH: FAILED`, `...: FAILED open or read`, `.env: FAILED`) as drift, paths without the store key. */
export function parseFileCheck(stdout: string): DriftItem[] {
  return stdout.split('\n').flatMap((line): DriftItem[] => {
    const env = /^\.env: FAILED( open or read)?$/.exec(line.trim())
    if (env) return [{ kind: 'env', detail: env[1] ? '.env is missing' : '.env was edited on the host' }]
    const match = /^files\/[0-9a-f]{16}\/(.+): FAILED( open or read)?$/.exec(line.trim())
    if (!match) return []
    const path = printable(match[1]!.slice(0, 300))
    return [{ kind: 'file', detail: match[2] ? `${path} is missing` : `${path} was edited on the host` }]
  })
}

/**
 * The containers against the release's services: pure. `hashes` is the release's definition digest
 * per service; `images` what each service's image reference names on the host now (null: nothing).
 */
export function containerDrift(
  services: readonly RecordedService[],
  containers: readonly ContainerState[],
  hashes: ReadonlyMap<string, string>,
  images: ReadonlyMap<string, string | null>,
): DriftItem[] {
  const items: DriftItem[] = []
  for (const service of services) {
    const mine = containers.filter((c) => c.service === service.name)
    const running = mine.filter((c) => c.state === 'running')
    const replicas = service.replicas ?? 1
    if (!service.oneshot && service.tier !== 'on-demand') {
      if (running.length < replicas)
        items.push({
          kind: mine.length > running.length ? 'stopped' : 'missing',
          service: service.name,
          detail: `${running.length} of ${replicas} running${
            mine.length > running.length
              ? ` (${mine
                  .filter((c) => c.state !== 'running')
                  .map((c) => `${c.name} ${c.state}`)
                  .join(', ')})`
              : ''
          }`,
        })
    }
    const now = images.get(service.image)
    const moved = now === undefined ? [] : running.filter((c) => c.imageId !== undefined && c.imageId !== now)
    // Compose v1 hashes the image id into the definition: a moved tag is reported as that, once
    const hash = hashes.get(service.name)
    const other = running.filter((c) => hash !== undefined && c.configHash !== hash && !moved.includes(c))
    if (other.length > 0)
      items.push({
        kind: 'definition',
        service: service.name,
        detail: `${other.map((c) => c.name).join(', ')} made from another definition than the release's`,
      })
    if (now !== undefined && moved.length > 0)
      items.push({
        kind: 'image',
        service: service.name,
        detail: `${printable(service.image)} now names ${now === null ? 'no image' : now.slice(7, 19)}, ${moved
          .map((c) => c.name)
          .join(', ')} run ${moved[0]!.imageId!.slice(7, 19)}`,
      })
  }
  return items
}

/** What the image reference names on the host now: its id, null when it names nothing. */
async function imageIdOf(exec: Executor, ref: string, timeoutMs: number): Promise<string | null> {
  try {
    const info = (await withDeadline(exec.host, 'the Docker API (inspect image)', timeoutMs, (signal) =>
      inspectImage(exec.docker(), ref, signal),
    )) as { Id?: unknown } | null
    return typeof info?.Id === 'string' && /^sha256:[0-9a-f]{64}$/.test(info.Id) ? info.Id : null
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null
    throw error
  }
}

export async function hostDrift(
  exec: Executor,
  project: Project,
  host: string,
  timeoutMs = REMOTE_WAIT_MS,
): Promise<HostDrift> {
  const baseDir = project.hosts[host]!.baseDir
  const result = await gatherFacts(exec, project, host, timeoutMs)
  const facts = result.facts
  if (!facts)
    return {
      host,
      release: null,
      drift: [],
      error: `${host}: cannot read it: ${result.checks
        .filter((c) => !c.ok)
        .map((c) => c.detail)
        .join('; ')}`,
    }
  const current = facts.current
  if (!current) return { host, release: null, drift: [], error: `${host} runs no release ai-platform recorded` }
  const target = { compose: facts.compose, project: current.composeProject, baseDir, releaseId: current.id }
  const [containers, hashes, files] = await Promise.all([
    listProject(exec, current.composeProject, { timeoutMs }),
    exec.run(composeConfigHashes(target), { timeoutMs }),
    exec.run(checkReleaseFiles(baseDir), { timeoutMs }),
  ])
  const refs = [...new Set(current.services.map((s) => s.image))]
  const images = new Map(await Promise.all(refs.map(async (r) => [r, await imageIdOf(exec, r, timeoutMs)] as const)))
  const drift = [
    ...containerDrift(current.services, containers, parseConfigHashes(hashes.stdout), images),
    ...parseFileCheck(files.stdout),
  ]
  return { host, release: current.id, drift }
}

export interface DriftOptions {
  timeoutMs?: number
  acceptNew?: boolean
  redact?: (text: string) => string
}

/** The connections of a round: `drift --watch` opens one per round and hands it to the round and its notices. */
export function driftConnector(project: Project, options: DriftOptions): Connector {
  return connector(project, {
    acceptNew: options.acceptNew === true,
    attempts: 1,
    readyTimeoutMs: options.timeoutMs ?? REMOTE_WAIT_MS,
    redact: options.redact,
  })
}

/** One round over the targets, in parallel; an unreachable host is reported with why. */
export async function driftRound(
  project: Project,
  selectors: string[],
  options: DriftOptions,
  connections?: Connector,
): Promise<DriftReport> {
  const hosts = resolveTargets(project, { selectors })
  const own = connections === undefined
  const pool = connections ?? driftConnector(project, options)
  try {
    const results = await Promise.all(
      hosts.map(async (host): Promise<HostDrift> => {
        try {
          return await hostDrift(await pool.get(host), project, host, options.timeoutMs ?? REMOTE_WAIT_MS)
        } catch (error) {
          return { host, release: null, drift: [], error: errorMessage(error) }
        }
      }),
    )
    return {
      kind: 'ai-platform/drift',
      ok: results.every((h) => h.error === undefined && h.drift.length === 0),
      checkedAt: new Date().toISOString(),
      hosts: results,
    }
  } finally {
    if (own) await pool.closeAll()
  }
}
