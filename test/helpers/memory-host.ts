// An in-memory fleet for the deploy engine's unit tests: each host keeps its releases (unpacked from
// the real tarball), the `current` link, history.jsonl, the lock and its containers, and answers the
// commands of src/remote/commands.ts and src/remote/facts.ts. A command is accepted only when it is
// exactly what its builder makes for the parameters read back from it; anything else fails the test
// (see `unknown`). Health check commands (`check SERVICE ...`) pass while the service's container runs,
// unless a test says they fail.
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import type Docker from 'dockerode'
import { extract } from 'tar-stream'
import { RemoteError } from '../../src/errors.js'
import {
  acquireLock,
  composeDown,
  composeUp,
  heartbeatLock,
  pruneReleases,
  readReleases,
  recordHistory,
  releaseLock,
  removeCurrent,
  removeRelease,
  sh,
  switchCurrent,
  unpackRelease,
  type ComposeTarget,
  type LockInfo,
} from '../../src/remote/commands.js'
import type { Connector } from '../../src/remote/connect.js'
import type { Executor, RunOptions, RunResult } from '../../src/remote/executor.js'
import { factsScript, type ComposeInfo } from '../../src/remote/facts.js'
import { parseReleaseRecord, recordedReplicas, type ReleaseRecord } from '../../src/deploy/release.js'

/** How a container comes up: running with a passing Docker healthcheck, crashed, or never done starting. */
export type Behaviour = 'healthy' | 'exited' | 'starting'

export interface MemoryContainer {
  id: string
  project: string
  service: string
  image: string
  release: string
  /** Compose's container number: 1 to the service's replicas. */
  replica: number
  behaviour: Behaviour
  created: number
}

const COMPOSE: ComposeInfo = { variant: 'v2', version: '2.29.1', command: ['docker', 'compose'] }

/** A word as quoteWord() wrote it, back to its text. */
function unquote(word: string): string {
  return word.startsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word
}
/** A quoted or bare shell word. */
const WORD = `('(?:[^']|'\\\\'')*'|[^\\s'"]+)`

export class MemoryHost {
  /** Release id -> its files (compose.yaml, .env, release.json, files.sha256). */
  readonly releases = new Map<string, Map<string, string>>()
  /** The shared config file store: `files/<key>/<path>` -> its text. */
  readonly store = new Map<string, string>()
  current: string | null = null
  history: string[] = []
  lock: LockInfo | null = null
  containers: MemoryContainer[] = []
  /** What was done, one line per command: `acquire`, `switch ID`, `up ID`, `check web`, `record deployed`... */
  readonly log: string[] = []
  /** Every byte the host was sent: each command's argv and its stdin (a release tarball is plain tar). */
  readonly sent: string[] = []
  /** How a service's container comes up, by release, image and replica number. */
  behaviour: (container: { release: string; service: string; image: string; replica: number }) => Behaviour = () =>
    'healthy'
  /** Whether a health check command fails whatever the containers do. */
  failCheck: (argv: readonly string[]) => boolean = () => false
  /** Runs before a command of this host takes effect: tests wait, count or interrupt here. */
  before: (step: string) => Promise<void> | void = () => undefined
  /** Images the host lacks (inspect answers 404). */
  readonly missing = new Set<string>()
  /** Each pull the engine asked for, with the X-Registry-Auth it sent (absent: none). */
  readonly pulls: { image: string; authconfig?: unknown }[] = []
  /** The registry's answer to a pull, as the engine streams it: an `error` line (a refusal) or success. */
  pullError: string | null = null
  /** The next this many container lists get no answer (an engine too busy to answer), until their request is aborted. */
  unansweredLists = 0
  /** The connection drops when a command of this step (prefix) is sent, once: it never reaches the host. */
  dropAt: string | null = null
  private created = 0

  constructor(
    readonly name: string,
    readonly baseDir: string,
    readonly fleet: MemoryFleet,
  ) {}

