// The SSH connector: one connection per host for every command, file transfer and Docker API call of a
// run; a cap on connection starts (sshd MaxStartups 10:30:100) and on channels per connection (sshd
// MaxSessions 10); keepalives; timeouts; retries with jittered backoff; strict host key checking.
import { chmod, readFile, rename, rm } from 'node:fs/promises'
import { Agent, type AgentOptions, type ClientRequest, type IncomingMessage } from 'node:http'
import { Duplex } from 'node:stream'
import { spawn } from 'node:child_process'
import { setMaxListeners } from 'node:events'
import { inspect } from 'node:util'
import type Docker from 'dockerode'
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2'
import { RemoteError, UserError, errorMessage } from '../errors.js'
import {
  DEFAULT_TIMEOUT_MS,
  MAX_OUTPUT_BYTES,
  type Executor,
  type Redact,
  type RunOptions,
  type RunResult,
  type WaitOptions,
} from './executor.js'
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  hostToken,
  keyTypeOf,
  orderHostKeyAlgorithms,
  readKnownHosts,
  readRevokedKeys,
  trustedAuthorities,
} from './known-hosts.js'
import { checkHostCertificate, scanHostCertificates } from './host-cert.js'
import { shellQuote } from './quote.js'
import { trace } from './trace.js'
import { dockerode } from './dockerode.js'
import type { SshTarget } from './ssh-target.js'
import { Semaphore } from '../util/semaphore.js'
import { remember } from '../util/remember.js'
import { REMOTE_WAIT_MS, seconds } from '../util/deadline.js'
import { retry } from '../util/retry.js'

export interface SshOptions {
  acceptNew?: boolean
  /** Connection attempts for network errors (not for refused keys or credentials). */
  attempts?: number
  readyTimeoutMs?: number
  keepaliveIntervalMs?: number
  channelsPerConnection?: number
  /** Values to mask in every error message this connector builds. */
  redact?: Redact | undefined
}

/**
 * Handshakes in flight: at most `perServer` with any one sshd (its MaxStartups, 10 by default, drops
 * unauthenticated connections beyond it: that matters for a ProxyJump bastion, which every host's
 * connection goes through), and at most `total` in all (CPU and sockets here).
 */
class Handshakes {
  private readonly all: Semaphore
  private readonly servers = new Map<string, Semaphore>()
  constructor(
    private readonly perServer = 8,
    total = 64,
  ) {
    this.all = new Semaphore(total)
  }

  use<T>(target: SshTarget, work: () => Promise<T>): Promise<T> {
    const key = `${target.hostname}:${target.port}`
    let server = this.servers.get(key)
    if (!server) this.servers.set(key, (server = new Semaphore(this.perServer)))
    const one = server
    return one.use(() => this.all.use(work))
  }
}

/** Shared by every connection of a run: one connection per host, handshakes capped (Handshakes). */
export class SshPool {
  private readonly starts: Handshakes
  private readonly connections = new Map<string, Promise<SshConnection>>()
  /** The connections that opened, to tell which dropped since. */
  private readonly open = new Map<string, SshConnection>()
  /** Aborted by closeAll(): handshakes still in flight give up at once instead of being waited for. */
  private closing = abortController()
  constructor(
    readonly options: SshOptions = {},
    starts = new Handshakes(),
  ) {
    this.starts = starts
  }

  connect(target: SshTarget): Promise<SshConnection> {
    const key = `${target.user}@${target.hostname}:${target.port}`
    if (this.open.get(key)?.isLost) {
      this.open.delete(key)
      this.connections.delete(key)
    }
    let pending = this.connections.get(key)
    if (!pending) {
      pending = remember(
        this.connections,
        key,
        SshConnection.open(target, this.options, this.starts, this.closing.signal).then((connection) => {
          this.open.set(key, connection)
          return connection
        }),
      )
    }
    return pending
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()]
    this.connections.clear()
    this.open.clear()
    const closing = this.closing
    this.closing = abortController()
    closing.abort()
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.close()))
  }
}

const RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
])
/** Waits between connection attempts: jittered, so the hosts behind one bastion do not all retry at once. */
const CONNECT_BACKOFF = { baseMs: 500, capMs: 5000 }

export class SshConnection {
  private readonly channels: Semaphore
  private closed = false
  private dropped = false
  private dockerClient: Docker | undefined

