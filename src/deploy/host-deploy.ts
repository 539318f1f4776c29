// One host's deploy, step by step: probe (read-only, before any lock), preflight, lock (the host's facts
// read again under it), reconcile an unrecorded release, decide, then repair or upload, switch, up,
// health, record. A failure after the switch rolls the host back to what it ran when the lock was
// taken, judged by that release's own checks.
import { UserError, errorMessage } from '../errors.js'
import type { PlanHost } from '../plan/plan.js'
import type { HostRender, RenderedService } from '../render/render.js'
import {
  composeRemoveServices,
  composeStartServices,
  composeUp,
  releaseLock,
  removeRelease,
  switchCurrent,
  unpackRelease,
  type ComposeTarget,
} from '../remote/commands.js'
import type { Executor } from '../remote/executor.js'
import { envFileFor } from '../secrets/secrets.js'
import { listProject, type ContainerState } from './containers.js'
import type { DeployInput, DeployOptions, HostReport } from './engine.js'
import { decideHost, needsContainers, onDemandChanges } from './decide.js'
import { historyLine } from './history.js'
import { processAlive } from '../util/process-alive.js'
import {
  hostPreflight,
  keepLockFresh,
  lockHost,
  lockToken,
  progress,
  recordAndPrune,
  renderTarget,
  serviceStates,
  waitHealthy,
} from './host-ops.js'
import { ensureImages } from './images.js'
import { loginFor } from '../remote/registry-auth.js'
import { quickFacts, type HostFacts, type QuickFacts } from './preflight.js'
import { buildRecord, envDigest, releaseId, releaseTarball, whoAmI, type ReleaseRecord } from './release.js'
import { rollBackFailed } from './rollback.js'
import { rollOut, type RolloutResult } from './rollout.js'

/** What the read-only probe found, before any lock. */
export interface Probe {
  exec: Executor
  quick: QuickFacts
  env: string
  /** Runs this very render, recorded, with every expected container up and healthy: nothing to do. */
  ready: boolean
  containers: ContainerState[] | null
  steps: { step: string; ms: number }[]
}

type Steps = { step: string; ms: number }[]