  /** The release.json of a kept release. */
  record(id: string): ReleaseRecord {
    const record = parseReleaseRecord(this.releases.get(id)?.get('release.json') ?? '')
    if (!record) throw new Error(`${this.name} keeps no release ${id}`)
    return record
  }

  events(): { event: string; release: string; to?: string; healthy?: boolean; manual?: boolean }[] {
    return this.history.map((line) => JSON.parse(line) as { event: string; release: string })
  }

  private envSum(id: string): string | null {
    const env = this.releases.get(id)?.get('.env')
    return env === undefined ? null : createHash('sha256').update(env).digest('hex')
  }

  private keptHistory(): string {
    const kept = [...this.releases.keys()]
    return this.history
      .filter((line) => kept.some((id) => line.includes(id)))
      .map((l) => `${l}\n`)
      .join('')
  }

  private section(name: string, output: string, code = 0): string {
    return `@@aip:${name}\n${output}${output && !output.endsWith('\n') ? '\n' : ''}@@aip:rc:${code}\n`
  }

  private facts(full: boolean): string {
    const current = this.current
    const release = current ? this.releases.get(current)?.get('release.json') : undefined
    const env = current ? this.envSum(current) : null
    let out = this.section('user', 'deploy')
    out +=
      release !== undefined
        ? this.section('release', release)
        : this.section('release', 'cat: current/release.json: No such file or directory', 1)
    out += env
      ? this.section('env', `${env}  ${this.baseDir}/current/.env`)
      : this.section('env', 'sha256sum: current/.env: No such file or directory', 1)
    const recorded =
      current !== null &&
      this.history.some((l) => l.includes(`"release":"${current}"`) || l.includes(`"to":"${current}"`))
    out += current ? this.section('recorded', recorded ? 'yes' : 'no') : this.section('recorded', '', 1)
    out += this.lock
      ? this.section('lock', `${JSON.stringify(this.lock)}\n@@age 5`)
      : this.section('lock', 'cat: .lock/info.json: No such file or directory', 1)
    if (!full) return out
    out += this.section('docker', '27.3.1')
    out += this.section('compose-v2', COMPOSE.version)
    out += this.section('base', 'writable')
    out += this.section(
      'disk',
      `Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda1 100000000 1000 99999000 1% /`,
    )
    return out
  }