  private constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    private readonly options: SshOptions,
    private readonly jump: SshConnection | null,
  ) {
    this.channels = new Semaphore(options.channelsPerConnection ?? 8)
    client.on('close', () => {
      // closed without our close(): keepalives went unanswered, or the host or network dropped it
      if (!this.closed) this.dropped = true
      this.closed = true
    })
  }

  static async open(
    target: SshTarget,
    options: SshOptions,
    starts: Handshakes,
    signal?: AbortSignal,
  ): Promise<SshConnection> {
    const jump = target.proxyJump ? await SshConnection.open(target.proxyJump, options, starts, signal) : null
    let client: Client
    try {
      client = await retry(() => starts.use(target, () => handshake(target, options, jump, signal)), {
        attempts: Math.max(1, options.attempts ?? 3),
        ...CONNECT_BACKOFF,
        retryable: (error) =>
          RETRYABLE.has((error as NodeJS.ErrnoException).code ?? '') ||
          (error as { level?: string }).level === 'client-timeout',
        signal,
      })
    } catch (error) {
      jump?.close()
      if (signal?.aborted) throw abandoned(target)
      throw describeConnectError(target, error)
    }
    return new SshConnection(target, client, options, jump)
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** The connection dropped (not closed by us): what ran on it may or may not have finished. */
  get isLost(): boolean {
    return this.dropped
  }

  /**
   * An exec channel, counted against the per-connection cap until it closes. Its opening is bounded: an
   * sshd that never confirms it fails the caller by its deadline (a late confirmation is closed at once).
   */
  async channel(command: string, options: WaitOptions = {}): Promise<ClientChannel> {
    const timeoutMs = options.timeoutMs ?? REMOTE_WAIT_MS
    const started = Date.now()
    const release = await this.slot([command], timeoutMs, options.signal)
    if (this.closed) {
      release()
      throw new RemoteError({
        host: this.target.name,
        argv: [command],
        message: `${this.target.name}: the SSH connection is closed`,
      })
    }
    return this.opening<ClientChannel>({
      what: [command],
      timeoutMs: Math.max(0, timeoutMs - (Date.now() - started)),
      signal: options.signal,
      timeout: `the SSH server did not open a channel within ${seconds(timeoutMs)}`,
      aborted: 'interrupted while opening an SSH channel',
      failed: 'cannot open an SSH channel',
      open: (callback) => this.client.exec(command, callback),
      never: release,
      adopt: (stream) => {
        stream.once('close', release)
        // A server that never confirms the close must not keep the place for good (every close,
        // ours or http's destroy(), goes through close()).
        const close = stream.close.bind(stream)
        stream.close = () => {
          setTimeout(release, CLOSE_GRACE_MS).unref()
          return close()
        }
      },
    })
  }

  /**
   * Waits for something ssh2 opens (a channel, a tunnel) no longer than its deadline or the caller's
   * signal. What the server confirms after the caller gave up is closed at once; `never` runs when
   * nothing will come (refused, aborted before asking, or ssh2 threw at once on a half-closed
   * connection).
   */
  private opening<T extends { close(): unknown }>(spec: {
    what: string[]
    timeoutMs: number
    signal: AbortSignal | undefined
    timeout: string
    aborted: string
    failed: string
    open: (callback: (error: Error | undefined, value: T) => void) => void
    never?: () => void
    adopt?: (value: T) => void
  }): Promise<T> {
    const fail = (text: string) =>
      new RemoteError({ host: this.target.name, argv: spec.what, message: `${this.target.name}: ${text}` })
    return new Promise((resolve, reject) => {
      let settled = false
      const give = (error: RemoteError): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        spec.signal?.removeEventListener('abort', onAbort)
        reject(error)
      }
      const timer = setTimeout(() => give(fail(spec.timeout)), spec.timeoutMs)
      const onAbort = (): void => give(fail(spec.aborted))
      if (spec.signal?.aborted) {
        spec.never?.()
        return onAbort()
      }
      spec.signal?.addEventListener('abort', onAbort, { once: true })
      try {
        spec.open((error, value) => {
          if (error) {
            spec.never?.()
            return give(fail(`${spec.failed}: ${error.message}`))
          }
          spec.adopt?.(value)
          if (settled) return void value.close()
          settled = true
          clearTimeout(timer)
          spec.signal?.removeEventListener('abort', onAbort)
          resolve(value)
        })
      } catch (error) {
        spec.never?.()
        give(fail(`${spec.failed}: ${errorMessage(error)}`))
      }
    })
  }

  /** A place among this connection's channels, waited for no longer than the caller's deadline. */
  private async slot(what: string[], timeoutMs: number, signal?: AbortSignal): Promise<() => void> {
    const deadline = AbortSignal.timeout(Math.max(1, timeoutMs))
    try {
      return await this.channels.acquire(signal ? AbortSignal.any([signal, deadline]) : deadline)
    } catch {
      throw new RemoteError({
        host: this.target.name,
        argv: what,
        message: signal?.aborted
          ? `${this.target.name}: interrupted while waiting for an SSH channel`
          : `${this.target.name}: no SSH channel came free within ${seconds(timeoutMs)} (the host holds them all)`,
      })
    }
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const command = shellQuote(argv)
    const t0 = Date.now()
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const stream = await this.channel(command, { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) })
    const keep = options.keepOutput !== false
    const maxBytes = options.maxOutputBytes ?? MAX_OUTPUT_BYTES
    return new Promise((resolve, reject) => {
      const out: Buffer[] = []
      const err: Buffer[] = []
      let bytes = 0
      let code: number | null = null
      let signal: string | undefined
      let settled = false
      const finish = (error?: Error): void => {
        if (settled) return
        settled = true
        trace(this.target.name, command, error ? null : (code ?? null), Date.now() - t0, this.options.redact)
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        if (error) return reject(error)
        if (code === null && signal === undefined && this.dropped) {
          return reject(
            new RemoteError({
              host: this.target.name,
              argv,
              message: `${this.target.name}: the connection was lost while \`${argv.join(' ')}\` ran: it may or may not have finished`,
            }),
          )
        }
        const result: RunResult = {
          code: code ?? 255,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          ...(signal ? { signal } : code === null ? { signal: 'none reported' } : {}),
        }
        if (options.check !== false && result.code !== 0) {
          const redact = this.options.redact ?? ((t: string) => t)
          return reject(
            new RemoteError({
              host: this.target.name,
              argv,
              exitCode: code,
              stderr: redact(result.stderr || result.stdout),
              message: signal ? `${this.target.name}: \`${argv.join(' ')}\` ended by signal ${signal}` : undefined,
            }),
          )
        }
        resolve(result)
      }
      // A session without a terminal gets no signal when its channel closes: ask for TERM first, so
      // a script's trap can clean up (OpenSSH honours signal requests).
      const stop = (): void => {
        signalChannel(stream, 'TERM')
        stream.close()
      }
      const timer = setTimeout(
        () => {
          stop()
          finish(
            new RemoteError({
              host: this.target.name,
              argv,
              stderr: Buffer.concat(err).toString('utf8'),
              message: `${this.target.name}: \`${argv.join(' ')}\` did not finish within ${Math.round(timeoutMs / 1000)} s`,
            }),
          )
        },
        Math.max(0, timeoutMs - (Date.now() - t0)),
      )
      const onAbort = (): void => {
        stop()
        finish(
          new RemoteError({
            host: this.target.name,
            argv,
            message: `${this.target.name}: \`${argv.join(' ')}\` was interrupted`,
          }),
        )
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      // What a host prints is kept up to a bound: past it the command is stopped, not the CLI.
      const collect = (into: Buffer[], chunk: Buffer): void => {
        if (!keep || settled) return
        bytes += chunk.length
        if (bytes > maxBytes) {
          stop()
          finish(
            new RemoteError({
              host: this.target.name,
              argv,
              message: `${this.target.name}: \`${argv.join(' ')}\` printed more than ${Math.round(maxBytes / (1024 * 1024))} MiB; stopped reading it`,
            }),
          )
          return
        }
        into.push(chunk)
      }
      stream.on('data', (chunk: Buffer) => {
        collect(out, chunk)
        options.onStdout?.(chunk.toString('utf8'))
      })
      stream.stderr.on('data', (chunk: Buffer) => {
        collect(err, chunk)
        options.onStderr?.(chunk.toString('utf8'))
      })
      // The exit status can arrive in the same packet as the channel's confirmation, before these
      // listeners exist (they are attached after a promise resolves): 'close' carries it as well.
      const onExit = (exitCode?: number | null, exitSignal?: string): void => {
        if (exitCode !== undefined && exitCode !== null) code = exitCode
        if (exitSignal) signal = exitSignal
      }
      stream.on('exit', onExit)
      stream.on('close', (exitCode?: number | null, exitSignal?: string) => {
        onExit(exitCode, exitSignal)
        // a dropped connection closes its channels first, then itself: look once it has
        if (code === null && signal === undefined) setImmediate(() => finish())
        else finish()
      })
      stream.on('error', (error: Error) =>
        finish(new RemoteError({ host: this.target.name, argv, message: `${this.target.name}: ${error.message}` })),
      )
      if (options.stdin === undefined) stream.end()
      else if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin)) stream.end(options.stdin)
      else options.stdin.pipe(stream)
    })
  }

  /** A TCP stream to address:port as the host sees it; an sshd that never answers fails by the deadline. */
  async forward(port: number, address = '127.0.0.1', options: WaitOptions = {}): Promise<Duplex> {
    const timeoutMs = options.timeoutMs ?? REMOTE_WAIT_MS
    const stream = await this.opening<ClientChannel>({
      what: [`forward ${address}:${port}`],
      timeoutMs,
      signal: options.signal,
      timeout: `cannot reach ${address}:${port} through SSH: no answer within ${seconds(timeoutMs)}`,
      aborted: `interrupted while reaching ${address}:${port} through SSH`,
      failed: `cannot reach ${address}:${port} through SSH`,
      open: (callback) => this.client.forwardOut('127.0.0.1', 0, address, port, callback),
    })
    return addSocketMethods(stream)
  }

  /**
   * Into a private partial file (0600), renamed into place when complete: never a half-written file.
   * A transfer that makes no progress for `stallMs` (and an SFTP session that never opens) fails.
   */
  async download(
    remotePath: string,
    localPath: string,
    options: { stallMs?: number; maxBytes?: number } = {},
  ): Promise<void> {
    const stallMs = options.stallMs ?? 60_000
    const release = await this.slot(['sftp', 'get', remotePath], stallMs)
    const partial = `${localPath}.part-${process.pid}`
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false
        let session: { end(): void } | null = null
        const settle = (error?: RemoteError): void => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          session?.end()
          if (error) reject(error)
          else resolve()
        }
        let timer = setTimeout(() => settle(stalled()), stallMs)
        const stalled = () =>
          new RemoteError({
            host: this.target.name,
            argv: ['sftp', 'get', remotePath],
            message: `${this.target.name}: the download of ${remotePath} made no progress for ${seconds(stallMs)}`,
          })
        const tooBig = (bytes: number) =>
          new RemoteError({
            host: this.target.name,
            argv: ['sftp', 'get', remotePath],
            message: `${this.target.name}: ${remotePath} is ${bytes} bytes, more than the ${options.maxBytes} the host announced`,
          })
        try {
          this.client.sftp((error, sftp) => {
            if (error)
              return settle(
                new RemoteError({
                  host: this.target.name,
                  argv: ['sftp', remotePath],
                  message: `${this.target.name}: cannot open SFTP: ${error.message}`,
                }),
              )
            session = sftp
            if (settled) return sftp.end()
            sftp.fastGet(
              remotePath,
              partial,
              {
                mode: 0o600,
                step: (transferred: number, _chunk: number, total: number) => {
                  if (settled) return
                  // the size is the host's word: what it announced before bounds what it may send
                  if (options.maxBytes !== undefined && Math.max(transferred, total) > options.maxBytes)
                    return settle(tooBig(Math.max(transferred, total)))
                  clearTimeout(timer)
                  timer = setTimeout(() => settle(stalled()), stallMs)
                },
              },
              (getError) =>
                settle(
                  getError
                    ? new RemoteError({
                        host: this.target.name,
                        argv: ['sftp', 'get', remotePath],
                        message: `${this.target.name}: cannot download ${remotePath}: ${getError.message}`,
                      })
                    : undefined,
                ),
            )
          })
        } catch (error) {
          settle(
            new RemoteError({
              host: this.target.name,
              argv: ['sftp', remotePath],
              message: `${this.target.name}: cannot open SFTP: ${errorMessage(error)}`,
            }),
          )
        }
      })
      await chmod(partial, 0o600)
      await rename(partial, localPath)
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    } finally {
      release()
    }
  }

  /** dockerode whose every request rides a `docker system dial-stdio` channel of this connection. */
  docker(): Docker {
    this.dockerClient ??= new (dockerode())({
      protocol: 'http',
      host: 'docker',
      port: 2375,
      agent: new DialStdioAgent(this),
    } as Docker.DockerOptions)
    return this.dockerClient
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.client.end()
    this.jump?.close()
  }
}

