// The engine's pure decisions: what to do with one host, and which hosts of a plan start, wait, are
// skipped or cancelled.
import { describe, expect, it } from 'vitest'
import type { ContainerState } from '../../../src/deploy/containers.js'
import {
  onDemandChanges,
  decideHost,
  dependentsOf,
  isGood,
  needsContainers,
  runsRender,
  schedule,
  type SchedulablePlan,
  type HostOutcome,
  type SchedulableHost,
} from '../../../src/deploy/decide.js'
import type { ReleaseRecord } from '../../../src/deploy/release.js'

function release(day: number, hash: string): ReleaseRecord {
  return {
    id: `202611${String(day).padStart(2, '0')}T000000Z-${hash.repeat(8)}`,
    host: 'h',
    platform: 'p',
    composeProject: 'ai-platform',
    hash: hash.repeat(64),
    createdAt: '2026-11-01T00:00:00.000Z',
    by: { user: 'u', machine: 'm' },
    services: [],
    files: [],
    previous: null,
    tool: 't',
  }
}
function container(service: string, state: string, health = 'none', created = 1): ContainerState {
  return {
    id: `${created}`.padStart(12, '0'),
    name: service,
    service,
    configHash: '',
    image: 'i',
    state,
    health,
    exitCode: state === 'exited' ? 1 : null,
    status: '',
    created,
  }
}

describe('decideHost (what to do with one host)', () => {
  const env = 'e'.repeat(64)
  const wanted = { hash: 'b'.repeat(64), envSha256: env }
  const runs = release(2, 'b')
  const facts = { current: runs, envSha256: env, recorded: true }
  const expected = [
    { name: 'app', oneshot: false, replicas: 1 },
    { name: 'init', oneshot: true, replicas: 1 },
  ]
  const up = [container('app', 'running', 'healthy'), { ...container('init', 'exited', 'none', 2), exitCode: 0 }]

  it('this very render, recorded, every container ready: unchanged', () => {
    expect(decideHost(facts, wanted, up, expected, false)).toEqual({ action: 'unchanged', current: runs })
  })

  it('this render but a container missing, stopped, unhealthy or still starting: repair', () => {
    expect(decideHost(facts, wanted, up.slice(0, 1), expected, false)).toEqual({ action: 'repair', current: runs })
    expect(decideHost(facts, wanted, [container('app', 'exited'), up[1]!], expected, false)).toEqual({
      action: 'repair',
      current: runs,
    })
    expect(decideHost(facts, wanted, [container('app', 'running', 'unhealthy'), up[1]!], expected, false)).toEqual({
      action: 'repair',
      current: runs,
    })
    expect(decideHost(facts, wanted, [container('app', 'running', 'starting'), up[1]!], expected, false)).toEqual({
      action: 'repair',
      current: runs,
    })
    // not listed at all
    expect(decideHost(facts, wanted, null, expected, false)).toEqual({ action: 'repair', current: runs })
  })

  it('a release switched to but never recorded is repaired even with its containers up: its checks never ran', () => {
    expect(decideHost({ ...facts, recorded: false }, wanted, up, expected, false)).toEqual({
      action: 'repair',
      current: runs,
    })
  })

  it('other files, another .env, --force or nothing running: a new release on top of what runs', () => {
    expect(decideHost(facts, wanted, up, expected, true)).toEqual({ action: 'deploy', previous: runs })
    expect(decideHost({ ...facts, envSha256: 'f'.repeat(64) }, wanted, up, expected, false)).toEqual({
      action: 'deploy',
      previous: runs,
    })
    expect(decideHost({ ...facts, envSha256: null }, wanted, up, expected, false)).toEqual({
      action: 'deploy',
      previous: runs,
    })
    // another deploy landed while this one waited: it is what a failure goes back to
    const landed = release(3, 'c')
    expect(decideHost({ current: landed, envSha256: env, recorded: true }, wanted, up, expected, false)).toEqual({
      action: 'deploy',
      previous: landed,
    })
    expect(decideHost({ current: null, envSha256: null, recorded: true }, wanted, null, expected, false)).toEqual({
      action: 'deploy',
      previous: null,
    })
  })

  it('containers are listed only where the host could be left alone', () => {
    expect(runsRender(facts, wanted)).toBe(true)
    expect(needsContainers(facts, wanted, false)).toBe(true)
    expect(needsContainers(facts, wanted, true)).toBe(false)
    expect(needsContainers({ ...facts, current: release(2, 'c') }, wanted, false)).toBe(false)
    expect(needsContainers({ current: null, envSha256: env }, wanted, false)).toBe(false)
  })
})

