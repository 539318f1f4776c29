// The deploy engine against an in-memory fleet (test/helpers/memory-host.ts): dependency order,
// skipped dependents, --concurrency, a stack's max_unavailable_hosts, Ctrl-C (stop, then abort), the
// automatic rollback after a failed health wait and the manual one. The fleet tier (test/integration) proves the same against real hosts.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Project } from '../../../src/config/model.js'
import {
  deploy,
  rollbackHost,
  type DeployEvent,
  type DeployOptions,
  type DeployReport,
  type RollbackOptions,
} from '../../../src/deploy/engine.js'
import { errorMessage } from '../../../src/errors.js'
import { planRun } from '../../../src/plan/service.js'
import type { HostRender } from '../../../src/render/render.js'
import { loadOk } from '../../helpers/load.js'
import { MemoryFleet } from '../../helpers/memory-host.js'
import { REPO, projectFrom, removeProject } from '../../helpers/project.js'

const FIXTURE = join(REPO, 'test/fixtures/engine')
let project: Project
let origins: Awaited<ReturnType<typeof loadOk>>['origins']

beforeAll(async () => {
  const loaded = await loadOk(FIXTURE)
  project = loaded.project
  origins = loaded.origins
})

let fleet: MemoryFleet
afterEach(() => {
  // every command the engine sent was exactly one a builder makes
  expect(fleet.unknown).toEqual([])
})

function newFleet(): MemoryFleet {
  fleet = new MemoryFleet(Object.fromEntries(project.hostOrder.map((h) => [h, project.hosts[h]!.baseDir])))
  return fleet
}

/** Another version of a host's render: new images, another hash, and checks of its own (`check SERVICE TAG`). */
function version(render: HostRender, tag: string): HostRender {
  return {
    ...render,
    hash: createHash('sha256').update(`${render.hash}:${tag}`).digest('hex'),
    services: render.services.map((s) => ({
      ...s,
      image: `${s.image.replace(/:\d+$/, '')}:${tag}`,
      health: [{ required: true, command: ['check', s.name, tag] }],
    })),
  }
}

/** The render with every service at `replicas` (a change of the compose file, so another hash). */
function scaled(render: HostRender, replicas: number): HostRender {
  return {
    ...render,
    hash: createHash('sha256').update(`${render.hash}:replicas=${replicas}`).digest('hex'),
    services: render.services.map((s) => ({ ...s, replicas })),
  }
}

let minute = 0
interface Run {
  selectors?: string[]
  tag?: string
  /** deploy.replicas of every service rendered (as the render carries it into the release record). */
  replicas?: number
  options?: Partial<DeployOptions>
  stop?: AbortController
  abort?: AbortController
  /** Another model of the fixture (a stack's max_unavailable_hosts set). */
  project?: Project
  /** The secrets file's values (none by default). */
  secrets?: ReadonlyMap<string, string>
}

async function run(spec: Run = {}): Promise<{ report: DeployReport; events: DeployEvent[] }> {
  const { plan, renders } = planRun(
    { project: spec.project ?? project, origins, warnings: [] },
    { selectors: spec.selectors ?? [], withDeps: false },
  )
  const events: DeployEvent[] = []
  const report = await deploy(
    {
      project: spec.project ?? project,
      plan,
      renders: renders
        .map((r) => (spec.tag ? version(r, spec.tag) : r))
        .map((r) => (spec.replicas === undefined ? r : scaled(r, spec.replicas))),
      secrets: spec.secrets ?? new Map(),
      connector: fleet.connector(),
      emit: (e) => events.push(e),
      redact: (t) => t,
    },
    {
      force: false,
      concurrency: 10,
      lockWaitS: 0,
      lockStaleS: 900,
      healthTimeoutS: 5,
      pull: 'missing',
      command: 'deploy',
      tool: 'test',
      stop: (spec.stop ?? new AbortController()).signal,
      abort: (spec.abort ?? new AbortController()).signal,
      // one minute apart: every deploy makes a release id of its own
      now: () => new Date(Date.UTC(2026, 10, 1, 0, ++minute)),
      ...spec.options,
    },
  )
  return { report, events }
}

const status = (report: DeployReport) => Object.fromEntries(report.hosts.map((h) => [h.host, h.status]))
const host = (report: DeployReport, name: string) => report.hosts.find((h) => h.host === name)!