/**
 * Sends a signal request on an exec channel. ssh2's ClientChannel.signal() sends nothing once our side
 * is ended, and every command's stdin is ended as soon as it has been written; the request itself is
 * allowed on a half-closed channel (RFC 4254 6.9), so it goes through ssh2's protocol object directly.
 */
function signalChannel(stream: ClientChannel, name: string): void {
  const channel = stream as unknown as {
    _client?: { _protocol?: { signal(id: number, name: string): void } }
    outgoing?: { id: number; state: string }
  }
  try {
    if (channel.outgoing && channel.outgoing.state !== 'closed' && channel.outgoing.state !== 'closing')
      channel._client?._protocol?.signal(channel.outgoing.id, name)
  } catch {
    // the connection is gone: nothing to signal
  }
}

/**
 * Node's http counts a socket in use until the socket emits 'close', and ssh2 emits it for a channel
 * only once the channel's output has been read to its end. Nobody reads a socket http destroyed: a
 * request given up on, or one whose channel a loaded sshd confirmed only after the request's deadline
 * (http destroys that socket before reading from it). The agent then counted the socket for good, and
 * once it counted maxSockets, every Docker API request of the run waited in its queue: a deploy saw
 * "no answer" from a host whose engine answered at once. A destroyed channel is read to its end, so
 * ssh2's 'close' comes when the host closes it.
 */