/** db <- web1, web2 <- edge (on web1); mon independent; ext is outside the plan. */
const plan: SchedulableHost[] = [
  { name: 'db', dependsOn: [] },
  { name: 'mon', dependsOn: [] },
  { name: 'web1', dependsOn: [{ host: 'db' }, { host: 'ext' }] },
  { name: 'web2', dependsOn: [{ host: 'db' }] },
  { name: 'edge', dependsOn: [{ host: 'web1' }] },
]
const state = (
  finished: Record<string, HostOutcome> = {},
  running: string[] = [],
  concurrency = 10,
  stopped = false,
  unchanged: string[] = [],
) => ({
  finished: new Map(Object.entries(finished)),
  running: new Set(running),
  unchanged: new Set(unchanged),
  concurrency,
  stopped,
})

/** A plan whose stacks set no max_unavailable_hosts. */
const unbounded = (hosts: SchedulableHost[]): SchedulablePlan => ({ hosts, limits: [] })

describe('what a failure skips', () => {
  it('the dependents of a failed host, transitively, in plan order; independent hosts are not touched', () => {
    expect(dependentsOf(plan, 'db')).toEqual(['web1', 'web2', 'edge'])
    expect(dependentsOf(plan, 'web1')).toEqual(['edge'])
    expect(dependentsOf(plan, 'mon')).toEqual([])
    // a dependent listed before its dependency is still reached
    expect(dependentsOf([...plan].reverse(), 'db')).toEqual(['edge', 'web2', 'web1'])
  })

  it('only deployed, unchanged and repaired hosts let their dependents start', () => {
    expect((['deployed', 'unchanged', 'repaired', 'failed', 'skipped', 'cancelled'] as const).map(isGood)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ])
    expect(isGood(undefined)).toBe(false)
  })

  it('schedule ends exactly the dependents of a failure, naming the host each waited for', () => {
    const step = schedule(unbounded(plan), state({ db: 'failed' }, ['mon']))
    expect(step.end).toEqual([
      { host: 'web1', status: 'skipped', reason: 'depends on db, which did not deploy' },
      { host: 'web2', status: 'skipped', reason: 'depends on db, which did not deploy' },
      { host: 'edge', status: 'skipped', reason: 'depends on web1, which did not deploy' },
    ])
    expect(step.end.map((e) => e.host)).toEqual(dependentsOf(plan, 'db'))
    expect(step.start).toEqual([])
    // a dependent listed before the host it waits for is skipped too, in the list's order
    const reversed = schedule(unbounded([...plan].reverse()), state({ db: 'failed', mon: 'deployed' })).end
    expect(reversed.map((e) => [e.host, e.reason])).toEqual([
      ['edge', 'depends on web1, which did not deploy'],
      ['web2', 'depends on db, which did not deploy'],
      ['web1', 'depends on db, which did not deploy'],
    ])
  })

  it('a failure of a leaf skips nothing; its siblings go on', () => {
    const step = schedule(unbounded(plan), state({ db: 'deployed', web1: 'deployed', web2: 'failed' }, ['mon']))
    expect(step.end).toEqual([])
    expect(step.start).toEqual(['edge'])
  })
})

