// `ai-platform images build`: each image the stacks build from source (x-ai-platform.build), built once,
// tagged with the ref the render pins and pushed to platform.image_registry. Locally with the Docker
// CLI, or on a builder host's engine over its SSH connection. An image the registry already holds is
// skipped unless forced: its tag is a digest of its inputs, so the same tag is the same build.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { Readable } from 'node:stream'
import type Docker from 'dockerode'
import { execa } from 'execa'
import type { Project } from '../config/model.js'
import { RemoteError, UserError, errorMessage } from '../errors.js'
import { connector, type Connector } from '../remote/connect.js'
import type { Redact } from '../remote/executor.js'
import {
  authFor,
  credentialRefusal,
  isCredentialRefusal,
  registryHost,
  registryLogin,
  type RegistryLogin,
} from '../remote/registry-auth.js'
import { imageBuilds, type ImageBuild } from '../render/image-build.js'
import { readSecrets } from '../secrets/secrets.js'
import { REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'
import { LineTooLong, streamLines } from '../util/stream-lines.js'
import { engineMessage, outputLine } from './build-output.js'
import { contextTar } from './context-tar.js'
import { dockerBuild, dockerConfigJson, dockerManifestInspect, dockerPush } from './docker-cli.js'

export interface ImagesBuildOptions {
  /** Service names; none: every service built from source. */
  services: string[]
  /** The builder host (--on); absent: platform.builder, else the workstation. */
  on?: string | undefined
  /** The workstation's Docker CLI even when platform.builder names a host. */
  local: boolean
  force: boolean
  dryRun: boolean
  acceptNew: boolean
  redact: Redact
  /** One line of build or push output (stderr). */
  progress: (line: string) => void
  signal?: AbortSignal
  /** The connections to the builder host (tests hand an in-memory one); absent: SSH, closed at the end. */
  connector?: Connector
}

export type Builder = { kind: 'local' } | { kind: 'host'; host: string }

export interface ImageReport {
  ref: string
  services: string[]
  /** Relative to the platform directory. */
  context: string
  dockerfile: string
  args: Record<string, string>
  digest: string
  /** What the registry answered before the build: unknown when not asked (--dry-run, --force) or no clear answer. */
  registry: 'present' | 'absent' | 'unknown'
  status: 'planned' | 'skipped' | 'pushed' | 'failed'
  error?: string
  hint?: string
}

export interface ImagesBuildReport {
  kind: 'ai-platform/images-build'
  ok: boolean
  platform: string
  registry: string
  builder: Builder
  dryRun: boolean
  /** Who logs in to the registry: the user and the secret's name, never its value. */
  login: { username: string; secret: string } | null
  images: ImageReport[]
}

/** The built services a run covers; names that are not such a service are refused. */
export function selectBuiltServices(project: Project, names: readonly string[]): string[] {
  const built = Object.values(project.services)
    .filter((s) => s.build)
    .map((s) => s.name)
    .sort()
  if (built.length === 0)
    throw new UserError(
      'no service of this platform builds its image from source',
      'Declare x-ai-platform.build {context, dockerfile, args} on a service (README.md, "Images built from source").',
    )
  if (names.length === 0) return built
  for (const name of names) {
    const service = project.services[name]
    if (!service) throw new UserError(`unknown service ${name}`, `Services built from source: ${built.join(', ')}.`)
    if (!service.build)
      throw new UserError(
        `${name} is not built from source: it runs ${JSON.stringify(service.compose.image)}`,
        `Services built from source: ${built.join(', ')}.`,
      )
  }
  return [...new Set(names)].sort()
}

export function chooseBuilder(project: Project, on: string | undefined, local: boolean): Builder {
  if (on !== undefined && local) throw new UserError('--on and --local both given: build on one or the other')
  const host = local ? undefined : (on ?? project.platform.builder)
  if (host === undefined) return { kind: 'local' }
  if (!project.hosts[host]) throw new UserError(`unknown host ${host}`, `Hosts: ${project.hostOrder.join(', ')}.`)
  return { kind: 'host', host }
}

export async function buildImages(project: Project, options: ImagesBuildOptions): Promise<ImagesBuildReport> {
  const builder = chooseBuilder(project, options.on, options.local)
  const builds = imageBuilds(project, selectBuiltServices(project, options.services))
  const auth = project.platform.registryAuth
  const report: ImagesBuildReport = {
    kind: 'ai-platform/images-build',
    ok: true,
    platform: project.platform.name,
    registry: project.platform.imageRegistry ?? '',
    builder,
    dryRun: options.dryRun,
    login: auth ? { username: auth.username, secret: auth.passwordSecret } : null,
    images: builds.map((b) => ({
      ref: b.ref,
      services: b.services,
      context: relative(project.dir, b.context) || '.',
      dockerfile: b.dockerfile,
      args: b.args,
      digest: b.digest,
      registry: 'unknown',
      status: 'planned',
    })),
  }
  // A dry run reads the platform's files only: no secret, no Docker, no host.
  if (options.dryRun) return report
  const login = registryLogin(project.platform, (await readSecrets(project)).values)
  const runner =
    builder.kind === 'local'
      ? await localRunner(login, options)
      : await hostRunner(project, builder.host, login, options)
  try {
    for (const [index, build] of builds.entries()) {
      const image = report.images[index]!
      try {
        if (!options.force) {
          image.registry = await runner.has(build)
          if (image.registry === 'present') {
            image.status = 'skipped'
            options.progress(`${build.ref}: the registry has it (--force builds it again)`)
            continue
          }
        }
        options.progress(`${build.ref}: building ${image.context} (${build.services.join(', ')})`)
        await runner.build(build)
        options.progress(`${build.ref}: pushing`)
        await runner.push(build)
        image.status = 'pushed'
      } catch (error) {
        image.status = 'failed'
        image.error = options.redact(errorMessage(error))
        if (error instanceof UserError && error.hint) image.hint = error.hint
        report.ok = false
      }
    }
  } finally {
    await runner.close()
  }
  return report
}

/** A build or push whose output stops this long is abandoned. */
const STALL_MS = 10 * 60_000

interface Runner {
  has(build: ImageBuild): Promise<ImageReport['registry']>
  build(build: ImageBuild): Promise<void>
  push(build: ImageBuild): Promise<void>
  close(): Promise<void>
}

/** The last line that says ERROR (BuildKit's way), else the last line. */
export function failureLine(lines: readonly string[]): string {
  const error = [...lines].reverse().find((l) => /(^|\s)error\b/i.test(l))
  return error ?? lines.at(-1) ?? 'no output'
}

/**
 * The Docker CLI with a DOCKER_CONFIG of the run's own (0700), removed afterwards: the log-in is written
 * there (dockerConfigJson, 0600) for the run's length, never in an argv, never in a credential helper.
 * Every command has a deadline: the registry lookup 30 s, a build or push that prints nothing for
 * STALL_MS is stopped.
 */
async function localRunner(login: RegistryLogin | null, options: ImagesBuildOptions): Promise<Runner> {
  const config = await mkdtemp(join(tmpdir(), 'aip-docker-'))
  const env = { ...process.env, DOCKER_CONFIG: config }
  const where = 'images build'
  const run = async (argv: string[], input?: string | Uint8Array, show = true, timeoutMs?: number) => {
    const lines: string[] = []
    const stall = new AbortController()
    const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal
    const child = execa(argv[0]!, argv.slice(1), {
      env,
      reject: false,
      all: true,
      buffer: false,
      cancelSignal: signal,
      ...(input !== undefined ? { input } : {}),
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
    })
    let timer = setTimeout(() => stall.abort(), STALL_MS)
    try {
      for await (const raw of child.iterable({ from: 'all' })) {
        clearTimeout(timer)
        timer = setTimeout(() => stall.abort(), STALL_MS)
        const line = outputLine(options.redact(String(raw)))
        if (line === '') continue
        lines.push(line)
        if (lines.length > 40) lines.shift()
        if (show) options.progress(line)
      }
    } catch {
      // the process's own failure is reported below
    } finally {
      clearTimeout(timer)
    }
    const result = await child
    if ((result as { code?: string }).code === 'ENOENT')
      throw new UserError(
        'docker: command not found on this machine',
        'Install the Docker CLI, or build on a host of the inventory with --on HOST (or platform.builder).',
      )
    if (stall.signal.aborted) lines.push(`no output for ${STALL_MS / 1000} s: stopped`)
    else if (result.timedOut) lines.push(`no answer within ${(timeoutMs ?? 0) / 1000} s: stopped`)
    return { exitCode: result.exitCode ?? null, lines }
  }
  const fail = (argv: string[], lines: string[], exitCode: number | null, login: RegistryLogin | null) => {
    const line = failureLine(lines)
    if (isCredentialRefusal(lines.join('\n')) && login)
      return credentialRefusal(where, login.registry, login, `\`${argv.slice(0, 2).join(' ')}\`: ${line}`)
    return new UserError(`\`${argv.slice(0, 3).join(' ')}\` exited with ${exitCode ?? 'a signal'}: ${line}`)
  }
  try {
    if (login)
      await writeFile(join(config, 'config.json'), dockerConfigJson(login.registry, login.username, login.password), {
        mode: 0o600,
      })
  } catch (error) {
    await rm(config, { recursive: true, force: true })
    throw error
  }
  return {
    async has(build) {
      const { exitCode, lines } = await run(dockerManifestInspect(build.ref), undefined, false, REMOTE_WAIT_MS)
      if (exitCode === 0) return 'present'
      return /no such manifest|manifest unknown|not found/i.test(lines.join('\n')) ? 'absent' : 'unknown'
    },
    async build(build) {
      const argv = dockerBuild(build)
      const { exitCode, lines } = await run(argv, await contextTar(build))
      // a build's own 401 (a private package index in a RUN step) is no word on the registry's log-in
      if (exitCode !== 0) throw fail(argv, lines, exitCode, null)
    },
    async push(build) {
      const argv = dockerPush(build.ref)
      const { exitCode, lines } = await run(argv)
      if (exitCode !== 0) throw fail(argv, lines, exitCode, login)
    },
    close: () => rm(config, { recursive: true, force: true }),
  }
}

/** The builder host's engine through its SSH connection: the context goes as a tar stream, the log-in per request. */
async function hostRunner(
  project: Project,
  host: string,
  login: RegistryLogin | null,
  options: ImagesBuildOptions,
): Promise<Runner> {
  const connections = options.connector ?? connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  const close = () => (options.connector ? Promise.resolve() : connections.closeAll())
  let docker: Docker
  try {
    docker = (await connections.get(host)).docker()
  } catch (error) {
    await close()
    throw error
  }
  const registry = registryHost(project.platform.imageRegistry ?? '')
  /**
   * Starts a build or push and reads its stream to the end. Output that stops for STALL_MS ends it
   * (an engine or registry that stops answering fails the run instead of holding it), as Ctrl-C does.
   */
  const follow = async (
    what: string,
    ref: string,
    start: (abortSignal: AbortSignal) => Promise<NodeJS.ReadableStream>,
  ) => {
    const controller = new AbortController()
    const abort = () => controller.abort()
    options.signal?.addEventListener('abort', abort, { once: true })
    if (options.signal?.aborted) abort()
    let stalled = false
    let timer = setTimeout(() => ((stalled = true), abort()), STALL_MS)
    const alive = () => {
      clearTimeout(timer)
      timer = setTimeout(() => ((stalled = true), abort()), STALL_MS)
    }
    let error: string | null
    try {
      const stream = await start(controller.signal)
      error = await readEngineStream(stream, (line) => options.progress(options.redact(line)), alive)
    } catch (caught) {
      error = controller.signal.aborted
        ? stalled
          ? `no output for ${STALL_MS / 1000} s`
          : 'interrupted'
        : errorMessage(caught)
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', abort)
    }
    if (error === null && controller.signal.aborted)
      error = stalled ? `no output for ${STALL_MS / 1000} s` : 'interrupted'
    if (error === null) return
    // a build's own 401 (a private package index in a RUN step) is no word on the registry's log-in
    if (what !== 'building' && isCredentialRefusal(error))
      throw credentialRefusal(host, registry, login, `${what} ${ref}: ${error}`)
    throw new RemoteError({ host, message: `${host}: ${what} ${ref} failed: ${error}` })
  }
  return {
    async has(build) {
      const authconfig = authFor(build.ref, login)
      try {
        await withDeadline(
          host,
          `the registry lookup of ${build.ref}`,
          REMOTE_WAIT_MS,
          (abortSignal) =>
            docker.getImage(build.ref).distribution({ ...(authconfig ? { authconfig } : {}), abortSignal }),
          options.signal,
        )
        return 'present'
      } catch (error) {
        const text = errorMessage(error)
        if (isCredentialRefusal(text)) return 'unknown'
        return /manifest unknown|not found|404/i.test(text) ? 'absent' : 'unknown'
      }
    },
    async build(build) {
      const context = await contextTar(build)
      await follow('building', build.ref, (abortSignal) =>
        docker.buildImage(Readable.from([context]), {
          t: build.ref,
          dockerfile: build.dockerfile,
          buildargs: build.args,
          // FROM an image on the platform's registry needs the same log-in
          ...(login
            ? { registryconfig: { [login.registry]: { username: login.username, password: login.password } } }
            : {}),
          abortSignal,
        }),
      )
    },
    async push(build) {
      const authconfig = authFor(build.ref, login)
      await follow('pushing', build.ref, (abortSignal) =>
        docker.getImage(build.repository).push({
          tag: build.tag,
          ...(authconfig ? { authconfig } : {}),
          abortSignal,
        }),
      )
    },
    close,
  }
}

/** Reads the engine's JSON lines, showing each; returns the first `error`, or null. Lines over 1 MiB fail. */
export async function readEngineStream(
  stream: NodeJS.ReadableStream,
  show: (line: string) => void,
  alive: () => void = () => undefined,
): Promise<string | null> {
  let failure: string | null = null
  try {
    for await (const line of streamLines(stream as AsyncIterable<Buffer | string>, {
      onChunk: alive,
      unterminated: true,
    })) {
      if (line.trim() === '') continue
      const message = engineMessage(line)
      for (const text of message.lines) show(text)
      if (message.error !== undefined && failure === null) failure = message.error
    }
  } catch (error) {
    if (error instanceof LineTooLong) return 'a line of output longer than 1 MiB'
    throw error
  }
  return failure
}