function drainOnDestroy(stream: ClientChannel): ClientChannel {
  const destroy = stream.destroy.bind(stream)
  stream.destroy = () => {
    destroy()
    stream.resume()
    return stream
  }
  return stream
}

function addSocketMethods<T extends Duplex>(stream: T): T {
  // http.ClientRequest expects a net.Socket; a channel needs these as no-ops.
  const s = stream as unknown as Record<string, unknown>
  for (const name of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) {
    if (typeof s[name] !== 'function') {
      s[name] = function (this: T) {
        return this
      }
    }
  }
  return stream
}

/** HTTP/1.1 to the Docker Engine over exec channels of one SSH connection, kept alive between requests. */
class DialStdioAgent extends Agent {
  constructor(
    private readonly connection: SshConnection,
    options: AgentOptions = { keepAlive: true, maxSockets: 3, maxFreeSockets: 3 },
  ) {
    super(options)
  }

  /**
   * docker-modem formats every request's options for its debug log, debug on or not; without this,
   * util.inspect walks the agent and the whole SSH connection behind it (2-3 ms of CPU a request).
   */
  [inspect.custom](): string {
    return `DialStdioAgent(${this.connection.target.name})`
  }

  override createConnection(_options: unknown, callback: (error: Error | null, socket?: Duplex) => void): undefined {
    this.connection
      .channel('docker system dial-stdio')
      .then((stream) => {
        let stderr = ''
        stream.stderr.on('data', (chunk: Buffer) => {
          if (stderr.length < 4096) stderr += chunk.toString('utf8')
        })
        stream.on('exit', (code: number | null) => {
          if (code !== 0 && stderr)
            stream.emit(
              'error',
              new Error(`${this.connection.target.name}: docker system dial-stdio: ${stderr.trim()}`),
            )
        })
        callback(null, addSocketMethods(drainOnDestroy(stream)))
      })
      .catch((error: Error) => callback(error))
    return undefined
  }