  private async unpack(id: string, stdin: RunOptions['stdin']): Promise<void> {
    if (!Buffer.isBuffer(stdin)) throw new Error(`${this.name}: unpackRelease without a tarball`)
    const files = new Map<string, string>()
    const store = new Map<string, string>()
    const reader = extract()
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: unknown) => chunks.push(c as Buffer))
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (header.name.startsWith('release/')) files.set(header.name.slice('release/'.length), text)
        else store.set(header.name, text)
        next()
      })
    })
    await new Promise<void>((resolve, reject) => {
      reader.on('finish', resolve)
      reader.on('error', reject)
      Readable.from([stdin]).pipe(reader)
    })
    this.releases.set(id, files)
    for (const [path, text] of store) this.store.set(path, text)
  }

  private up(target: ComposeTarget): RunResult {
    const files = this.releases.get(target.releaseId)
    if (!files)
      return {
        code: 1,
        stdout: '',
        stderr: `open ${this.baseDir}/releases/${target.releaseId}/compose.yaml: no such file or directory`,
      }
    const record = this.record(target.releaseId)
    // `up --remove-orphans`: the project's containers are those of this release's services now
    this.containers = this.containers.filter((c) => c.project !== target.project)
    // one container per replica, as Compose runs deploy.replicas of them (none for replicas: 0)
    for (const service of record.services.filter((s) => s.tier !== 'on-demand')) {
      for (let replica = 1; replica <= recordedReplicas(service); replica++) {
        const image = service.image
        const behaviour = this.behaviour({ release: target.releaseId, service: service.name, image, replica })
        this.containers.push({
          id: createHash('sha256').update(`${this.name}${++this.created}`).digest('hex').slice(0, 12),
          project: target.project,
          service: service.name,
          image,
          release: target.releaseId,
          replica,
          behaviour,
          created: this.created,
        })
      }
    }
    return { code: 0, stdout: '', stderr: '' }
  }

  /** The executor's run: find the builder that made argv, check it made exactly argv, apply it. */
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.sent.push(argv.join(' '))
    if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin))
      this.sent.push(Buffer.from(options.stdin).toString('latin1'))
    return this.apply(argv, options)
  }

  /** Called by each command before it takes effect: the test's hook, then a dropped connection. */
  private async reach(step: string, argv: readonly string[]): Promise<void> {
    await this.before(step)
    if (this.dropAt !== null && step.startsWith(this.dropAt)) {
      this.dropAt = null
      throw new Dropped(new RemoteError({ host: this.name, argv, message: `${this.name}: the connection was lost` }))
    }
  }

  private async apply(argv: readonly string[], options: RunOptions): Promise<RunResult> {
    const exact = (step: string, made: readonly string[]): string => {
      if (JSON.stringify(made) !== JSON.stringify(argv))
        throw this.fleet.refuse(this.name, argv, `looks like ${step} but is not what its builder makes`)
      return step
    }
    const b = this.baseDir
    const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '' })
    let result: RunResult
    let step: string
    const script = argv[0] === 'sh' && argv[1] === '-c' && argv.length === 3 ? argv[2]! : null
    if (argv[0] === 'check') {
      step = exact(`check ${argv.slice(1).join(' ')}`, argv)
      await this.reach(step, argv)
      const running = this.containers.some((c) => c.service === argv[1] && c.behaviour === 'healthy')
      result =
        running && !this.failCheck(argv) ? ok('ok\n') : { code: 1, stdout: '', stderr: `${argv[1]} does not answer` }
    } else if (script === null) {
      throw this.fleet.refuse(this.name, argv, 'no builder makes it')
    } else if (script.startsWith('export LC_ALL=C')) {
      const full = script.includes("@@aip:docker'")
      step = exact(
        full ? 'preflight' : 'facts',
        sh(factsScript({ baseDir: b, mounts: [], gpu: null, gpuContainers: false, full })),
      )
      await this.reach(step, argv)
      result = ok(this.facts(full))
    } else if (script.includes('if place; then echo acquired; after; exit 0; fi')) {
      const info = JSON.parse(
        unquote(new RegExp(`printf '%s\\\\n' ${WORD} > "\\$t/info.json"`).exec(script)?.[1] ?? "'{}'"),
      ) as LockInfo
      const stale = Number(/\[ "\$\(lockage\)" -ge (\d+) \]/.exec(script)?.[1])
      step = exact(
        'acquire',
        acquireLock(b, info, stale, factsScript({ baseDir: b, mounts: [], gpu: null, full: false })),
      )
      await this.reach(step, argv)
      if (this.lock === null) {
        this.lock = info
        result = ok(`acquired\n${this.facts(false)}`)
      } else result = ok(`held\n${JSON.stringify(this.lock)}\n@@age 5\n`)
    } else if (script.includes('.lock.gone-$$"; then rm -rf')) {
      const token = unquote(new RegExp(`grep -q ${WORD} `).exec(script)?.[1] ?? '')
      step = exact('release lock', releaseLock(b, token))
      await this.reach(step, argv)
      if (this.lock?.token === token) this.lock = null
      result = ok()
    } else if (script.includes('touch "$b/.lock/info.json"')) {
      const token = unquote(new RegExp(`grep -q ${WORD} `).exec(script)?.[1] ?? '')
      step = exact('heartbeat', heartbeatLock(b, token))
      result = this.lock?.token === token ? ok() : { code: 1, stdout: '', stderr: '' }
    } else if (script.includes('tar -x -C "$tmp" -f -')) {
      const id = unquote(new RegExp(`\\nid=${WORD}\\n`).exec(script)?.[1] ?? '')
      step = exact(`unpack ${id}`, unpackRelease(b, id))
      await this.reach(step, argv)
      if (this.releases.has(id)) result = { code: 1, stdout: '', stderr: '' }
      else {
        await this.unpack(id, options.stdin)
        result = ok()
      }
    } else if (script.includes('"$b/.current.new"')) {
      const id = unquote(new RegExp(`ln -sfn ${WORD} `).exec(script)?.[1] ?? '').replace(/^releases\//, '')
      step = exact(`switch ${id}`, switchCurrent(b, id))
      await this.reach(step, argv)
      this.current = id
      result = ok()
    } else if (script.includes('!= "releases/$id"')) {
      const id = unquote(new RegExp(`\\nid=${WORD}\\n`).exec(script)?.[1] ?? '')
      step = exact(`remove ${id}`, removeRelease(b, id))
      await this.reach(step, argv)
      if (this.current === id) result = { code: 1, stdout: '', stderr: '' }
      else {
        this.releases.delete(id)
        result = ok()
      }
    } else if (script.endsWith('rm -f "$b/current"')) {
      step = exact('remove current', removeCurrent(b))
      await this.reach(step, argv)
      this.current = null
      result = ok()
    } else if (script.includes('>> "$b/history.jsonl"')) {
      const line = unquote(new RegExp(`printf '%s\\\\n' ${WORD} >>`).exec(script)?.[1] ?? '')
      const event = (JSON.parse(line) as { event: string }).event
      step = exact(`record ${event}`, recordHistory(b, line))
      await this.reach(step, argv)
      this.history.push(line)
      const listing = [...this.releases.keys()].map((id) => `@@release ${id} ${this.envSum(id) ?? ''}\n`).join('')
      result = ok(`@@live ${this.current ?? ''}\n${listing}@@history\n${this.keptHistory()}`)
    } else if (script.includes('for r in ')) {
      const ids = (/for r in (.*); do/.exec(script)?.[1] ?? '').split(' ').filter(Boolean).map(unquote)
      step = exact(`prune ${ids.join(' ')}`, pruneReleases(b, ids))
      await this.reach(step, argv)
      for (const id of ids) if (id !== this.current) this.releases.delete(id)
      result = ok()
    } else if (script.includes('[ -d "$b/releases" ] || exit 0')) {
      step = exact('read releases', readReleases(b))
      await this.reach(step, argv)
      const ids = [...this.releases.keys()].sort().reverse()
      result = ok(
        `${ids.map((id) => `@@release ${id} ${this.envSum(id) ?? ''}\n${this.releases.get(id)!.get('release.json') ?? ''}\n`).join('')}@@history\n${this.keptHistory()}`,
      )
    } else if (script.startsWith('set -eu\nd=')) {
      const dir = unquote(new RegExp(`^set -eu\\nd=${WORD}\\n`).exec(script)?.[1] ?? '')
      const project = unquote(new RegExp(`--project-name ${WORD} `).exec(script)?.[1] ?? '')
      const target: ComposeTarget = {
        compose: COMPOSE,
        project,
        baseDir: b,
        releaseId: dir.slice(`${b}/releases/`.length),
      }
      const down = script.endsWith(' down --remove-orphans')
      step = exact(`${down ? 'down' : 'up'} ${target.releaseId}`, (down ? composeDown : composeUp)(target))
      await this.reach(step, argv)
      if (down) {
        this.containers = this.containers.filter((c) => c.project !== project)
        result = ok()
      } else result = this.up(target)
    } else {
      throw this.fleet.refuse(this.name, argv, 'no builder makes it')
    }
    this.log.push(step)
    this.fleet.log.push(`${this.name} ${step}`)
    if (options.check !== false && result.code !== 0)
      throw new RemoteError({ host: this.name, argv, exitCode: result.code, stderr: result.stderr })
    return result
  }

  /** The Docker Engine API, as much of it as the engine reads: containers, their logs, image inspection. */
  docker(): Docker {
    const listContainers = (options: { filters: string; abortSignal?: AbortSignal }): Promise<unknown[]> => {
      if (this.unansweredLists > 0) {
        this.unansweredLists--
        return new Promise((_, reject) =>
          options.abortSignal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        )
      }
      const project = (JSON.parse(options.filters) as { label: string[] }).label[0]!.split('=')[1]
      return Promise.resolve(
        this.containers
          .filter((c) => c.project === project)
          .map((c) => ({
            Id: c.id,
            Names: [`/${c.project}-${c.service}-${c.replica}`],
            Image: c.image,
            State: c.behaviour === 'exited' ? 'exited' : 'running',
            Status:
              c.behaviour === 'exited'
                ? 'Exited (1) 2 seconds ago'
                : c.behaviour === 'starting'
                  ? 'Up 2 seconds (health: starting)'
                  : 'Up 2 seconds (healthy)',
            Created: c.created,
            Labels: { 'com.docker.compose.project': c.project, 'com.docker.compose.service': c.service },
          })),
      )
    }
    const fake = {
      listContainers,
      getContainer: (id: string) => ({ logs: () => Promise.resolve(Buffer.from(`${id}: crashed on start\n`)) }),
      pull: (image: string, options: { authconfig?: unknown }) => {
        this.pulls.push({ image, ...(options.authconfig ? { authconfig: options.authconfig } : {}) })
        const lines = this.pullError
          ? [`${JSON.stringify({ status: 'Pulling from solo' })}\n`, `${JSON.stringify({ error: this.pullError })}\n`]
          : [`${JSON.stringify({ status: 'Status: Downloaded newer image' })}\n`]
        if (!this.pullError) this.missing.delete(image)
        return Promise.resolve(Readable.from(lines))
      },
      // images are present unless a test says one is missing
      modem: {
        dial: (options: { path: string }, callback: (error: unknown, data: unknown) => void) => {
          const image = /^\/images\/(.*)\/json$/.exec(options.path)?.[1] ?? ''
          if (this.missing.has(image))
            callback(Object.assign(new Error(`(HTTP code 404) no such image - ${image}`), { statusCode: 404 }), null)
          else callback(null, {})
        },
      },
    }
    return fake as unknown as Docker
  }
}