describe('deploy: order and waves', () => {
  it('a first deploy puts every host on a recorded, healthy release, a host after the hosts it depends on', async () => {
    newFleet()
    const { report, events } = await run()
    expect(report.ok).toBe(true)
    expect(report.summary).toMatchObject({ deployed: 7, failed: 0, skipped: 0 })
    for (const h of report.hosts) {
      const memory = fleet.host(h.host)
      expect(memory.current).toBe(h.release)
      expect(memory.lock).toBeNull()
      expect(memory.events()).toEqual([
        expect.objectContaining({ event: 'deployed', release: h.release, healthy: true }),
      ])
      expect(memory.log.slice(-7)).toEqual([
        'acquire',
        `unpack ${h.release}`,
        `switch ${h.release}`,
        `up ${h.release}`,
        expect.stringMatching(/^check /),
        'record deployed',
        'release lock',
      ])
    }
    // web1 and web2 start only once db1 is recorded healthy; the independent hosts do not wait for it
    const at = (line: string) => fleet.log.indexOf(line)
    for (const web of ['web1', 'web2']) {
      expect(at(`${web} acquire`)).toBeGreaterThan(at('db1 record deployed'))
      expect(events.findIndex((e) => e.type === 'host-start' && e.host === web)).toBeGreaterThan(
        events.findIndex((e) => e.type === 'host-done' && e.report.host === 'db1'),
      )
    }
    expect(at('solo1 acquire')).toBeLessThan(at('db1 record deployed'))
  })

  it('a second run changes nothing and takes no lock; a crashed container is repaired without a new release', async () => {
    newFleet()
    const first = await run()
    const before = fleet.log.length
    const { report } = await run()
    expect(report.summary).toMatchObject({ unchanged: 7 })
    // probes only: no lock, no switch
    expect(new Set(fleet.log.slice(before).map((l) => l.split(' ')[1]))).toEqual(new Set(['facts']))

    const web1 = fleet.host('web1')
    web1.containers = web1.containers.map((c) => ({ ...c, behaviour: 'exited' as const }))
    const repaired = await run({ selectors: ['web1'] })
    expect(status(repaired.report)).toEqual({ web1: 'repaired' })
    expect(host(repaired.report, 'web1').release).toBe(host(first.report, 'web1').release)
    expect(web1.log.slice(-5)).toEqual([
      'acquire',
      `up ${web1.current}`,
      'check web',
      'record repaired',
      'release lock',
    ])
    expect(web1.releases.size).toBe(1)
  })

  it('a release switched to but never recorded is recorded as recovered, then repaired, never called unchanged', async () => {
    newFleet()
    const first = await run({ selectors: ['solo1'] })
    const memory = fleet.host('solo1')
    // a deploy cut off between its switch and its record
    memory.history = []
    const { report } = await run({ selectors: ['solo1'] })
    const was = host(first.report, 'solo1').release
    expect(host(report, 'solo1')).toMatchObject({ status: 'repaired', release: was, recovered: was })
    expect(memory.events().map((e) => [e.event, e.release])).toEqual([
      ['recovered', was],
      ['repaired', was],
    ])
  })

  it('a failed host skips its dependents, transitively named, while independent hosts go on', async () => {
    newFleet()
    fleet.host('db1').behaviour = () => 'exited'
    const { report } = await run()
    expect(status(report)).toEqual({
      db1: 'failed',
      solo1: 'deployed',
      solo2: 'deployed',
      solo3: 'deployed',
      solo4: 'deployed',
      web1: 'skipped',
      web2: 'skipped',
    })
    expect(host(report, 'web1').reason).toBe('depends on db1, which did not deploy')
    expect(host(report, 'db1').error).toMatch(
      /^db1: db exited with 1; last log lines:\n {4}[0-9a-f]{12}: crashed on start$/,
    )
    expect(host(report, 'db1').failedStep).toBe('health')
    // the web hosts were only probed
    expect(fleet.host('web1').log).toEqual(['facts'])
    expect(fleet.host('web2').log).toEqual(['facts'])
    expect(report.ok).toBe(false)
  })

  it('a host another deploy holds fails with who holds it; nothing is switched and the lock stays theirs', async () => {
    newFleet()
    const theirs = {
      token: 'other:1:1:x',
      user: 'ana',
      machine: 'elsewhere',
      pid: 1,
      command: 'deploy',
      since: '2026-11-01T00:00:00Z',
    }
    fleet.host('db1').lock = theirs
    const { report } = await run({ selectors: ['db1', 'web1'] })
    expect(status(report)).toEqual({ db1: 'failed', web1: 'skipped' })
    expect(host(report, 'db1').error).toMatch(/^db1 is locked by ana@elsewhere/)
    expect(host(report, 'db1').failedStep).toBe('lock')
    expect(host(report, 'db1').rollback).toEqual({ status: 'none', release: null })
    expect(fleet.host('db1').lock).toEqual(theirs)
    expect(fleet.host('db1').current).toBeNull()
  })
})

