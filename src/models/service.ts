// `ai-platform models pull | list | rm | sync`: parallel across nodes, bounded per node, resumable.
import type { Project } from '../config/model.js'
import { loopbackPorts } from '../config/compose.js'
import { serviceForHost } from '../config/service-for-host.js'
import { UserError, errorMessage } from '../errors.js'
import { resolveTargets } from '../plan/plan.js'
import type { Connector } from '../remote/connect.js'
import { endpointOrigin, resolveEndpoint } from '../remote/endpoint.js'
import { Semaphore } from '../util/semaphore.js'
import { retry, type Backoff } from '../util/retry.js'
import { deleteModel, listTags, OllamaError, pull, PullProgress, type OllamaEndpoint, type TagModel } from './ollama.js'
import { normalizeModel, ollamaNodes, planPulls, undeclared, type OllamaNode, type PullJob } from './placement.js'

export type ModelsEvent =
  | { type: 'job-start'; job: PullJob }
  | {
      type: 'job-progress'
      job: PullJob
      completed: number
      total: number
      rateBps: number
      etaS: number | null
      status: string
    }
  | { type: 'job-done'; result: PullResult }

export interface PullResult {
  host: string
  model: string
  servedBy: string[]
  status: 'pulled' | 'present' | 'failed'
  bytes: number
  /** When the pull started, ms after the run began (with durationMs: how pulls overlapped). */
  startedMs: number
  durationMs: number
  attempts: number
  digest?: string
  error?: string
}

export interface PullReport {
  kind: 'ai-platform/models-pull'
  ok: boolean
  durationMs: number
  results: PullResult[]
  summary: { pulled: number; present: number; failed: number; bytes: number }
}

export interface ModelsOptions {
  on: string[]
  models: string[]
  perNode: number
  attempts: number
  timeoutMs: number
  signal?: AbortSignal
  emit?: (event: ModelsEvent) => void
  /** Waits between attempts of a pull (default PULL_BACKOFF); tests shorten them. */
  backoff?: Backoff
}

/** Between attempts of a pull: jittered, so nodes that lost the same registry do not all come back at once. */
const PULL_BACKOFF: Backoff = { baseMs: 1000, capMs: 30_000 }

export function selectNodes(project: Project, on: readonly string[]): OllamaNode[] {
  const nodes = ollamaNodes(project)
  if (nodes.length === 0)
    throw new UserError(
      'no host runs an Ollama service',
      'A service with an `ollama` health check marks an Ollama node.',
    )
  if (on.length === 0) return nodes
  const hosts = resolveTargets(project, { selectors: on })
  const picked = nodes.filter((n) => hosts.includes(n.host))
  if (picked.length === 0)
    throw new UserError(`none of ${on.join(', ')} runs Ollama`, `Ollama nodes: ${nodes.map((n) => n.host).join(', ')}.`)
  return picked
}

/** Direct HTTP to the published port, or through SSH when Ollama is bound to the host's loopback. */
export function endpointFor(project: Project, node: OllamaNode, connections: Connector): OllamaEndpoint {
  const host = project.hosts[node.host]!
  const service = Object.values(project.services).find(
    (s) => s.hosts.includes(node.host) && s.health.some((c) => c.ollama?.port === node.port),
  )!
  const endpoint = resolveEndpoint(
    host,
    node.port,
    loopbackPorts([node.port], serviceForHost(service, host, project.hosts, project.hostOrder).ports),
  )
  if (endpoint.via === 'direct') return { host: node.host, origin: endpointOrigin(endpoint) }
  return {
    host: node.host,
    origin: endpointOrigin(endpoint),
    tunnel: async () => (await connections.get(node.host)).forward(node.port),
  }
}

class RateMeter {
  private samples: { t: number; bytes: number }[] = []
  sample(bytes: number): number {
    const t = performance.now()
    this.samples.push({ t, bytes })
    while (this.samples.length > 2 && t - this.samples[0]!.t > 5000) this.samples.shift()
    const first = this.samples[0]!
    const dt = (t - first.t) / 1000
    return dt > 0 ? Math.max(0, (bytes - first.bytes) / dt) : 0
  }
}