describe('which hosts start now', () => {
  it('first the hosts with no dependency in the plan; a host outside the plan is not waited for', () => {
    expect(schedule(unbounded(plan), state())).toEqual({
      start: ['db', 'mon'],
      end: [],
      waiting: ['web1', 'web2', 'edge'],
    })
    expect(schedule(unbounded(plan), state({ db: 'unchanged' }, ['mon']))).toEqual({
      start: ['web1', 'web2'],
      end: [],
      waiting: ['edge'],
    })
    expect(
      schedule(unbounded(plan), state({ db: 'repaired', mon: 'deployed', web1: 'deployed' }, ['web2'])).start,
    ).toEqual(['edge'])
  })

  it('a dependency in flight holds its dependents back', () => {
    expect(schedule(unbounded(plan), state({}, ['db', 'mon']))).toEqual({
      start: [],
      end: [],
      waiting: ['web1', 'web2', 'edge'],
    })
  })

  it('never more than --concurrency in flight, counting those already running', () => {
    const flat: SchedulableHost[] = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, dependsOn: [] }))
    expect(schedule(unbounded(flat), state({}, [], 2)).start).toEqual(['a', 'b'])
    expect(schedule(unbounded(flat), state({ a: 'deployed' }, ['b'], 2)).start).toEqual(['c'])
    expect(schedule(unbounded(flat), state({}, ['a', 'b'], 2)).start).toEqual([])
    expect(schedule(unbounded(flat), state({}, [], 1))).toEqual({
      start: ['a'],
      end: [],
      waiting: ['b', 'c', 'd', 'e'],
    })
  })

  it('stopped (first Ctrl-C): nothing starts, every host not started is cancelled, those in flight go on', () => {
    const step = schedule(unbounded(plan), state({ db: 'deployed' }, ['web1'], 10, true))
    expect(step.start).toEqual([])
    expect(step.end).toEqual([
      { host: 'mon', status: 'cancelled', reason: 'interrupted before it started' },
      { host: 'web2', status: 'cancelled', reason: 'interrupted before it started' },
      { host: 'edge', status: 'cancelled', reason: 'interrupted before it started' },
    ])
  })

  it('stopped before anything started: every host is cancelled, not skipped for a dependency cancelled with it; a failure still skips', () => {
    expect(schedule(unbounded(plan), state({}, [], 10, true)).end.map((e) => `${e.host} ${e.status}`)).toEqual([
      'db cancelled',
      'mon cancelled',
      'web1 cancelled',
      'web2 cancelled',
      'edge cancelled',
    ])
    expect(
      schedule(unbounded(plan), state({ db: 'failed' }, [], 10, true)).end.map((e) => `${e.host} ${e.status}`),
    ).toEqual(['mon cancelled', 'web1 skipped', 'web2 skipped', 'edge skipped'])
  })

  it('a cycle leaves every host waiting and nothing to start (the engine refuses it)', () => {
    expect(
      schedule(
        unbounded([
          { name: 'a', dependsOn: [{ host: 'b' }] },
          { name: 'b', dependsOn: [{ host: 'a' }] },
        ]),
        state(),
      ),
    ).toEqual({ start: [], end: [], waiting: ['a', 'b'] })
  })
})

/** gpu1..gpu4 run stack ollama (at most 2 at once), gw needs gpu1; mon runs node-exporter, as does every gpu host. */
const fleet: SchedulablePlan = {
  hosts: [
    { name: 'gpu1', dependsOn: [] },
    { name: 'gpu2', dependsOn: [] },
    { name: 'gpu3', dependsOn: [] },
    { name: 'gpu4', dependsOn: [] },
    { name: 'mon', dependsOn: [] },
    { name: 'gw', dependsOn: [{ host: 'gpu1' }] },
  ],
  limits: [
    { stack: 'ollama', maxUnavailableHosts: 2, hosts: ['gpu1', 'gpu2', 'gpu3', 'gpu4'] },
    { stack: 'node-exporter', maxUnavailableHosts: 3, hosts: ['gpu1', 'gpu2', 'gpu3', 'gpu4', 'mon'] },
  ],
}

