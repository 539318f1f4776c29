// Rolling updates inside a host (x-ai-platform.rollout): a replicated service whose definition changed
// is replaced a batch at a time instead of all at once. Each batch is the technique of the
// docker-rollout plugin: Compose starts `batch` containers of the new definition beside the old ones
// (`up --no-recreate --scale`), told apart from them by Compose's config-hash label, they are waited for until running and healthy, then as many old ones
// are stopped and removed. The service never runs fewer healthy containers than it declares. A batch
// that fails loses only its own new containers: the old ones never stopped, and the deploy's rollback
// (to the release the host ran) recreates those of earlier batches.
import type { RenderedService } from '../render/render.js'
import { composeConfigHash, composeScaleUp, type ComposeTarget } from '../remote/commands.js'
import type { Executor } from '../remote/executor.js'
import { withDeadline } from '../util/deadline.js'
import { abortableSleep, retry } from '../util/retry.js'
import { evaluateReadiness, listProjectUntil, type ContainerState } from './containers.js'
import { StepFailure } from './host-ops.js'

/** One batch: containers of the new definition to start, then old ones to remove. */
export interface RolloutBatch {
  add: number
  remove: number
}

/**
 * The batches that take a service from `old` containers of the previous definition (and `fresh` of the
 * new one, left by an interrupted rollout) to `replicas` of the new one, `batch` at a time. Each batch
 * removes no more old containers than it added new ones, so the healthy count never drops; old ones
 * beyond the declared count (a service scaled down) go in the last batch.
 */
export function rolloutBatches(replicas: number, old: number, batch: number, fresh = 0): RolloutBatch[] {
  const batches: RolloutBatch[] = []
  let added = fresh
  let left = old
  while (left > 0 || added < replicas) {
    const add = Math.max(0, Math.min(batch, replicas - added))
    const remove = add > 0 ? Math.min(add, left) : left
    batches.push({ add, remove })
    added += add
    left -= remove
  }
  return batches
}

/** `SERVICE HASH` as `compose config --hash=SERVICE` prints it (Compose v1 and v2 alike). */
export function parseConfigHash(stdout: string, service: string, host: string): string {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith(`${service} `))
  const hash = line?.slice(service.length + 1).trim() ?? ''
  if (!/^[0-9a-f]{64}$/.test(hash))
    throw new StepFailure(`${host}: compose did not give the definition digest of ${service} (config --hash)`)
  return hash
}

/** Old containers to remove first: those not running (they serve nothing), then the oldest. */
export function removalOrder(old: readonly ContainerState[]): ContainerState[] {
  const running = (c: ContainerState) => (c.state === 'running' ? 1 : 0)
  return [...old].sort((a, b) => running(a) - running(b) || a.created - b.created)
}

export interface RolloutOptions {
  healthTimeoutS: number
  /** Each read of the host (default REMOTE_WAIT_MS). */
  readTimeoutMs?: number
  abort: AbortSignal
  onProgress: (text: string) => void
}

export interface RolloutResult {
  service: string
  batches: number
  /** Containers of the previous definition removed. */
  replaced: number
}

/**
 * Rolls one service of the release `target` names (already current on the host). Nothing to do (null)
 * when every container of the service already runs the new definition: the plain `compose up` that
 * follows creates what is missing.
 */