export async function pullModels(
  project: Project,
  connections: Connector,
  options: ModelsOptions,
): Promise<PullReport> {
  const started = performance.now()
  const all = ollamaNodes(project)
  const selected = selectNodes(project, options.on)
  const jobs = planPulls(all, {
    hosts: selected.map((n) => n.host),
    ...(options.models.length > 0 ? { models: options.models } : {}),
  })
  const limits = new Map<string, Semaphore>()
  const present = new Map<string, Promise<TagModel[] | Error>>()
  const emit = options.emit ?? (() => undefined)

  const results = await Promise.all(
    jobs.map(async (job): Promise<PullResult> => {
      const node = all.find((n) => n.host === job.host)!
      const endpoint = endpointFor(project, node, connections)
      let tags = present.get(job.host)
      if (!tags) {
        tags = listTags(endpoint, options.timeoutMs).catch((e: Error) => e)
        present.set(job.host, tags)
      }
      const listed = await tags
      const base = { host: job.host, model: job.model, servedBy: job.servedBy }
      if (listed instanceof Error) {
        const result: PullResult = {
          ...base,
          status: 'failed',
          bytes: 0,
          startedMs: Math.round(performance.now() - started),
          durationMs: 0,
          attempts: 0,
          error: errorMessage(listed),
        }
        emit({ type: 'job-done', result })
        return result
      }
      const have = listed.find((t) => t.name === normalizeModel(job.model))
      if (have) {
        const result: PullResult = {
          ...base,
          status: 'present',
          bytes: have.size,
          startedMs: Math.round(performance.now() - started),
          durationMs: 0,
          attempts: 0,
          digest: have.digest,
        }
        emit({ type: 'job-done', result })
        return result
      }
      let limit = limits.get(job.host)
      if (!limit) {
        limit = new Semaphore(options.perNode)
        limits.set(job.host, limit)
      }
      return limit.use(async () => {
        const t0 = performance.now()
        emit({ type: 'job-start', job })
        const progress = new PullProgress()
        const meter = new RateMeter()
        let attempts = 0
        let lastEmit = 0
        try {
          // Ollama keeps the partial blobs: a later attempt resumes from them.
          await retry(
            (attempt) => {
              attempts = attempt
              return pull(
                endpoint,
                job.model,
                (line) => {
                  progress.update(line)
                  const now = performance.now()
                  if (now - lastEmit < 200 && line.status !== 'success') return
                  lastEmit = now
                  const { completed, total } = progress.totals
                  const rate = meter.sample(completed)
                  emit({
                    type: 'job-progress',
                    job,
                    completed,
                    total,
                    rateBps: rate,
                    etaS: rate > 0 && total > 0 ? Math.round((total - completed) / rate) : null,
                    status: progress.status,
                  })
                },
                options.signal ? { signal: options.signal } : {},
              )
            },
            {
              attempts: options.attempts,
              ...(options.backoff ?? PULL_BACKOFF),
              retryable: (error) => error instanceof OllamaError && error.retryable,
              signal: options.signal,
            },
          )
        } catch (error) {
          const result: PullResult = {
            ...base,
            status: 'failed',
            bytes: progress.totals.completed,
            startedMs: Math.round(t0 - started),
            durationMs: Math.round(performance.now() - t0),
            attempts,
            error: errorMessage(error),
          }
          emit({ type: 'job-done', result })
          return result
        }
        const result: PullResult = {
          ...base,
          status: 'pulled',
          bytes: progress.totals.total,
          startedMs: Math.round(t0 - started),
          durationMs: Math.round(performance.now() - t0),
          attempts,
        }
        emit({ type: 'job-done', result })
        return result
      })
    }),
  )
  const summary = { pulled: 0, present: 0, failed: 0, bytes: 0 }
  for (const r of results) {
    summary[r.status]++
    if (r.status === 'pulled') summary.bytes += r.bytes
  }
  return {
    kind: 'ai-platform/models-pull',
    ok: summary.failed === 0,
    durationMs: Math.round(performance.now() - started),
    results,
    summary,
  }
}

export interface ListRow {
  host: string
  reachable: boolean
  error?: string
  /** The node whose store it reads (itself unless a shared-store reader). */
  store: string | null
  models: { name: string; size: number | null; digest: string | null; state: 'present' | 'missing' | 'undeclared' }[]
}

export async function listModels(
  project: Project,
  connections: Connector,
  options: { on: string[]; timeoutMs: number },
): Promise<{ kind: 'ai-platform/models-list'; nodes: ListRow[] }> {
  const all = ollamaNodes(project)
  const nodes = selectNodes(project, options.on)
  const rows = await Promise.all(
    nodes.map(async (node): Promise<ListRow> => {
      const row: ListRow = { host: node.host, reachable: true, store: node.store, models: [] }
      let tags: TagModel[]
      try {
        tags = await listTags(endpointFor(project, node, connections), options.timeoutMs)
      } catch (error) {
        return {
          ...row,
          reachable: false,
          error: errorMessage(error),
          models: node.models.map((m) => ({
            name: normalizeModel(m),
            size: null,
            digest: null,
            state: 'missing' as const,
          })),
        }
      }
      const declared = new Set(node.models.map(normalizeModel))
      const extra = undeclared(
        all,
        node.host,
        tags.map((t) => t.name),
      )
      for (const tag of tags) {
        // A shared store also shows the other nodes' models: list only ours and the undeclared ones.
        if (declared.has(tag.name))
          row.models.push({ name: tag.name, size: tag.size, digest: tag.digest, state: 'present' })
        else if (extra.includes(tag.name))
          row.models.push({ name: tag.name, size: tag.size, digest: tag.digest, state: 'undeclared' })
      }
      for (const name of declared)
        if (!tags.some((t) => t.name === name)) row.models.push({ name, size: null, digest: null, state: 'missing' })
      row.models.sort((a, b) => a.name.localeCompare(b.name))
      return row
    }),
  )
  return { kind: 'ai-platform/models-list', nodes: rows }
}