/** Runs a named step: timed, reported as it starts and ends, its error masked. */
function stepper(
  input: DeployInput,
  host: string,
  steps: Steps,
  onError: (name: string, error: unknown) => unknown = (_n, e) => e,
) {
  return async <T>(name: string, work: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> => {
    const t0 = Date.now()
    input.emit({ type: 'step', host, step: name, phase: 'start' })
    try {
      const value = await work()
      const ms = Date.now() - t0
      steps.push({ step: name, ms })
      const text = detail?.(value)
      input.emit({ type: 'step', host, step: name, phase: 'done', ms, ...(text ? { detail: text } : {}) })
      return value
    } catch (caught) {
      const error = onError(name, caught)
      input.emit({
        type: 'step',
        host,
        step: name,
        phase: 'failed',
        ms: Date.now() - t0,
        detail: input.redact(errorMessage(error)),
      })
      throw error
    }
  }
}

/** Whether a host already runs its render: asked of every host at once, before any lock. */
export async function probe(input: DeployInput, host: PlanHost, render: HostRender): Promise<Probe> {
  const steps: Steps = []
  const step = stepper(input, host.name, steps)
  const env = envFileFor(render.secrets, input.secrets, input.project, host.name)
  const exec = await step('connect', () => input.connector.get(host.name))
  // The container listing goes out with the facts (a second channel of the same connection): when
  // the release is the same, its answer is usually in by the time the facts are.
  const listing = listProject(exec, render.composeProject).then(
    (containers) => ({ containers }),
    (error: unknown) => ({ error }),
  )
  const quick = await step('facts', () => quickFacts(exec, host.baseDir))
  const { machine } = whoAmI()
  if (quick.lock?.machine === machine && quick.lock.pid !== null && quick.lock.token && !processAlive(quick.lock.pid)) {
    // Left by a deploy from this machine that died or was cut off: nobody else can release it.
    await step('stale lock', () =>
      exec.run(releaseLock(host.baseDir, quick.lock!.token!), { check: false, timeoutMs: 20_000 }),
    )
  }
  const wanted = { hash: render.hash, envSha256: envDigest(env) }
  // an unrecorded release is looked at again under the lock, where it is recorded first
  if (!quick.recorded || !needsContainers(quick, wanted, false))
    return { exec, quick, env, ready: false, containers: null, steps }
  const containers = await step('check', async () => {
    const answer = await listing
    if ('error' in answer) throw answer.error
    return answer.containers
  })
  return {
    exec,
    quick,
    env,
    ready: decideHost(quick, wanted, containers, renderTarget(render).expected, false).action === 'unchanged',
    containers,
    steps,
  }
}

export async function deployHost(
  input: DeployInput,
  options: DeployOptions,
  host: PlanHost,
  render: HostRender,
  probed: Promise<Probe> | null,
): Promise<HostReport> {
  const started = Date.now()
  const report: HostReport = {
    host: host.name,
    status: 'failed',
    durationMs: 0,
    release: null,
    previous: null,
    compose: null,
    services: [],
    steps: [],
  }
  const finish = (): HostReport => {
    report.durationMs = Date.now() - started
    return report
  }
  let exec: Executor | null = null
  let lockHeld: string | null = null
  let stopHeartbeat: (() => void) | null = null
  /** What the host ran when the lock was taken: the only release a rollback may go back to. */
  let before: ReleaseRecord | null = null
  let switched: string | null = null
  let unpacked: string | null = null
  let facts: HostFacts | null = null
  /** `current` held a release.json that is no record of ours: there is nothing known to go back to. */
  let unreadable = false
  let known: string | null = null
  const lost = (name: string, error: unknown): unknown => {
    report.failedStep = name
    if (!exec?.lost) return error
    const state = switched
      ? `the host was switched to ${switched} and may run it unrecorded: the next deploy records it and goes on from there`
      : `nothing was switched: the host still runs ${before?.id ?? facts?.current?.id ?? known ?? 'what it ran'}`
    return new UserError(
      `${host.name}: the connection was lost during ${name}; ${state}`,
      lockHeld
        ? `Its deploy lock stays until this machine's next deploy takes it over (its holder is gone), or \`ai-platform lock release ${host.name}\`.`
        : undefined,
    )
  }
  const step = stepper(input, host.name, report.steps, lost)
  try {
    const target = renderTarget(render)
    let env: string
    if (probed) {
      const found = await probed
      report.steps.push(...found.steps)
      known = found.quick.current?.id ?? null
      env = found.env
      // probed at the start of the run: a host of a later wave may have dropped its connection since
      exec = found.exec.lost ? await step('connect', () => input.connector.get(host.name)) : found.exec
      if (found.ready) {
        report.release = found.quick.current!.id
        report.previous = found.quick.current!.id
        report.services = serviceStates(target.expected, found.containers!)
        report.status = 'unchanged'
        return finish()
      }
    } else {
      env = envFileFor(render.secrets, input.secrets, input.project, host.name)
      exec = await step('connect', () => input.connector.get(host.name))
    }
    const executor = exec
    facts = await step(
      'preflight',
      () => hostPreflight(executor, input, host),
      (f) => `compose ${f.compose.variant} ${f.compose.version}`,
    )
    report.compose = `${facts.compose.variant} ${facts.compose.version}`

    const token = lockToken()
    // ours from the moment the script may have placed it: releasing checks the token
    lockHeld = token
    const underLock = await step(
      'lock',
      () => lockHost(executor, host, token, options),
      (q) => (q.current ? `running ${q.current.id}` : 'no release yet'),
    )
    stopHeartbeat = keepLockFresh(executor, host.baseDir, token)
    before = underLock.current
    unreadable = underLock.unreadable
    report.previous = before?.id ?? null

    if (before && !underLock.recorded) {
      // A deploy switched to it and was cut off before recording: say so, and record it, before anything else.
      const recovered = before
      await step(
        'reconcile',
        () =>
          recordAndPrune(
            executor,
            host.baseDir,
            historyLine(recovered, 'recovered', options, { note: 'switched but not recorded' }),
            input.project.platform.releasesKeep,
          ),
        () => `recovered: release ${recovered.id} was switched but not recorded`,
      )
      report.recovered = recovered.id
    }

    const wanted = { hash: render.hash, envSha256: envDigest(env) }
    const containers = needsContainers(underLock, wanted, options.force)
      ? await step('check', () => listProject(executor, render.composeProject, { signal: options.abort }))
      : null
    // a recovered release (recorded just now) is repaired, not called unchanged: its checks never ran
    const decision = decideHost(underLock, wanted, containers, target.expected, options.force)
    const compose = (releaseIdOf: string): ComposeTarget => ({
      compose: facts!.compose,
      project: render.composeProject,
      baseDir: host.baseDir,
      releaseId: releaseIdOf,
    })

    if (decision.action === 'unchanged') {
      // Another deploy put this very render there while this one waited for the lock.
      report.release = decision.current.id
      report.services = serviceStates(target.expected, containers!)
      report.status = 'unchanged'
      return finish()
    }
    if (decision.action === 'repair') {
      // Same release, but containers are missing or stopped: converge without a new release.
      const current = decision.current
      report.release = current.id
      await step('up', () =>
        executor.run(composeUp(compose(current.id)), { timeoutMs: 30 * 60_000, signal: options.abort }),
      )
      report.services = await step('health', () =>
        waitHealthy(executor, input.project, target, { ...options, redact: input.redact }, progress(input, host.name)),
      )
      await step('record', () =>
        recordAndPrune(
          executor,
          host.baseDir,
          historyLine(current, 'repaired', options),
          input.project.platform.releasesKeep,
        ),
      )
      report.status = 'repaired'
      return finish()
    }

    const now = (options.now ?? (() => new Date()))()
    const id = releaseId(now, render.hash)
    const record = buildRecord(render, {
      id,
      platform: input.plan.platform,
      now,
      previous: before?.id ?? null,
      tool: options.tool,
    })
    report.release = id
    const tarball = await releaseTarball(render, env, record)
    await step(
      'upload',
      () => executor.run(unpackRelease(host.baseDir, id), { stdin: tarball, timeoutMs: 5 * 60_000 }),
      () => `${(tarball.length / 1024).toFixed(1)} KiB`,
    )
    unpacked = id
    // On-demand services an operator started keep running, on the new release; those this release
    // makes on demand stop (read before the switch).
    const onDemand = render.services.some((s) => s.tier === 'on-demand')
      ? onDemandChanges(
          render.services,
          containers ??
            (await step('check', () => listProject(executor, render.composeProject, { signal: options.abort }))),
          before?.services ?? [],
        )
      : { keep: [], stop: [] }
    // What the release runs, and the on-demand services it keeps running: pulled before the switch,
    // with the registry's log-in given per pull (the host keeps no credential).
    const images = [
      ...new Set(
        render.services.filter((s) => s.tier !== 'on-demand' || onDemand.keep.includes(s.name)).map((s) => s.image),
      ),
    ]
    await step(
      'images',
      () =>
        ensureImages(executor, images, {
          pull: options.pull,
          login: loginFor(input.project.platform, input.secrets, images),
          signal: options.abort,
          onProgress: (_image, text) => input.emit({ type: 'progress', host: host.name, step: 'images', text }),
        }),
      (pulled) => (pulled.length > 0 ? `pulled ${pulled.join(', ')}` : 'all present'),
    )
    // Marked before the command: a link lost while it runs leaves the host on either side of it.
    switched = id
    await step('switch', () => executor.run(switchCurrent(host.baseDir, id)))
    const rolling = render.services.filter(
      (s): s is RenderedService & { rollout: { batch: number; pauseS: number } } =>
        s.rollout !== undefined && s.tier !== 'on-demand' && !s.oneshot && s.replicas > 0,
    )
    if (before && rolling.length > 0) {
      const rolled = await step(
        'rollout',
        async () => {
          const done: RolloutResult[] = []
          for (const service of rolling) {
            const result = await rollOut(executor, compose(id), service, {
              healthTimeoutS: options.healthTimeoutS,
              ...(options.readTimeoutMs ? { readTimeoutMs: options.readTimeoutMs } : {}),
              abort: options.abort,
              onProgress: progress(input, host.name, 'rollout'),
            })
            if (result) done.push(result)
          }
          return done
        },
        (done) =>
          done.length === 0
            ? 'no replica to replace'
            : done.map((r) => `${r.service}: ${r.replaced} replaced in ${r.batches} batches`).join(', '),
      )
      if (rolled.length > 0) report.rollouts = rolled
    }
    await step('up', () => executor.run(composeUp(compose(id)), { timeoutMs: 30 * 60_000, signal: options.abort }))
    report.services = await step('health', () =>
      waitHealthy(executor, input.project, target, { ...options, redact: input.redact }, progress(input, host.name)),
    )
    // After the health gate: a release that fails it is rolled back before any on-demand service moves.
    if (onDemand.keep.length > 0 || onDemand.stop.length > 0)
      await step(
        'on-demand',
        async () => {
          const run = { timeoutMs: 30 * 60_000, signal: options.abort }
          if (onDemand.stop.length > 0) await executor.run(composeRemoveServices(compose(id), onDemand.stop), run)
          if (onDemand.keep.length > 0) await executor.run(composeStartServices(compose(id), onDemand.keep), run)
        },
        () =>
          [
            onDemand.keep.length > 0 ? `kept running: ${onDemand.keep.join(', ')}` : '',
            onDemand.stop.length > 0 ? `stopped (now on demand): ${onDemand.stop.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; '),
      )
    await step('record', () =>
      recordAndPrune(
        executor,
        host.baseDir,
        historyLine(record, 'deployed', options, { healthy: true }),
        input.project.platform.releasesKeep,
      ),
    )
    report.status = 'deployed'
    return finish()
  } catch (error) {
    report.status = 'failed'
    report.error = input.redact(errorMessage(error))
    if (error instanceof UserError && error.hint) report.hint = error.hint
    if (exec?.lost) {
      report.rollback = switched
        ? {
            status: 'failed',
            release: before?.id ?? null,
            error: `not attempted: the connection to ${host.name} is lost`,
          }
        : { status: 'none', release: before?.id ?? null }
    } else if (switched && !before && unreadable) {
      report.rollback = {
        status: 'failed',
        release: null,
        error: `not attempted: the release ${host.name} ran has no readable release.json, so there is nothing known to go back to; the new release is left in place`,
      }
    } else if (switched && exec && facts) {
      const failed = { id: switched, hash: render.hash, previous: before?.id ?? null }
      report.rollback = await rollBackFailed(
        input,
        options,
        exec,
        host,
        facts,
        render.composeProject,
        failed,
        before,
        report,
      ).catch((e: unknown) => ({
        status: 'failed' as const,
        release: before?.id ?? null,
        error: input.redact(errorMessage(e)),
      }))
    } else if (exec) {
      // Nothing was switched: the host still runs what it ran; drop the unused upload.
      const upload = unpacked
      if (upload) await exec.run(removeRelease(host.baseDir, upload), { check: false }).catch(() => undefined)
      report.rollback = { status: 'none', release: before?.id ?? facts?.current?.id ?? null }
    }
    return finish()
  } finally {
    stopHeartbeat?.()
    const executor = exec
    if (executor && lockHeld && !executor.lost)
      await executor
        .run(releaseLock(host.baseDir, lockHeld), { check: false, timeoutMs: 20_000 })
        .catch(() => undefined)
  }
}
