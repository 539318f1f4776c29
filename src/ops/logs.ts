// `logs` and `exec`: container output streamed through the host's pooled connection; argv always passed
// as an array, never through a shell.
import { PassThrough, Readable, type Writable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import type { Project } from '../config/model.js'
import { UserError } from '../errors.js'
import { connector, type ConnectChoices } from '../remote/connect.js'
import { listProject, type ContainerState } from '../deploy/containers.js'
import { REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'
import { terminalSafe } from '../util/printable.js'
import type { Redact } from '../remote/executor.js'

/** `10m`, `2h`, `1d`, `30s`, or a date: to the unix seconds Docker's `since` wants. */
function parseSince(text: string, now = Date.now()): number {
  const relative = /^(\d+)(s|m|h|d)$/.exec(text)
  if (relative)
    return (
      Math.floor(now / 1000) -
      Number(relative[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[relative[2] as 's' | 'm' | 'h' | 'd']
    )
  const date = Date.parse(text)
  if (Number.isNaN(date))
    throw new UserError(
      `--since ${text}: not a duration or a date`,
      'Use 30s, 10m, 2h, 1d or an ISO date such as 2026-11-23T10:00:00Z.',
    )
  return Math.floor(date / 1000)
}

function pick(
  project: Project,
  host: string,
  containers: ContainerState[],
  service: string | undefined,
): ContainerState[] {
  if (!project.hosts[host]) throw new UserError(`unknown host: ${host}`, `Hosts: ${project.hostOrder.join(', ')}.`)
  if (service === undefined) return containers
  const placed = Object.values(project.services)
    .filter((s) => s.hosts.includes(host))
    .map((s) => s.name)
  const mine = containers.filter((c) => c.service === service)
  if (mine.length === 0)
    throw new UserError(
      `${host} runs no container for service ${service}`,
      `Services on ${host}: ${placed.join(', ')}.`,
    )
  return mine
}

export interface LogsOptions extends ConnectChoices {
  host: string
  service?: string
  follow: boolean
  since?: string
  tail: number
  timestamps: boolean
  out: Writable
  err: Writable
  signal: AbortSignal
}

export async function streamLogs(project: Project, options: LogsOptions): Promise<void> {
  const since = options.since !== undefined ? parseSince(options.since) : undefined
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const exec = await connections.get(options.host)
    const docker = exec.docker()
    const containers = pick(
      project,
      options.host,
      await listProject(exec, project.platform.composeProject, { signal: options.signal }),
      options.service,
    )
    const width = Math.max(...containers.map((c) => c.service.length))
    const streams: NodeJS.ReadableStream[] = []
    await Promise.all(
      containers.map(async (container) => {
        const prefix = containers.length > 1 ? `${container.service.padEnd(width)} | ` : ''
        const handle = docker.getContainer(container.id)
        // A followed stream's start is bounded, and it then runs until Ctrl-C; a whole log (no -f) may
        // take longer to come, but not forever.
        const [info, logs] = await withDeadline(
          options.host,
          'the Docker API (logs)',
          options.follow ? REMOTE_WAIT_MS : 10 * 60_000,
          (signal) =>
            Promise.all([
              handle.inspect({ abortSignal: signal }),
              handle.logs({
                follow: options.follow as true,
                stdout: true,
                stderr: true,
                tail: options.tail,
                timestamps: options.timestamps,
                ...(since !== undefined ? { since } : {}),
                ...(options.follow ? {} : { abortSignal: signal }),
              }) as Promise<unknown>,
            ]),
          options.signal,
        )
        // Without --follow the Docker API's answer comes whole (dockerode hands over a Buffer).
        const stream = (Buffer.isBuffer(logs) ? Readable.from([logs]) : logs) as NodeJS.ReadableStream
        streams.push(stream)
        const out = prefixed(prefix, options.out, options.redact)
        const err = prefixed(prefix, options.err, options.redact)
        // A container with a TTY sends raw output; others multiplex stdout and stderr in frames.
        if (info.Config.Tty) stream.pipe(out)
        else docker.modem.demuxStream(stream, out, err)
        await new Promise<void>((resolve) => {
          const done = () => resolve()
          stream.on('end', done)
          stream.on('close', done)
          stream.on('error', done)
          options.signal.addEventListener('abort', done, { once: true })
        })
        out.end()
        err.end()
      }),
    )
    for (const stream of streams) (stream as unknown as { destroy?: () => void }).destroy?.()
  } finally {
    await connections.closeAll()
  }
}

/**
 * Prefixes every line (for several containers interleaved). On a terminal, what a container wrote
 * keeps its colours but no other control sequence (a title change, a cursor move, a link); into a
 * file or a pipe it goes byte for byte.
 */
function prefixed(prefix: string, target: Writable, redact: Redact = (t) => t): PassThrough {
  const through = new PassThrough()
  const show = (target as { isTTY?: boolean }).isTTY
    ? (line: string) => terminalSafe(redact(line.replace(/\r$/, '')))
    : redact
  const decoder = new StringDecoder('utf8') // a character split across chunks stays whole
  let partial = ''
  through.on('data', (chunk: Buffer) => {
    const text = partial + decoder.write(chunk)
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) target.write(`${prefix}${show(line)}\n`)
  })
  through.on('end', () => {
    if (partial) target.write(`${prefix}${show(partial)}\n`)
  })
  return through
}

export interface ExecOptions extends ConnectChoices {
  host: string
  service?: string
  argv: string[]
  out: Writable
  err: Writable
}

/**
 * Runs argv on the host, or inside a service's container: resolves with the exit code. The command's
 * output passes through as it is, as with ssh: options.redact masks only ai-platform's own messages.
 */
export async function execOn(project: Project, options: ExecOptions): Promise<number> {
  if (options.argv.length === 0)
    throw new UserError('no command given', 'Put the command after --, e.g. `ai-platform exec erebus -- df -h`.')
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const exec = await connections.get(options.host)
    if (options.service === undefined) {
      const result = await exec.run(options.argv, {
        check: false,
        keepOutput: false,
        timeoutMs: 24 * 3600_000,
        onStdout: (t) => options.out.write(t),
        onStderr: (t) => options.err.write(t),
      })
      return result.code
    }
    const docker = exec.docker()
    const [container] = pick(
      project,
      options.host,
      await listProject(exec, project.platform.composeProject),
      options.service,
    )
    if (container!.state !== 'running')
      throw new UserError(`${options.service} on ${options.host} is ${container!.state}, not running`)
    const { instance, stream } = await withDeadline(
      options.host,
      'the Docker API (exec)',
      REMOTE_WAIT_MS,
      async (signal) => {
        const instance = await docker
          .getContainer(container!.id)
          .exec({ Cmd: options.argv, AttachStdout: true, AttachStderr: true, Tty: false, abortSignal: signal })
        return { instance, stream: await instance.start({ hijack: true, stdin: false }) }
      },
    )
    await new Promise<void>((resolve, reject) => {
      docker.modem.demuxStream(stream, options.out, options.err)
      stream.on('end', resolve)
      stream.on('close', resolve)
      stream.on('error', reject)
    })
    const code = (
      await withDeadline(options.host, 'the Docker API (exec)', REMOTE_WAIT_MS, (signal) =>
        instance.inspect({ abortSignal: signal }),
      )
    ).ExitCode
    return typeof code === 'number' ? code : 1
  } finally {
    await connections.closeAll()
  }
}
