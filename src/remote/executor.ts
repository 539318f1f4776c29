// One executor interface: SSH, local and recording implementations are injected
// into services, which never know which transport they use.
import type { Duplex, Readable } from 'node:stream'
import type Docker from 'dockerode'

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  /** Set when the command was ended by a signal (code is then 255). */
  signal?: string
}

export interface RunOptions {
  /** Bytes for the command's stdin (a release tarball, a script). Never put secrets in argv. */
  stdin?: string | Buffer | Readable
  timeoutMs?: number
  /** Throw a RemoteError on a non-zero exit (default true). */
  check?: boolean
  /** false: hand output only to onStdout/onStderr, keep none (no bound then; for streaming to the user). */
  keepOutput?: boolean
  /** Output kept past this fails the command (default MAX_OUTPUT_BYTES). */
  maxOutputBytes?: number
  onStdout?: (chunk: string) => void
  onStderr?: (chunk: string) => void
  signal?: AbortSignal
}

export interface Executor {
  readonly host: string
  readonly transport: 'ssh' | 'local'
  /** Runs argv (quoted by the executor, never by callers). */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>
  /** The host's Docker Engine API, over this executor's own connection. */
  docker(): Docker
  /** A TCP stream to a port on the host's loopback, through the same connection. */
  forward(port: number, address?: string, options?: WaitOptions): Promise<Duplex>
  /** Copies a file from the host to this machine (SFTP over the same connection). */
  download(remotePath: string, localPath: string, options?: { maxBytes?: number }): Promise<void>
  /** The connection dropped under us (keepalives unanswered, host or network gone): what ran may or may not have finished. */
  readonly lost: boolean
  close(): Promise<void>
}

/** Masks secret values in a text (see secrets/secrets.ts redactor()). */
export type Redact = (text: string) => string

/** Options of a service that reaches hosts: what it and its connections print is masked with this. */
export interface Masked {
  redact?: Redact
}

/** How long one wait may take, and the caller's signal that ends it sooner. */
export interface WaitOptions {
  timeoutMs?: number
  signal?: AbortSignal
}

export const DEFAULT_TIMEOUT_MS = 120_000
/** stdout and stderr together: far above any answer ai-platform reads, far below what would crash it. */
export const MAX_OUTPUT_BYTES = 64 * 1024 * 1024