describe("a stack's max_unavailable_hosts", () => {
  it('at most N of its hosts start, the others wait; hosts outside it are not held back', () => {
    expect(schedule(fleet, state())).toEqual({
      start: ['gpu1', 'gpu2', 'mon'],
      end: [],
      waiting: ['gpu3', 'gpu4', 'gw'],
    })
  })

  it('counts the hosts already in flight, and frees a slot as each ends, whatever its outcome but failed', () => {
    expect(schedule(fleet, state({}, ['gpu1', 'gpu2'])).start).toEqual(['mon'])
    expect(schedule(fleet, state({ gpu1: 'deployed' }, ['gpu2'])).start).toEqual(['gpu3', 'mon', 'gw'])
    expect(schedule(fleet, state({ gpu1: 'repaired', gpu2: 'skipped' }, [])).start).toEqual([
      'gpu3',
      'gpu4',
      'mon',
      'gw',
    ])
  })

  it('every limit a host falls under holds: the tightest one decides', () => {
    // node-exporter allows 3: gpu1, gpu2 and mon in flight leave it one slot, which ollama's bound refuses to gpu3
    expect(schedule(fleet, state({}, ['gpu1', 'gpu2', 'mon'])).start).toEqual([])
    expect(schedule(fleet, state({ gpu1: 'deployed' }, ['gpu2', 'mon'])).start).toEqual(['gpu3', 'gw'])
    // mon waits when node-exporter's three slots are taken by the gpu hosts
    expect(schedule(fleet, state({}, ['gpu1', 'gpu2', 'gpu3'])).waiting).toEqual(['gpu4', 'mon', 'gw'])
  })

  it('never more than --concurrency either', () => {
    expect(schedule(fleet, state({}, [], 1)).start).toEqual(['gpu1'])
  })

  it('a host known unchanged takes no slot, in flight or starting', () => {
    expect(schedule(fleet, state({}, ['gpu1', 'gpu2'], 10, false, ['gpu1'])).start).toEqual(['gpu3', 'mon'])
    expect(schedule(fleet, state({}, [], 10, false, ['gpu1', 'gpu2', 'gpu3'])).start).toEqual([
      'gpu1',
      'gpu2',
      'gpu3',
      'gpu4',
      'mon',
    ])
  })

  it("a failed host stops its stacks' rollouts: their hosts not started are skipped, those known unchanged go on", () => {
    const step = schedule(fleet, state({ gpu2: 'failed' }, ['gpu1'], 10, false, ['gpu4']))
    expect(step.end).toEqual([
      {
        host: 'gpu3',
        status: 'skipped',
        reason: 'the rollout of stack ollama (gpu2 failed), stack node-exporter (gpu2 failed) stopped',
      },
      {
        host: 'mon',
        status: 'skipped',
        reason: 'the rollout of stack node-exporter (gpu2 failed) stopped',
      },
    ])
    expect(step.start).toEqual(['gpu4'])
    expect(step.waiting).toEqual(['gw'])
    // a host skipped for its dependency stops no rollout: it was never touched
    expect(schedule(fleet, state({ gpu1: 'skipped' }, [])).end).toEqual([
      { host: 'gw', status: 'skipped', reason: 'depends on gpu1, which did not deploy' },
    ])
  })

  it('a host skipped by a stopped rollout skips its dependents in turn', () => {
    const ended = schedule(fleet, state({ gpu2: 'failed' }, [])).end.map((e) => e.host)
    expect(ended).toEqual(['gpu1', 'gpu3', 'gpu4', 'mon'])
    expect(schedule(fleet, state({ gpu2: 'failed', gpu1: 'skipped' }, [])).end).toContainEqual({
      host: 'gw',
      status: 'skipped',
      reason: 'depends on gpu1, which did not deploy',
    })
  })
})

describe('onDemandChanges: what a new release does with the on-demand services that run', () => {
  const services = [
    { name: 'app', tier: 'core' },
    { name: 'comfyui', tier: 'on-demand' },
    { name: 'tempo', tier: 'on-demand' },
    { name: 'agent', tier: 'on-demand' },
    { name: 'exporter', tier: 'on-demand' },
  ]
  const previous = [
    { name: 'app', tier: 'core' },
    { name: 'comfyui', tier: 'on-demand' },
    { name: 'tempo', tier: 'on-demand' },
    { name: 'agent', tier: 'on-demand' },
    { name: 'exporter', tier: 'core' },
  ]
  it('keeps those an operator started (on demand before too), sorted; stops those that become on demand; leaves the rest', () => {
    expect(
      onDemandChanges(
        services,
        [
          { service: 'app', state: 'running' },
          { service: 'tempo', state: 'running' },
          { service: 'comfyui', state: 'restarting' },
          { service: 'agent', state: 'exited' },
          { service: 'gone', state: 'running' },
          { service: 'exporter', state: 'running' },
        ],
        previous,
      ),
    ).toEqual({ keep: ['comfyui', 'tempo'], stop: ['exporter'] })
    expect(onDemandChanges(services, [], previous)).toEqual({ keep: [], stop: [] })
    // a first release: whatever runs of its on-demand services was not started by an operator
    expect(onDemandChanges(services, [{ service: 'tempo', state: 'running' }], [])).toEqual({
      keep: [],
      stop: ['tempo'],
    })
  })
})