export interface RemoveResult {
  host: string
  model: string
  status: 'deleted' | 'absent' | 'failed'
  error?: string
}

/** The nodes a pull writes to: those that pull for the selected nodes (a shared store's writer). */
export function pullHosts(project: Project, options: { on: readonly string[]; models: readonly string[] }): string[] {
  const jobs = planPulls(ollamaNodes(project), {
    hosts: selectNodes(project, options.on).map((n) => n.host),
    ...(options.models.length > 0 ? { models: options.models } : {}),
  })
  return [...new Set(jobs.map((j) => j.host))]
}

/** The nodes a delete writes to: each selected node's own, or its shared store's writer. */
export function removeHosts(project: Project, on: readonly string[]): string[] {
  const all = ollamaNodes(project)
  const targets = new Set<string>()
  for (const node of selectNodes(project, on)) {
    const writer = node.store && !node.writer ? all.find((n) => n.store === node.store && n.writer)?.host : node.host
    if (writer) targets.add(writer)
  }
  return [...targets]
}

/** The nodes a sync writes to: those it pulls on, and with prune those it deletes undeclared models on. */
export function syncHosts(project: Project, options: { on: readonly string[]; prune: boolean }): string[] {
  return [
    ...new Set([
      ...pullHosts(project, { on: options.on, models: [] }),
      ...(options.prune ? pruneHosts(project, options.on) : []),
    ]),
  ]
}

/** Where a prune looks for undeclared models: every node that pulls, and each selected node with a store of its own. */
function pruneHosts(project: Project, on: readonly string[]): string[] {
  const pullers = new Set(pullHosts(project, { on, models: [] }))
  for (const node of selectNodes(project, on)) if (!node.store || node.writer) pullers.add(node.host)
  return [...pullers]
}

/** Deletes on the pulling node of each selected node's store (the writer for shared stores). */
export async function removeModels(
  project: Project,
  connections: Connector,
  options: { on: string[]; models: string[]; timeoutMs: number },
): Promise<{ kind: 'ai-platform/models-rm'; ok: boolean; results: RemoveResult[] }> {
  const all = ollamaNodes(project)
  const targets = removeHosts(project, options.on)
  const results = (
    await Promise.all(
      targets.map(async (host) => {
        const node = all.find((n) => n.host === host)!
        const endpoint = endpointFor(project, node, connections)
        const out: RemoveResult[] = []
        for (const model of options.models) {
          try {
            out.push({ host, model, status: await deleteModel(endpoint, model, options.timeoutMs) })
          } catch (error) {
            out.push({ host, model, status: 'failed', error: errorMessage(error) })
          }
        }
        return out
      }),
    )
  ).flat()
  return { kind: 'ai-platform/models-rm', ok: results.every((r) => r.status !== 'failed'), results }
}

export interface SyncReport {
  kind: 'ai-platform/models-sync'
  ok: boolean
  pull: PullReport
  removed: RemoveResult[]
}

/** Make the nodes match the inventory: pull what is missing; with prune, delete what no node sharing the store declares. */
export async function syncModels(
  project: Project,
  connections: Connector,
  options: ModelsOptions & { prune: boolean },
): Promise<SyncReport> {
  const report = await pullModels(project, connections, { ...options, models: [] })
  const removed: RemoveResult[] = []
  if (options.prune) {
    const all = ollamaNodes(project)
    await Promise.all(
      pruneHosts(project, options.on).map(async (host) => {
        const node = all.find((n) => n.host === host)!
        const endpoint = endpointFor(project, node, connections)
        try {
          const extra = undeclared(
            all,
            host,
            (await listTags(endpoint, options.timeoutMs)).map((t) => t.name),
          )
          for (const model of extra) {
            try {
              removed.push({ host, model, status: await deleteModel(endpoint, model, options.timeoutMs) })
            } catch (error) {
              removed.push({ host, model, status: 'failed', error: errorMessage(error) })
            }
          }
        } catch (error) {
          removed.push({ host, model: '*', status: 'failed', error: errorMessage(error) })
        }
      }),
    )
  }
  return {
    kind: 'ai-platform/models-sync',
    ok: report.ok && removed.every((r) => r.status !== 'failed'),
    pull: report,
    removed,
  }
}