/** The connection dropped under a command: the executor that sent it is lost from then on. */
class Dropped extends Error {
  constructor(readonly error: RemoteError) {
    super(error.message)
  }
}

class MemoryExecutor implements Executor {
  readonly transport = 'ssh' as const
  lost = false
  constructor(private readonly memory: MemoryHost) {}
  get host(): string {
    return this.memory.name
  }
  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    if (this.lost) throw new RemoteError({ host: this.host, argv, message: `${this.host}: the connection is closed` })
    try {
      return await this.memory.run(argv, options)
    } catch (error) {
      if (!(error instanceof Dropped)) throw error
      this.lost = true
      throw error.error
    }
  }
  docker(): Docker {
    return this.memory.docker()
  }
  forward(): never {
    throw new Error('the in-memory host forwards no port: give the test services command checks')
  }
  download(): never {
    throw new Error('the in-memory host has no files to download')
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

export class MemoryFleet {
  readonly hosts = new Map<string, MemoryHost>()
  /** Commands no builder makes, with why: a test fails when this is not empty. */
  readonly unknown: string[] = []
  /** Every host's log in the order the commands took effect: `HOST STEP`. */
  readonly log: string[] = []

  constructor(hosts: Record<string, string>) {
    for (const [name, baseDir] of Object.entries(hosts)) this.hosts.set(name, new MemoryHost(name, baseDir, this))
  }

  host(name: string): MemoryHost {
    const host = this.hosts.get(name)
    if (!host) throw new Error(`no memory host ${name}`)
    return host
  }

  refuse(host: string, argv: readonly string[], why: string): Error {
    const text = `${host}: ${why}: ${JSON.stringify(argv).slice(0, 400)}`
    this.unknown.push(text)
    return new Error(text)
  }

  connector(): Connector {
    const executors = new Map<string, MemoryExecutor>()
    return {
      get: (name: string) => {
        // a connection that dropped is opened again, as the SSH connector does
        const open = executors.get(name)
        const executor = open && !open.lost ? open : new MemoryExecutor(this.host(name))
        executors.set(name, executor)
        return Promise.resolve(executor)
      },
      closeAll: () => Promise.resolve(),
    }
  }
}