describe('deploy: failures before and after the switch', () => {
  it('a failure before the switch drops the upload and leaves the host on what it ran: nothing to roll back', async () => {
    newFleet()
    const first = await run({ selectors: ['solo1'] })
    const was = host(first.report, 'solo1').release
    const memory = fleet.host('solo1')
    memory.missing.add('example/solo:v2')
    const { report } = await run({ selectors: ['solo1'], tag: 'v2', options: { pull: 'never' } })
    const failed = host(report, 'solo1')
    expect(failed.error).toBe('solo1: images missing and --pull never: example/solo:v2')
    expect(failed.failedStep).toBe('images')
    expect(failed.rollback).toEqual({ status: 'none', release: was })
    expect(memory.log.slice(-3)).toEqual([`unpack ${failed.release}`, `remove ${failed.release}`, 'release lock'])
    expect([...memory.releases.keys()]).toEqual([was])
    expect(memory.current).toBe(was)
    expect(memory.events().map((e) => e.event)).toEqual(['deployed'])
  })

  it('a connection lost after the switch: no rollback is attempted, the lock stays, and the error says where the host is', async () => {
    newFleet()
    const first = await run({ selectors: ['solo1'] })
    const was = host(first.report, 'solo1').release
    const memory = fleet.host('solo1')
    memory.dropAt = 'up '
    const { report } = await run({ selectors: ['solo1'], tag: 'v2' })
    const failed = host(report, 'solo1')
    expect(failed.error).toBe(
      `solo1: the connection was lost during up; the host was switched to ${failed.release} and may run it unrecorded: the next deploy records it and goes on from there`,
    )
    expect(failed.hint).toMatch(/^Its deploy lock stays until this machine's next deploy takes it over/)
    expect(failed.rollback).toEqual({
      status: 'failed',
      release: was,
      error: 'not attempted: the connection to solo1 is lost',
    })
    expect(memory.current).toBe(failed.release)
    expect(memory.lock?.command).toBe('deploy')
    expect(memory.log.at(-1)).toBe(`switch ${failed.release}`)
  })
})

describe('deploy: --concurrency', () => {
  async function maxInFlight(concurrency: number): Promise<number> {
    newFleet()
    let inFlight = 0
    let max = 0
    // each host takes a little while once it is in flight, so that others could overlap it
    for (const memory of fleet.hosts.values())
      memory.before = (step) => (step.startsWith('up ') ? new Promise((resolve) => setTimeout(resolve, 2)) : undefined)
    const counting = async () => {
      const { report, events } = await run({ selectors: ['@solo'], options: { concurrency } })
      expect(report.summary.deployed).toBe(4)
      return events
    }
    for (const event of await counting()) {
      if (event.type === 'host-start') max = Math.max(max, ++inFlight)
      if (event.type === 'host-done') inFlight--
    }
    // measured on the hosts too: between taking a lock and giving it back
    let held = 0
    let heldMax = 0
    for (const line of fleet.log) {
      if (line.endsWith(' acquire')) heldMax = Math.max(heldMax, ++held)
      if (line.endsWith(' release lock')) held--
    }
    expect(heldMax).toBe(max)
    return max
  }

  it('never more hosts in flight than --concurrency, and as many as it allows', async () => {
    expect(await maxInFlight(2)).toBe(2)
    expect(await maxInFlight(1)).toBe(1)
    expect(await maxInFlight(3)).toBe(3)
  })
})

describe("deploy: a stack's max_unavailable_hosts", () => {
  /** The fixture with stack solo bounded to `max` of its four hosts at once. */
  const bounded = (max: number): Project => ({
    ...project,
    stacks: project.stacks.map((s) => (s.name === 'solo' ? { ...s, maxUnavailableHosts: max } : s)),
  })

  /** The most solo hosts holding their deploy lock at once, from the hosts' own logs. */
  function maxLocked(): number {
    let held = 0
    let max = 0
    for (const line of fleet.log) {
      if (line.endsWith(' acquire')) max = Math.max(max, ++held)
      if (line.endsWith(' release lock')) held--
    }
    return max
  }

  function slowUp(): void {
    for (const memory of fleet.hosts.values())
      memory.before = (step) => (step.startsWith('up ') ? new Promise((resolve) => setTimeout(resolve, 2)) : undefined)
  }

  async function maxInFlight(max: number): Promise<number> {
    newFleet()
    slowUp()
    const { report, events } = await run({ selectors: ['@solo'], project: bounded(max) })
    expect(report.summary.deployed).toBe(4)
    expect(report.ok).toBe(true)
    let inFlight = 0
    let most = 0
    for (const event of events) {
      if (event.type === 'host-start') most = Math.max(most, ++inFlight)
      if (event.type === 'host-done') inFlight--
    }
    expect(maxLocked()).toBe(most)
    return most
  }

  it('never more of its hosts in flight than the bound, and as many as it allows, under a wider --concurrency', async () => {
    expect(await maxInFlight(1)).toBe(1)
    expect(await maxInFlight(2)).toBe(2)
    expect(await maxInFlight(3)).toBe(3)
  })

  it('hosts that already run their release take no slot: only the changed ones are counted, one at a time', async () => {
    newFleet()
    await run({ selectors: ['solo1', 'solo2'], tag: 'v2' })
    const before = fleet.log.length
    slowUp()
    const { report } = await run({ selectors: ['@solo'], tag: 'v2', project: bounded(1) })
    expect(status(report)).toEqual({ solo1: 'unchanged', solo2: 'unchanged', solo3: 'deployed', solo4: 'deployed' })
    const locks = fleet.log.slice(before).filter((l) => l.endsWith(' acquire') || l.endsWith(' release lock'))
    expect(locks).toEqual(['solo3 acquire', 'solo3 release lock', 'solo4 acquire', 'solo4 release lock'])
  })

  it('a failed host stops the rollout: the hosts of the stack not started are skipped, untouched, with the reason', async () => {
    newFleet()
    fleet.host('solo2').behaviour = () => 'exited'
    const { report } = await run({ selectors: ['@solo'], project: bounded(1) })
    expect(status(report)).toEqual({ solo1: 'deployed', solo2: 'failed', solo3: 'skipped', solo4: 'skipped' })
    expect(host(report, 'solo3').reason).toBe('the rollout of stack solo (solo2 failed) stopped')
    expect(host(report, 'solo2').rollback?.status).toBe('done')
    // only probed
    expect(fleet.host('solo3').log).toEqual(['facts'])
    expect(fleet.host('solo4').log).toEqual(['facts'])
    expect(report.ok).toBe(false)
  })
})

describe('deploy: Ctrl-C', () => {
  it('the first (stop) starts nothing new: the host in flight finishes, every other is cancelled', async () => {
    newFleet()
    const stop = new AbortController()
    fleet.host('db1').before = (step) => void (step.startsWith('up ') && stop.abort())
    const { report } = await run({ stop, options: { concurrency: 1 } })
    expect(report.interrupted).toBe(true)
    expect(status(report)).toEqual({
      db1: 'deployed',
      solo1: 'cancelled',
      solo2: 'cancelled',
      solo3: 'cancelled',
      solo4: 'cancelled',
      web1: 'cancelled',
      web2: 'cancelled',
    })
    expect(host(report, 'solo1').reason).toBe('interrupted before it started')
    expect(fleet.log.filter((l) => l.endsWith(' acquire'))).toEqual(['db1 acquire'])
    expect(fleet.host('db1').lock).toBeNull()
  })

  it('the second (abort) abandons the health waits in flight: those hosts go back to what they ran, judged healthy by its checks', async () => {
    newFleet()
    const first = await run({ selectors: ['@solo'] })
    const stop = new AbortController()
    const abort = new AbortController()
    const waiting = new Set<string>()
    for (const name of ['solo1', 'solo2', 'solo3']) {
      const memory = fleet.host(name)
      // the new release never gets past `health: starting`
      memory.behaviour = ({ image }) => (image.endsWith(':v2') ? 'starting' : 'healthy')
      memory.before = (step) => {
        if (!step.startsWith('up ') || memory.current === host(first.report, name).release) return
        waiting.add(name)
        if (waiting.size === 2) {
          setTimeout(() => {
            stop.abort()
            abort.abort()
          }, 5)
        }
      }
    }
    const { report } = await run({
      selectors: ['solo1', 'solo2', 'solo3'],
      tag: 'v2',
      stop,
      abort,
      options: { concurrency: 2, healthTimeoutS: 60 },
    })
    expect(status(report)).toEqual({ solo1: 'failed', solo2: 'failed', solo3: 'cancelled' })
    for (const name of ['solo1', 'solo2']) {
      const was = host(first.report, name).release!
      const memory = fleet.host(name)
      expect(host(report, name).error).toBe(`${name}: interrupted while waiting for health`)
      expect(host(report, name).rollback).toEqual({ status: 'done', release: was })
      expect(memory.current).toBe(was)
      expect(memory.containers.map((c) => [c.release, c.behaviour])).toEqual([[was, 'healthy']])
      // judged by the release's own check, after Ctrl-C
      expect(memory.log.slice(-5)).toEqual([
        `switch ${was}`,
        `up ${was}`,
        'check solo',
        'record rolled-back',
        'release lock',
      ])
      expect(memory.events().at(-1)).toMatchObject({ event: 'rolled-back', to: was, healthy: true })
      expect(memory.lock).toBeNull()
    }
    expect(fleet.host('solo3').current).toBe(host(first.report, 'solo3').release)
  })
})

describe('deploy: a Docker engine too busy to answer', () => {
  it('a container list with no answer during the health wait is asked again, and the host is deployed', async () => {
    newFleet()
    await run({ selectors: ['solo1'] })
    const memory = fleet.host('solo1')
    memory.before = (step) => void (step.startsWith('up ') && (memory.unansweredLists = 2))
    const { report, events } = await run({ selectors: ['solo1'], tag: 'v2', options: { readTimeoutMs: 100 } })
    expect(host(report, 'solo1').status).toBe('deployed')
    expect(memory.unansweredLists).toBe(0)
    expect(
      events.filter((e) => e.type === 'progress' && e.step === 'health').map((e) => (e as { text: string }).text),
    ).toEqual([
      'waiting: the Docker API (list containers): no answer within 0.1 s',
      'waiting: the Docker API (list containers): no answer within 0.1 s',
    ])
  })

  it('one that never answers fails the wait at the health timeout, saying what did not answer', async () => {
    newFleet()
    await run({ selectors: ['solo1'] })
    const memory = fleet.host('solo1')
    memory.before = (step) => void (step.startsWith('up ') && (memory.unansweredLists = Infinity))
    const started = Date.now()
    const { report } = await run({
      selectors: ['solo1'],
      tag: 'v2',
      options: { healthTimeoutS: 0.5, readTimeoutMs: 100 },
    })
    const failed = host(report, 'solo1')
    expect(failed.status).toBe('failed')
    expect(failed.error).toBe(
      'solo1: not healthy within 0.5 s: the Docker API (list containers): no answer within 0.1 s',
    )
    expect(failed.rollback).toMatchObject({ status: 'failed' })
    expect(Date.now() - started).toBeLessThan(5000)
  })
})

describe('deploy: automatic rollback', () => {
  it("a release whose checks fail goes back to the previous release, judged by the previous release's own checks", async () => {
    newFleet()
    const first = await run({ selectors: ['solo1'] })
    const was = host(first.report, 'solo1').release!
    const memory = fleet.host('solo1')
    // v2's own check fails; the check v1 was deployed with still passes
    memory.failCheck = (argv) => argv[2] === 'v2'
    const { report } = await run({ selectors: ['solo1'], tag: 'v2', options: { healthTimeoutS: 0.02 } })
    const failed = host(report, 'solo1')
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatch(
      /^solo1: containers run, but checks fail after 0.02 s: solo command check: exit 1: solo does not answer$/,
    )
    expect(failed.previous).toBe(was)
    expect(failed.rollback).toEqual({ status: 'done', release: was })
    expect(memory.current).toBe(was)
    const back = memory.log.lastIndexOf(`switch ${was}`)
    expect(memory.log.slice(back)).toEqual([
      `switch ${was}`,
      `up ${was}`,
      'check solo',
      'record rolled-back',
      'release lock',
    ])
    expect(memory.events().map((e) => [e.event, e.release, e.to, e.healthy])).toEqual([
      ['deployed', was, undefined, true],
      ['rolled-back', failed.release, was, true],
    ])
    // the failed release is kept (to be looked at), not current
    expect(memory.releases.has(failed.release!)).toBe(true)
  })

  it('when the previous release is not healthy either, the rollback says so', async () => {
    newFleet()
    const first = await run({ selectors: ['solo1'] })
    const memory = fleet.host('solo1')
    memory.failCheck = () => true
    const { report } = await run({ selectors: ['solo1'], tag: 'v2', options: { healthTimeoutS: 0.02 } })
    const rollback = host(report, 'solo1').rollback!
    expect(rollback.status).toBe('failed')
    expect(rollback.error).toMatch(
      new RegExp(
        `^rolled back to ${host(first.report, 'solo1').release}, but it is not healthy either: solo1: containers run, but checks fail`,
      ),
    )
    expect(memory.events().at(-1)).toMatchObject({ event: 'rolled-back', healthy: false })
  })

  it('a first deploy that fails leaves no release: its containers are removed and `current` with them', async () => {
    newFleet()
    const memory = fleet.host('solo1')
    memory.behaviour = () => 'exited'
    const { report } = await run({ selectors: ['solo1'] })
    const failed = host(report, 'solo1')
    expect(failed.status).toBe('failed')
    expect(failed.previous).toBeNull()
    expect(failed.rollback).toEqual({ status: 'done', release: null })
    expect(memory.current).toBeNull()
    expect(memory.containers).toEqual([])
    expect(memory.log.slice(-4)).toEqual([`down ${failed.release}`, 'remove current', 'record failed', 'release lock'])
    expect(memory.events().map((e) => e.event)).toEqual(['failed'])
  })
})

describe('deploy: replicas', () => {
  it('waits for every replica: all of them run, as many as declared, and the report says so', async () => {
    newFleet()
    const { report } = await run({ selectors: ['solo1'], replicas: 3 })
    expect(host(report, 'solo1').status).toBe('deployed')
    expect(host(report, 'solo1').services).toEqual([
      { name: 'solo', state: 'running', health: 'healthy', running: 3, replicas: 3 },
    ])
    expect(fleet.host('solo1').containers.map((c) => c.replica)).toEqual([1, 2, 3])
    const record = JSON.parse(
      fleet.host('solo1').releases.get(host(report, 'solo1').release!)!.get('release.json')!,
    ) as {
      services: { replicas: number }[]
    }
    expect(record.services.map((s) => s.replicas)).toEqual([3])
  })

  it('one crashed replica of three fails the host (the newest one alone would pass) and rolls it back', async () => {
    newFleet()
    const first = await run({ selectors: ['solo1'] })
    const memory = fleet.host('solo1')
    memory.behaviour = ({ release, replica }) =>
      release !== first.report.hosts[0]!.release && replica === 1 ? 'exited' : 'healthy'
    const { report } = await run({ selectors: ['solo1'], tag: 'v2', replicas: 3, options: { healthTimeoutS: 0.5 } })
    const failed = host(report, 'solo1')
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatch(/^solo1: solo engine-solo-1: exited with 1; last log lines:/)
    expect(failed.rollback).toEqual({ status: 'done', release: host(first.report, 'solo1').release })
  })

  it('replicas: 0 is up by design: no container, no check, no wait for the health timeout', async () => {
    newFleet()
    const started = Date.now()
    const { report } = await run({ selectors: ['solo1'], replicas: 0, options: { healthTimeoutS: 30 } })
    expect(Date.now() - started).toBeLessThan(10_000)
    const deployed = host(report, 'solo1')
    expect(deployed.status).toBe('deployed')
    expect(deployed.services).toEqual([{ name: 'solo', state: 'scaled to 0', health: 'none', running: 0, replicas: 0 }])
    expect(fleet.host('solo1').containers).toEqual([])
    expect(fleet.host('solo1').log).not.toContain('check solo')
  })

  it("a rollback is judged by the previous release's replica count", async () => {
    newFleet()
    // v1 runs no container by design; v2 runs one whose check fails: back to v1, healthy with none
    const first = await run({ selectors: ['solo1'], replicas: 0 })
    const was = host(first.report, 'solo1').release!
    const memory = fleet.host('solo1')
    memory.failCheck = (argv) => argv[2] === 'v2'
    const { report } = await run({ selectors: ['solo1'], tag: 'v2', replicas: 1, options: { healthTimeoutS: 0.05 } })
    expect(host(report, 'solo1').rollback).toEqual({ status: 'done', release: was })
    expect(memory.containers).toEqual([])
    expect(memory.events().at(-1)).toMatchObject({ event: 'rolled-back', to: was, healthy: true })
  })
})

describe('rollback HOST (manual)', () => {
  const options = (abort = new AbortController().signal): RollbackOptions => ({
    lockWaitS: 0,
    lockStaleS: 900,
    healthTimeoutS: 5,
    command: 'rollback',
    stop: abort,
    abort,
  })
  const input = () => ({ project, connector: fleet.connector(), emit: () => undefined, redact: (t: string) => t })

  async function threeReleases(): Promise<string[]> {
    newFleet()
    const ids: string[] = []
    for (const tag of [undefined, 'v2', 'v3'])
      ids.push(host((await run({ selectors: ['solo1'], ...(tag ? { tag } : {}) })).report, 'solo1').release!)
    return ids
  }

  it('without --to: back to the release the current one replaced, judged by its own checks, recorded as manual', async () => {
    const [, v2, v3] = await threeReleases()
    const memory = fleet.host('solo1')
    memory.failCheck = (argv) => argv[2] === 'v3'
    const report = await rollbackHost(input(), options(), 'solo1', null)
    expect(report).toMatchObject({
      host: 'solo1',
      from: v3,
      to: v2,
      services: [{ name: 'solo', state: 'running', health: 'healthy', running: 1, replicas: 1 }],
    })
    expect(memory.current).toBe(v2)
    expect(memory.log.slice(-6)).toEqual([
      'read releases',
      `switch ${v2}`,
      `up ${v2}`,
      'check solo v2',
      'record rolled-back',
      'release lock',
    ])
    expect(memory.events().at(-1)).toMatchObject({
      event: 'rolled-back',
      release: v3,
      to: v2,
      healthy: true,
      manual: true,
    })
    expect(memory.lock).toBeNull()
  })

  it('without --to: the release the current one replaced, even when a newer one lies between them', async () => {
    const [v1, v2] = await threeReleases()
    // back on v1 by hand, then v4 on top of it: v4 replaced v1, and v2 (newer than v1) is not where it goes
    await rollbackHost(input(), options(), 'solo1', v1!)
    const v4 = host((await run({ selectors: ['solo1'], tag: 'v4' })).report, 'solo1')
    expect(v4.previous).toBe(v1)
    const report = await rollbackHost(input(), options(), 'solo1', null)
    expect(report).toMatchObject({ from: v4.release, to: v1 })
    expect(fleet.host('solo1').releases.has(v2!)).toBe(true)
  })

  it('with --to: to that release, passing over the default one', async () => {
    const [v1, , v3] = await threeReleases()
    const report = await rollbackHost(input(), options(), 'solo1', v1!)
    expect(report).toMatchObject({ from: v3, to: v1 })
    expect(fleet.host('solo1').current).toBe(v1)
    expect(fleet.host('solo1').log.slice(-5)).toEqual([
      `switch ${v1}`,
      `up ${v1}`,
      'check solo',
      'record rolled-back',
      'release lock',
    ])
  })

  it('a release that does not come up healthy: the host goes back onto what it ran, and the error says so', async () => {
    const [v1, v2, v3] = await threeReleases()
    const memory = fleet.host('solo1')
    memory.behaviour = ({ release }) => (release === v2 ? 'exited' : 'healthy')
    const failure = await rollbackHost(input(), options(), 'solo1', null).then(
      () => null,
      (error: unknown) => error as Error & { hint?: string },
    )
    expect(errorMessage(failure)).toMatch(new RegExp(`^solo1: rollback to ${v2} failed: solo1: solo exited with 1`))
    expect(failure?.hint).toBe(`The host is back on ${v3}, healthy.`)
    expect(memory.current).toBe(v3)
    expect(memory.log.slice(-5)).toEqual([`switch ${v3}`, `up ${v3}`, 'check solo v3', 'record failed', 'release lock'])
    expect(memory.events().at(-1)).toMatchObject({ event: 'failed', release: v2, healthy: false, rollbackFrom: v3 })
    expect(memory.releases.has(v1!)).toBe(true)
  })

  it('refuses a release the host does not keep, and one it already runs, touching nothing', async () => {
    const [, , v3] = await threeReleases()
    const memory = fleet.host('solo1')
    await expect(rollbackHost(input(), options(), 'solo1', '20260101T000000Z-00000000')).rejects.toThrow(
      /^solo1 keeps no release 20260101T000000Z-00000000$/,
    )
    await expect(rollbackHost(input(), options(), 'solo1', v3!)).rejects.toThrow(`solo1 already runs ${v3}`)
    expect(memory.current).toBe(v3)
    expect(memory.log.filter((l) => l.startsWith('switch ')).length).toBe(3)
    expect(memory.lock).toBeNull()
  })
})

describe("deploy: the registry's credentials", () => {
  // The solo stack's image on the platform's registry, which wants the user fleet's password.
  let onRegistry: Project
  let dir: string
  beforeAll(async () => {
    dir = await projectFrom(FIXTURE, {
      'inventory/platform.yaml': (text) =>
        `${text}  image_registry: registry.lab.test:5000\n  registry_auth: { username: fleet, password_secret: REGISTRY_PASSWORD }\n  secrets:\n    REGISTRY_PASSWORD: { generate: false }\n`,
      'stacks/solo.yaml': (text) => text.replace('image: example/solo:1', 'image: registry.lab.test:5000/solo:1'),
    })
    onRegistry = (await loadOk(dir)).project
  })
  afterAll(() => removeProject(dir))
  const secrets = new Map([['REGISTRY_PASSWORD', 'wrong-password-1']])

  it('each pull from the registry carries the log-in to the engine; the host is given no credential', async () => {
    newFleet()
    fleet.host('solo1').missing.add('registry.lab.test:5000/solo:1')
    const { report } = await run({ project: onRegistry, selectors: ['solo1'], secrets })
    expect(report.ok).toBe(true)
    expect(fleet.host('solo1').pulls).toEqual([
      {
        image: 'registry.lab.test:5000/solo:1',
        authconfig: { username: 'fleet', password: 'wrong-password-1', serveraddress: 'registry.lab.test:5000' },
      },
    ])
    // nothing the host was sent holds the password: no argv, no stdin (the release tarball's .env among it)
    const sent = fleet.host('solo1').sent
    expect(sent.some((bytes) => bytes.includes('ustar'))).toBe(true) // the release did go up
    expect(sent.join('\n')).not.toContain('wrong-password-1')
  })

  it('a refused log-in fails the images step, before the switch: the host stays on its old release', async () => {
    newFleet()
    const first = await run({ project: onRegistry, selectors: ['solo1'], secrets })
    const was = host(first.report, 'solo1').release
    const memory = fleet.host('solo1')
    memory.missing.add('registry.lab.test:5000/solo:v2')
    memory.pullError = 'unauthorized: authentication required'
    const { report } = await run({ project: onRegistry, selectors: ['solo1'], tag: 'v2', secrets })
    const failed = host(report, 'solo1')
    expect(failed.failedStep).toBe('images')
    expect(failed.error).toBe(
      'solo1: the registry registry.lab.test:5000 refused the credentials for fleet (secret REGISTRY_PASSWORD): pulling registry.lab.test:5000/solo:v2: unauthorized: authentication required',
    )
    expect(failed.hint).toBe(
      'Check REGISTRY_PASSWORD in secrets.env: it must be the registry password of fleet (platform.registry_auth).',
    )
    expect(failed.rollback).toEqual({ status: 'none', release: was })
    expect(memory.current).toBe(was)
    expect(memory.log).not.toContain(`switch ${failed.release}`)
    expect(memory.events().map((e) => e.event)).toEqual(['deployed'])
  })

  it('without the password no pull is sent (deployCommand refuses it before connecting: test/commands/images.test.ts)', async () => {
    newFleet()
    fleet.host('solo1').missing.add('registry.lab.test:5000/solo:1')
    const { report } = await run({ project: onRegistry, selectors: ['solo1'] })
    expect(host(report, 'solo1').error).toBe(
      'the registry registry.lab.test:5000 needs the password of fleet, and secrets.env does not define REGISTRY_PASSWORD',
    )
    expect(fleet.host('solo1').pulls).toEqual([])
  })
})