  /**
   * A Docker API answer that is one JSON document is read whole by docker-modem: past
   * MAX_DOCKER_ANSWER_BYTES the request is torn down instead. Streams and logs (isDockerStream) are
   * consumed as they come and are not bounded here.
   */
  addRequest(request: ClientRequest, options: unknown): void {
    if (!isDockerStream(request.method, request.path)) {
      request.once('response', (response: IncomingMessage) => {
        let bytes = 0
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length
          if (bytes > MAX_DOCKER_ANSWER_BYTES)
            request.destroy(
              new Error(
                `${this.connection.target.name}: the Docker API answered more than ${MAX_DOCKER_ANSWER_BYTES / (1024 * 1024)} MiB to ${request.method} ${request.path.split('?')[0]}`,
              ),
            )
        })
      })
    }
    ;(Agent.prototype as unknown as { addRequest(request: ClientRequest, options: unknown): void }).addRequest.call(
      this,
      request,
      options,
    )
  }
}

const MAX_DOCKER_ANSWER_BYTES = 32 * 1024 * 1024
/** How long a channel we closed may go unconfirmed before its place is given back. */
const CLOSE_GRACE_MS = 10_000

/** Docker API requests whose answer is a stream the caller reads as it comes. */
export function isDockerStream(method: string, path: string): boolean {
  const p = path.replace(/^\/v[\d.]+/, '')
  if (method === 'POST' && /^\/(images\/create|exec\/[^/]+\/start|containers\/[^/]+\/attach)/.test(p)) return true
  // a build's and a push's progress, read line by line as they come (images build)
  if (method === 'POST' && /^\/(build([?]|$)|images\/.+\/push([?]|$))/.test(p)) return true
  // a log tail is read whole too, but a long --tail is the operator's to ask for
  if (/^\/(events|containers\/[^/]+\/logs)([?/]|$)/.test(p)) return true
  return /^\/containers\/[^/]+\/stats([?/]|$)/.test(p) && !/[?&]stream=(false|0)(&|$)/.test(p)
}

