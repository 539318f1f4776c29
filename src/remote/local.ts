// The local connector: the workstation host runs the same steps through execa, no SSH.
import { chmod, copyFile, rename, rm, stat } from 'node:fs/promises'
import { connect } from 'node:net'
import type { Duplex } from 'node:stream'
import type Docker from 'dockerode'
import { dockerode } from './dockerode.js'
import { RemoteError } from '../errors.js'
import { shellQuote } from './quote.js'
import { trace } from './trace.js'
import {
  DEFAULT_TIMEOUT_MS,
  MAX_OUTPUT_BYTES,
  type Executor,
  type RunOptions,
  type RunResult,
  type WaitOptions,
} from './executor.js'
import { REMOTE_WAIT_MS, seconds } from '../util/deadline.js'

export class LocalExecutor implements Executor {
  readonly lost = false
  readonly transport = 'local' as const
  private dockerClient: Docker | undefined

  constructor(
    readonly host: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly redact: (text: string) => string = (t) => t,
  ) {}

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    // Loaded here, not at start-up: only a `local` host runs commands through execa.
    const { execa } = await import('execa')
    const child = execa(argv[0]!, argv.slice(1), {
      reject: false,
      env: this.env,
      extendEnv: false,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
      ...(typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin)
        ? { input: options.stdin }
        : options.stdin
          ? { stdin: options.stdin }
          : { stdin: 'ignore' as const }),
      stripFinalNewline: false,
      encoding: 'utf8',
      ...(options.keepOutput === false ? { buffer: false } : { maxBuffer: options.maxOutputBytes ?? MAX_OUTPUT_BYTES }),
    })
    if (options.onStdout) child.stdout?.on('data', (chunk: Buffer) => options.onStdout!(chunk.toString('utf8')))
    if (options.onStderr) child.stderr?.on('data', (chunk: Buffer) => options.onStderr!(chunk.toString('utf8')))
    const t0 = Date.now()
    const result = await child
    trace(
      this.host,
      shellQuote(argv),
      typeof result.exitCode === 'number' ? result.exitCode : null,
      Date.now() - t0,
      this.redact,
    )
    const code = typeof result.exitCode === 'number' ? result.exitCode : 255
    const out = { code, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') }
    if (result.timedOut)
      throw new RemoteError({
        host: this.host,
        argv,
        stderr: out.stderr,
        message: `${this.host}: \`${argv.join(' ')}\` did not finish within ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s`,
      })
    if ((result as { isMaxBuffer?: boolean }).isMaxBuffer)
      throw new RemoteError({
        host: this.host,
        argv,
        message: `${this.host}: \`${argv.join(' ')}\` printed more than ${Math.round((options.maxOutputBytes ?? MAX_OUTPUT_BYTES) / (1024 * 1024))} MiB; stopped reading it`,
      })
    if (result.isCanceled)
      throw new RemoteError({ host: this.host, argv, message: `${this.host}: \`${argv.join(' ')}\` was interrupted` })
    if ((result as { code?: string }).code === 'ENOENT')
      throw new RemoteError({
        host: this.host,
        argv,
        exitCode: 127,
        message: `${this.host}: ${argv[0]} is not installed`,
      })
    if (options.check !== false && code !== 0)
      throw new RemoteError({ host: this.host, argv, exitCode: code, stderr: this.redact(out.stderr || out.stdout) })
    return out
  }

  docker(): Docker {
    if (!this.dockerClient) {
      const host = this.env.DOCKER_HOST
      const Docker = dockerode()
      this.dockerClient = host?.startsWith('unix://')
        ? new Docker({ socketPath: host.slice('unix://'.length) })
        : host
          ? new Docker()
          : new Docker({ socketPath: '/var/run/docker.sock' })
    }
    return this.dockerClient
  }

  forward(port: number, address = '127.0.0.1', options: WaitOptions = {}): Promise<Duplex> {
    const timeoutMs = options.timeoutMs ?? REMOTE_WAIT_MS
    return new Promise((resolve, reject) => {
      const socket = connect({
        port,
        host: address,
        timeout: timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      })
      socket.once('connect', () => {
        socket.setTimeout(0)
        resolve(socket)
      })
      socket.once('timeout', () => {
        socket.destroy()
        reject(
          new RemoteError({
            host: this.host,
            argv: [`connect ${address}:${port}`],
            message: `${this.host}: cannot reach ${address}:${port}: no answer within ${seconds(timeoutMs)}`,
          }),
        )
      })
      socket.once('error', (error) =>
        reject(
          new RemoteError({
            host: this.host,
            argv: [`connect ${address}:${port}`],
            message: `${this.host}: cannot reach ${address}:${port}: ${error.message}`,
          }),
        ),
      )
    })
  }

  async download(remotePath: string, localPath: string, options: { maxBytes?: number } = {}): Promise<void> {
    const partial = `${localPath}.part-${process.pid}`
    try {
      const { size } = await stat(remotePath)
      if (options.maxBytes !== undefined && size > options.maxBytes)
        throw new RemoteError({
          host: this.host,
          argv: ['copy', remotePath],
          message: `${this.host}: ${remotePath} is ${size} bytes, more than the ${options.maxBytes} announced`,
        })
      await copyFile(remotePath, partial)
      await chmod(partial, 0o600)
      await rename(partial, localPath)
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    }
  }

  async close(): Promise<void> {
    // Nothing pooled: each command is its own process.
  }
}