export async function rollOut(
  exec: Executor,
  target: ComposeTarget,
  service: Pick<RenderedService, 'name' | 'replicas'> & { rollout: { batch: number; pauseS: number } },
  options: RolloutOptions,
): Promise<RolloutResult | null> {
  const host = exec.host
  const hashed = await exec.run(composeConfigHash(target, service.name), { timeoutMs: 60_000, signal: options.abort })
  const hash = parseConfigHash(hashed.stdout, service.name, host)
  // Each read waits out a Docker engine too busy to answer (up to the health timeout), as a health wait does.
  // null: without a signal (a default parameter would turn an explicit undefined into options.abort)
  const mine = async (signal: AbortSignal | null = options.abort) =>
    (
      await listProjectUntil(exec, target.project, Date.now() + options.healthTimeoutS * 1000, {
        ...(signal ? { signal } : {}),
        ...(options.readTimeoutMs ? { timeoutMs: options.readTimeoutMs } : {}),
        onSlow: (error) => options.onProgress(`${service.name}: ${error.detail}, asking again`),
      })
    ).filter((c) => c.service === service.name)
  const first = await mine()
  const old = first.filter((c) => c.configHash !== hash)
  if (old.length === 0) return null
  const fresh = first.filter((c) => c.configHash === hash)
  const batches = rolloutBatches(service.replicas, old.length, service.rollout.batch, fresh.length)
  let oldLeft = removalOrder(old)
  let newCount = fresh.length
  for (const [index, batch] of batches.entries()) {
    const label = `${service.name} batch ${index + 1}/${batches.length}`
    if (batch.add > 0) {
      const before = new Set((await mine()).map((c) => c.id))
      const total = before.size + batch.add
      options.onProgress(`${label}: starting ${batch.add} new beside ${oldLeft.length} old`)
      try {
        await exec.run(composeScaleUp(target, service.name, total), { timeoutMs: 30 * 60_000, signal: options.abort })
        const made = (await mine()).filter((c) => !before.has(c.id))
        const foreign = made.filter((c) => c.configHash !== hash)
        if (foreign.length > 0 || made.length < batch.add)
          throw new StepFailure(
            `compose started ${made.length} container${made.length === 1 ? '' : 's'} of ${batch.add} asked for, ${foreign.length} of them not of the definition the release declares (config-hash)`,
          )
        await waitNewReady(exec, target.project, service.name, hash, newCount + batch.add, options, label)
      } catch (error) {
        // Only this batch's containers go: the old ones never stopped.
        // read without the abort signal: a second Ctrl-C must not leave them behind
        const started = (await mine(null).catch(() => [])).filter((c) => !before.has(c.id))
        await removeContainers(exec, started).catch(() => undefined)
        const why = error instanceof Error ? error.message : String(error)
        throw new StepFailure(
          `${host}: ${label} failed, rollout stopped with ${oldLeft.length} old container${oldLeft.length === 1 ? '' : 's'} still running: ${why}`,
        )
      }
      newCount += batch.add
    }
    const going = oldLeft.slice(0, batch.remove)
    await removeContainers(exec, going, options.abort)
    oldLeft = oldLeft.slice(batch.remove)
    options.onProgress(`${label}: ${newCount} new healthy, ${oldLeft.length} old left`)
    if (index < batches.length - 1 && service.rollout.pauseS > 0) {
      options.onProgress(`${label}: pausing ${service.rollout.pauseS} s`)
      await abortableSleep(service.rollout.pauseS * 1000, options.abort)
      if (options.abort.aborted) throw new StepFailure(`${host}: ${service.name}: rollout interrupted`)
    }
  }
  return { service: service.name, batches: batches.length, replaced: old.length }
}

/** Until `count` containers of the new definition run and are healthy; a crashed or unhealthy one fails at once. */
async function waitNewReady(
  exec: Executor,
  project: string,
  service: string,
  hash: string,
  count: number,
  options: RolloutOptions,
  label: string,
): Promise<void> {
  const deadline = Date.now() + options.healthTimeoutS * 1000
  const expected = [{ name: service, oneshot: false, replicas: count }]
  let waiting = ''
  const round = async () => {
    const containers = (
      await listProjectUntil(exec, project, deadline, {
        signal: options.abort,
        ...(options.readTimeoutMs ? { timeoutMs: options.readTimeoutMs } : {}),
        onSlow: (error) => options.onProgress(`${label}: ${error.detail}, asking again`),
      })
    ).filter((c) => c.service === service && c.configHash === hash)
    const readiness = evaluateReadiness(expected, containers)
    if (readiness.ready) return
    if (readiness.failed.length > 0) throw new StepFailure(readiness.failed.map((f) => f.reason).join(', '))
    waiting = readiness.waiting.map((w) => w.reason).join(', ')
    throw new NotReadyYet(waiting)
  }
  try {
    await retry(round, {
      attempts: Infinity,
      baseMs: 250,
      capMs: 1000,
      deadline,
      signal: options.abort,
      retryable: (error) => error instanceof NotReadyYet,
      onRetry: () => options.onProgress(`${label}: waiting (${waiting})`),
    })
  } catch (error) {
    if (!(error instanceof NotReadyYet)) throw error
    throw new StepFailure(
      options.abort.aborted ? 'interrupted' : `not healthy within ${options.healthTimeoutS} s (${error.message})`,
    )
  }
}

class NotReadyYet extends Error {}

/** Stops (each container's own grace period) and removes containers, all of a batch at once. */
const STOP_WAIT_MS = 5 * 60_000

async function removeContainers(
  exec: Executor,
  containers: readonly ContainerState[],
  signal?: AbortSignal,
): Promise<void> {
  const docker = exec.docker()
  await Promise.all(
    containers.map((c) =>
      withDeadline(
        exec.host,
        `the Docker API (remove ${c.name})`,
        // Docker waits out the container's own grace period (Compose's stop_grace_period) before it kills
        STOP_WAIT_MS,
        async (abortSignal) => {
          const container = docker.getContainer(c.id)
          if (c.state === 'running') await container.stop({ abortSignal }).catch(notGone)
          await container.remove({ force: true, abortSignal }).catch(notGone)
        },
        signal,
      ),
    ),
  )
}

/** A container already stopped or gone is what was asked for. */
function notGone(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode
  if (status === 304 || status === 404) return
  throw error
}