async function handshake(
  target: SshTarget,
  options: SshOptions,
  jump: SshConnection | null,
  signal?: AbortSignal,
): Promise<Client> {
  if (signal?.aborted) throw abandoned(target)
  const entries = [
    ...(await Promise.all(target.knownHostsFiles.map(readKnownHosts))).flat(),
    ...(await Promise.all((target.revokedHostKeysFiles ?? []).map(readRevokedKeys))).flat(),
  ]
  // HostKeyAlias: the one name looked up and recorded, as ssh does
  const tokens = target.hostKeyAlias
    ? [target.hostKeyAlias]
    : [
        hostToken(target.hostname, target.port),
        ...(target.alias !== target.hostname ? [hostToken(target.alias, target.port)] : []),
      ]
  const acceptNew = options.acceptNew === true || target.strictHostKeyChecking === 'accept-new'
  const agent = target.agent === undefined ? process.env.SSH_AUTH_SOCK : (target.agent ?? undefined)
  let refusal: UserError | null = null
  let accepted: Buffer | null = null
  const privateKeys: Buffer[] = []
  for (const file of target.identityFiles) {
    try {
      privateKeys.push(await readFile(file))
    } catch {
      // An identity file that does not exist is skipped, as OpenSSH does.
    }
  }
  const sock = jump
    ? await jump.forward(target.port, target.hostname)
    : target.proxyCommand
      ? proxyCommandSocket(target)
      : undefined
  const client = new Client()
  return new Promise((resolve, reject) => {
    let keyIndex = 0
    const methods: string[] = []
    const config: ConnectConfig = {
      host: target.hostname,
      port: target.port,
      username: target.user,
      readyTimeout: options.readyTimeoutMs ?? 10_000,
      // a host that stops answering is given up after about 15 s (OpenSSH's ServerAliveCountMax is 3 too)
      keepaliveInterval: options.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: 3,
      ...(sock ? { sock: sock } : {}),
      algorithms: {
        serverHostKey: orderHostKeyAlgorithms(entries, tokens) as NonNullable<
          ConnectConfig['algorithms']
        >['serverHostKey'],
      },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void): void => {
        const verdict = checkHostKey(entries, tokens, key)
        if (verdict.status === 'known') return verify(true)
        refusal = hostKeyRefusal(target, key, verdict, acceptNew)
        const authorities = verdict.status === 'unknown' ? trustedAuthorities(entries, tokens) : []
        if (authorities.length > 0) {
          // a CA the file trusts for this host may vouch for the key: ask the host for its certificate
          void certified(
            target,
            target.hostKeyAlias ?? target.hostname,
            key,
            authorities.map((a) => a.key),
          ).then((problem) => {
            if (problem === null) {
              refusal = null
              return verify(true)
            }
            refusal = new UserError(
              `${target.name}: the host key of ${hostToken(target.hostname, target.port)} (${keyTypeOf(key)} key ${fingerprint(key)}) is not known, and no certificate vouches for it: ${problem}. Nothing was sent to this host.`,
              `known_hosts trusts a CA for this host (@cert-authority): check the host's HostCertificate (ssh-keygen -L -f the certificate).`,
            )
            verify(false)
          })
          return
        }
        if (verdict.status === 'unknown' && acceptNew) {
          refusal = null
          accepted = key
          return verify(true)
        }
        verify(false)
      },
      // Agent first, then each identity file, like OpenSSH.
      authHandler: (methodsLeft, _partial, next) => {
        if (agent && !methods.includes('agent')) {
          methods.push('agent')
          return next({ type: 'agent', username: target.user, agent } as never)
        }
        if (keyIndex < privateKeys.length && (methodsLeft === null || methodsLeft.includes('publickey'))) {
          methods.push(target.identityFiles[keyIndex]!)
          return next({ type: 'publickey', username: target.user, key: privateKeys[keyIndex++]! } as never)
        }
        return next(false as never)
      },
    }
    const onAbort = (): void => {
      // destroy, not end: a socket still connecting, or an sshd that never answers, would otherwise
      // keep the process alive until the ready timeout.
      client.on('error', () => undefined)
      client.destroy()
      reject(abandoned(target))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    client.once('close', () => signal?.removeEventListener('abort', onAbort))
    if (signal?.aborted) return onAbort()
    client.once('ready', () => {
      signal?.removeEventListener('abort', onAbort)
      client.removeAllListeners('error')
      client.on('error', () => undefined) // later errors surface on the channels that hit them
      if (accepted) {
        void appendKnownHost(target.knownHostsFiles[0]!, tokens[0]!, accepted).then(
          () => resolve(client),
          (error: Error) => {
            client.end()
            reject(
              new UserError(
                `${target.name}: cannot record the new host key in ${target.knownHostsFiles[0]}: ${error.message}`,
              ),
            )
          },
        )
      } else resolve(client)
    })
    client.once('error', (error: Error & { level?: string }) => {
      // ssh2 can emit a second error for the same failure (a reset, then "Connection lost before
      // handshake" when the socket closes): with no listener left, that one would crash the process.
      client.on('error', () => undefined)
      client.end()
      if (refusal) return reject(refusal)
      if (error.level === 'client-authentication') {
        return reject(
          new UserError(
            `${target.name}: SSH authentication failed for ${target.user}@${target.hostname}:${target.port} (tried ${methods.length > 0 ? methods.join(', ') : 'nothing: no agent and no identity file'})`,
            authenticationHint(target),
          ),
        )
      }
      reject(error)
    })
    client.connect(config)
  })
}

