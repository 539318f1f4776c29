// The deploy engine's decisions, as pure functions of what it knows: what to do with one host (from
// the facts read on it, the render and its containers), and which hosts of the plan start, wait, are
// skipped or are cancelled as the run goes. engine.ts and host-deploy.ts apply them; the unit tests
// in test/unit/deploy/decide.test.ts pin them.
import { evaluateReadiness, type ContainerState, type ExpectedService } from './containers.js'
import type { ReleaseRecord } from './release.js'

/** What a host runs, as read from it (before its lock by the probe, or under it). */
export interface RunningFacts {
  current: ReleaseRecord | null
  envSha256: string | null
  /** Whether history.jsonl names the live release (false: a deploy switched to it and was cut off). */
  recorded: boolean
}

/** What this run would put on the host: the render's bundle hash and the sha256 of its .env. */
export interface WantedRelease {
  hash: string
  envSha256: string
}

export type HostDecision =
  | { action: 'unchanged'; current: ReleaseRecord }
  | { action: 'repair'; current: ReleaseRecord }
  | { action: 'deploy'; previous: ReleaseRecord | null }

/** Whether a host runs exactly this render: the same bundle hash and the same .env. */
export function runsRender(facts: Pick<RunningFacts, 'current' | 'envSha256'>, wanted: WantedRelease): boolean {
  return facts.current !== null && facts.current.hash === wanted.hash && facts.envSha256 === wanted.envSha256
}

/** Whether the containers are worth listing: only a host that runs this very render can be left alone. */
export function needsContainers(
  facts: Pick<RunningFacts, 'current' | 'envSha256'>,
  wanted: WantedRelease,
  force: boolean,
): boolean {
  return !force && runsRender(facts, wanted)
}

/**
 * What to do with a host: nothing when it runs this very render, recorded, with every expected
 * container ready; bring the containers back (repair) when it runs this render but they are not, or
 * the release was never recorded (its checks never ran); otherwise a new release on top of what it
 * runs (`previous`, the release a failure goes back to). `containers` null: not listed.
 */
export function decideHost(
  facts: RunningFacts,
  wanted: WantedRelease,
  containers: readonly ContainerState[] | null,
  expected: readonly ExpectedService[],
  force: boolean,
): HostDecision {
  if (!needsContainers(facts, wanted, force) || facts.current === null)
    return { action: 'deploy', previous: facts.current }
  const ready = facts.recorded && containers !== null && evaluateReadiness(expected, containers).ready
  return ready ? { action: 'unchanged', current: facts.current } : { action: 'repair', current: facts.current }
}

/**
 * What a new release does with the on-demand services that run now. Those that were on demand in the
 * release the host ran were started by an operator (`ai-platform up`): `keep` them, started again by
 * name on the new release (`compose up` without their profile neither stops them, since Compose v1 and
 * v2 count a service of an inactive profile as no orphan, nor moves them onto the new release). Those
 * that become on demand with this release were started by a deploy: `stop` them, as their new tier
 * says. A restarting one counts as running.
 */
export function onDemandChanges(
  services: readonly { name: string; tier: string }[],
  containers: readonly Pick<ContainerState, 'service' | 'state'>[],
  previous: readonly { name: string; tier: string }[],
): { keep: string[]; stop: string[] } {
  const running = new Set(
    containers.filter((c) => c.state === 'running' || c.state === 'restarting').map((c) => c.service),
  )
  const wasOnDemand = new Set(previous.filter((s) => s.tier === 'on-demand').map((s) => s.name))
  const runningOnDemand = services
    .filter((s) => s.tier === 'on-demand' && running.has(s.name))
    .map((s) => s.name)
    .sort()
  return {
    keep: runningOnDemand.filter((name) => wasOnDemand.has(name)),
    stop: runningOnDemand.filter((name) => !wasOnDemand.has(name)),
  }
}

/** How a host's run ended, as far as scheduling is concerned. */
export type HostOutcome = 'deployed' | 'unchanged' | 'repaired' | 'failed' | 'skipped' | 'cancelled'

/** A host whose dependents may start: it runs its release, up and healthy. */
export function isGood(outcome: HostOutcome | undefined): boolean {
  return outcome === 'deployed' || outcome === 'unchanged' || outcome === 'repaired'
}

/** A host of the plan as the scheduler sees it: its name and the hosts it depends on. */
export interface SchedulableHost {
  name: string
  dependsOn: readonly { host: string }[]
}

/** The hosts a failure of `failed` skips: its dependents in the plan, and theirs, in plan order. */
export function dependentsOf(hosts: readonly SchedulableHost[], failed: string): string[] {
  const reached = new Set([failed])
  let grew = true
  while (grew) {
    grew = false
    for (const host of hosts) {
      if (!reached.has(host.name) && host.dependsOn.some((d) => reached.has(d.host))) {
        reached.add(host.name)
        grew = true
      }
    }
  }
  return hosts.map((h) => h.name).filter((name) => name !== failed && reached.has(name))
}