/**
 * What to check when the host refused every key offered. ssh would also offer the user certificates the
 * SSH configuration names: a host that accepts only those refuses ai-platform, and that must not be silent.
 */
function authenticationHint(target: SshTarget): string {
  const hint = 'Check the user and identity_file in the inventory or ~/.ssh/config, or load the key into ssh-agent.'
  const certificates = target.certificateFiles ?? []
  if (certificates.length === 0) return hint
  return `${hint} ssh would also offer the user certificate${certificates.length === 1 ? '' : 's'} ${certificates.join(', ')} (CertificateFile): ai-platform cannot offer user certificates (ssh2, its SSH client, has no certificate authentication). Authorise a plain key for ${target.user} on the host (in that user's ~/.ssh/authorized_keys) and name it in IdentityFile (or the inventory's ssh.identity_file), or load it into ssh-agent.`
}

/** null when a certificate of the host, signed by a trusted CA, vouches for the key it presented; else why not. */
async function certified(
  target: SshTarget,
  name: string,
  presented: Buffer,
  trusted: Buffer[],
): Promise<string | null> {
  if (target.proxyJump || target.proxyCommand)
    return 'the certificate cannot be fetched through ProxyJump or ProxyCommand (ssh-keyscan connects directly)'
  const certificates = await scanHostCertificates(target.hostname, target.port).catch(() => [])
  if (certificates.length === 0) return 'the host offers no certificate'
  const verdicts = certificates.map((cert) => checkHostCertificate(cert, { trusted, name, presented }))
  if (verdicts.some((v) => v.ok)) return null
  return verdicts.map((v) => (v.ok ? '' : v.reason)).join('; ')
}

/**
 * ProxyCommand: the command (tokens already expanded) run by the shell, its stdin and stdout the
 * connection, as ssh runs it. What it prints on stderr goes with the error when the handshake fails.
 */