/** A stack's bound: at most `maxUnavailableHosts` of `hosts` deploying at once (src/plan/plan.ts StackLimit). */
export interface SchedulableLimit {
  stack: string
  maxUnavailableHosts: number
  hosts: readonly string[]
}

/** What the scheduler reads of the plan: its hosts in plan order and the stacks' limits. */
export interface SchedulablePlan {
  hosts: readonly SchedulableHost[]
  limits: readonly SchedulableLimit[]
}

export interface ScheduleState {
  /** Hosts that ended, and how. */
  finished: ReadonlyMap<string, HostOutcome>
  /** Hosts in flight. */
  running: ReadonlySet<string>
  /** Hosts known to run their render already (the probe said so): they take no slot of a stack's limit. */
  unchanged: ReadonlySet<string>
  concurrency: number
  /** The first Ctrl-C: nothing new starts. */
  stopped: boolean
}

export interface ScheduleStep {
  /** Start these now, in plan order. */
  start: string[]
  /**
   * End these without touching them: a dependency did not deploy, or a host of a bounded stack failed
   * (skipped), or the run was stopped (cancelled).
   */
  end: { host: string; status: 'skipped' | 'cancelled'; reason: string }[]
  /** Hosts that must wait: for a dependency in flight or not started, or for a free slot. */
  waiting: string[]
}

/**
 * The next step of a run: which of the hosts neither finished nor running start now (every host they
 * depend on in the plan is good, fewer than `concurrency` are in flight, and each bounded stack they
 * run has fewer than its `maxUnavailableHosts` in flight), which end untouched, and which wait.
 * Dependencies outside the plan are not waited for. The dependents of a host that did not deploy are
 * skipped, transitively, each naming the hosts it waited for. A host known unchanged takes no slot of
 * a stack's limit (it is not taken down); every other host in flight does, whatever it turns out to do.
 * A failed host stops the rollout of each bounded stack it runs: their hosts not started are skipped
 * (the same render would likely fail the same way, and each failure takes a host down for its health
 * wait and rollback), except those known unchanged, which are left alone. Once stopped, every other
 * host not started is cancelled (its dependents too: none of them was started either).
 */
export function schedule(plan: SchedulablePlan, state: ScheduleState): ScheduleStep {
  const { hosts, limits } = plan
  const inPlan = new Set(hosts.map((h) => h.name))
  const open = hosts.filter((h) => !state.finished.has(h.name) && !state.running.has(h.name))
  const notGood = hosts
    .filter((h) => state.finished.has(h.name) && !isGood(state.finished.get(h.name)))
    .map((h) => h.name)
  const doomed = new Set(notGood.flatMap((name) => dependentsOf(hosts, name)))
  const failedIn = (limit: SchedulableLimit) => limit.hosts.filter((h) => state.finished.get(h) === 'failed')
  const takesSlot = (name: string) => !state.unchanged.has(name)
  // in flight per bounded stack: its hosts running that are not known unchanged
  const unavailable = new Map(
    limits.map((l) => [l.stack, l.hosts.filter((h) => state.running.has(h) && takesSlot(h)).length]),
  )
  const step: ScheduleStep = { start: [], end: [], waiting: [] }
  let inFlight = state.running.size
  for (const host of open) {
    const bounds = takesSlot(host.name) ? limits.filter((l) => l.hosts.includes(host.name)) : []
    const halted = bounds.filter((l) => failedIn(l).length > 0)
    if (doomed.has(host.name)) {
      const bad = host.dependsOn.map((d) => d.host).filter((d) => notGood.includes(d) || doomed.has(d))
      step.end.push({
        host: host.name,
        status: 'skipped',
        reason: `depends on ${bad.join(', ')}, which did not deploy`,
      })
    } else if (halted.length > 0) {
      const why = halted.map((l) => `stack ${l.stack} (${failedIn(l).join(', ')} failed)`)
      step.end.push({ host: host.name, status: 'skipped', reason: `the rollout of ${why.join(', ')} stopped` })
    } else if (state.stopped) {
      step.end.push({ host: host.name, status: 'cancelled', reason: 'interrupted before it started' })
    } else if (
      host.dependsOn.every((d) => !inPlan.has(d.host) || isGood(state.finished.get(d.host))) &&
      inFlight < state.concurrency &&
      bounds.every((l) => unavailable.get(l.stack)! < l.maxUnavailableHosts)
    ) {
      step.start.push(host.name)
      inFlight++
      for (const l of bounds) unavailable.set(l.stack, unavailable.get(l.stack)! + 1)
    } else step.waiting.push(host.name)
  }
  return step
}