function proxyCommandSocket(target: SshTarget): Duplex {
  const child = spawn('/bin/sh', ['-c', target.proxyCommand!], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000)
  })
  const socket = Duplex.from({ readable: child.stdout, writable: child.stdin })
  socket.on('close', () => child.kill())
  child.on('exit', (code) => {
    if (code !== 0 && code !== null)
      socket.destroy(
        new Error(
          `ProxyCommand \`${target.proxyCommand}\` exited with ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`,
        ),
      )
  })
  child.on('error', (error) =>
    socket.destroy(new Error(`ProxyCommand \`${target.proxyCommand}\` did not start: ${error.message}`)),
  )
  return addSocketMethods(socket)
}

/** One signal is shared by every handshake of a pool (up to 64 at once): no listener-count warning. */
function abortController(): AbortController {
  const controller = new AbortController()
  setMaxListeners(0, controller.signal)
  return controller
}

function abandoned(target: SshTarget): Error {
  return new RemoteError({
    host: target.name,
    message: `${target.name}: connection abandoned (the run ended before it was needed)`,
  })
}

function hostKeyRefusal(
  target: SshTarget,
  key: Buffer,
  verdict: ReturnType<typeof checkHostKey>,
  acceptNew: boolean,
): UserError {
  const where = `${target.hostname}${target.port !== 22 ? `:${target.port}` : ''}`
  const print = `${keyTypeOf(key)} key ${fingerprint(key)}`
  const file = target.knownHostsFiles[0]
  if (verdict.status === 'changed') {
    return new UserError(
      `${target.name}: REMOTE HOST IDENTIFICATION HAS CHANGED for ${where}: it offers ${print}, which does not match ${verdict.at.join(', ')}. Someone could be eavesdropping (man-in-the-middle), or the host was reinstalled. Nothing was sent to this host.`,
      `If the change is expected, remove the old key with \`ssh-keygen -R ${hostToken(target.hostname, target.port)} -f ${file}\` and connect again with --accept-new (or AIP_ACCEPT_NEW=1).`,
    )
  }
  if (verdict.status === 'revoked') {
    return new UserError(
      `${target.name}: the host key of ${where} (${print}) is revoked (${verdict.at}). Nothing was sent to this host.`,
    )
  }
  return new UserError(
    `${target.name}: the host key of ${where} is not known (${print} is in none of ${target.knownHostsFiles.join(', ')}). Nothing was sent to this host.`,
    acceptNew
      ? undefined
      : `Check the fingerprint (on the host: ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeOf(key).replace('ssh-', '')}_key.pub), then run again with --accept-new (or AIP_ACCEPT_NEW=1) to record it, as ssh's StrictHostKeyChecking=accept-new does.`,
  )
}

function describeConnectError(target: SshTarget, error: unknown): Error {
  if (error instanceof UserError) return error
  const e = error as NodeJS.ErrnoException & { level?: string }
  const where = `${target.user}@${target.hostname}:${target.port}`
  if (e.code === 'ECONNREFUSED')
    return new RemoteError({
      host: target.name,
      argv: ['ssh', where],
      message: `${target.name}: connection refused by ${where}: is sshd running?`,
    })
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH')
    return new RemoteError({
      host: target.name,
      argv: ['ssh', where],
      message: `${target.name}: ${where} is unreachable (${e.code})`,
    })
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return new RemoteError({
      host: target.name,
      argv: ['ssh', where],
      message: `${target.name}: cannot resolve ${target.hostname} (${e.code})`,
    })
  if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT' || /Timed out/i.test(e.message ?? '')) {
    return new RemoteError({
      host: target.name,
      argv: ['ssh', where],
      message: `${target.name}: no SSH answer from ${where} in time: host down or network cut?`,
    })
  }
  return new RemoteError({
    host: target.name,
    argv: ['ssh', where],
    message: `${target.name}: cannot connect to ${where}: ${e.message ?? String(error)}`,
  })
}

/** The SSH executor: a thin adapter from the Executor interface onto one pooled connection. */
export class SshExecutor implements Executor {
  readonly transport = 'ssh' as const
  constructor(
    readonly host: string,
    private readonly connection: SshConnection,
  ) {}

  run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.connection.run(argv, options)
  }

  docker(): Docker {
    return this.connection.docker()
  }

  forward(port: number, address?: string, options?: WaitOptions): Promise<Duplex> {
    return this.connection.forward(port, address, options)
  }

  download(remotePath: string, localPath: string, options?: { maxBytes?: number }): Promise<void> {
    return this.connection.download(remotePath, localPath, options)
  }

  get lost(): boolean {
    return this.connection.isLost
  }

  close(): Promise<void> {
    this.connection.close()
    return Promise.resolve()
  }
}
