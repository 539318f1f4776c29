// Images: pull only what a host lacks (or everything with --pull always), with progress.
import type Docker from 'dockerode'
import { RemoteError, UserError, errorMessage } from '../errors.js'
import { quoted } from '../util/printable.js'
import { LineTooLong, streamLines } from '../util/stream-lines.js'
import { REMOTE_WAIT_MS, withDeadline } from '../util/deadline.js'
import { StepFailure } from './host-ops.js'
import {
  authFor,
  credentialRefusal,
  isCredentialRefusal,
  registryOfImage,
  type RegistryLogin,
} from '../remote/registry-auth.js'

export interface PullProgress {
  image: string
  currentBytes: number
  totalBytes: number
  status: string
}

/** dockerode's Image.inspect() without its missing piece: the abort signal reaches the request. */
export function inspectImage(docker: Docker, image: string, signal?: AbortSignal): Promise<unknown> {
  const modem = docker.modem as unknown as {
    dial(options: Record<string, unknown>, callback: (error: unknown, data: unknown) => void): void
  }
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: `/images/${image}/json`,
        method: 'GET',
        options: {},
        ...(signal ? { abortSignal: signal } : {}),
        statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
      },
      (error, data) =>
        error ? reject(error instanceof Error ? error : new Error(`docker: ${JSON.stringify(error)}`)) : resolve(data),
    )
  })
}

async function missingImages(docker: Docker, images: readonly string[], signal?: AbortSignal): Promise<string[]> {
  const missing: string[] = []
  for (const image of [...new Set(images)].sort()) {
    try {
      await inspectImage(docker, image, signal)
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) missing.push(image)
      else throw error
    }
  }
  return missing
}

/**
 * Pulls one image with progress. A pull that reports nothing for `stallMs` is abandoned: a registry
 * or engine that stops answering fails the step instead of holding the deploy. The progress stream is
 * the host's: each line is parsed here, and one that is not a JSON object fails the pull.
 */
async function pullImage(
  docker: Docker,
  host: string,
  image: string,
  onProgress: (p: PullProgress) => void,
  signal?: AbortSignal,
  stallMs = 5 * 60_000,
  login: RegistryLogin | null = null,
): Promise<void> {
  const controller = new AbortController()
  let stalled = false
  const abort = () => controller.abort()
  const failed = (message: string): Error =>
    !stalled && isCredentialRefusal(message)
      ? pullRefusal(host, image, login, message)
      : new RemoteError({
          host,
          argv: ['docker', 'pull', image],
          stderr: message,
          message: `${host}: cannot pull ${image}: ${stalled ? `no progress for ${Math.round(stallMs / 1000)} s` : message.trim()}`,
        })
  if (signal?.aborted) throw failed('interrupted')
  signal?.addEventListener('abort', abort, { once: true })
  let timer = setTimeout(() => ((stalled = true), controller.abort()), stallMs)
  const alive = () => {
    if (controller.signal.aborted) return
    clearTimeout(timer)
    timer = setTimeout(() => ((stalled = true), controller.abort()), stallMs)
  }
  try {
    let stream: NodeJS.ReadableStream
    try {
      const authconfig = authFor(image, login)
      stream = await docker.pull(image, { abortSignal: controller.signal, ...(authconfig ? { authconfig } : {}) })
    } catch (error) {
      throw failed((error as { json?: { message?: string } }).json?.message ?? (error as Error).message)
    }
    const layers = new Map<string, { current: number; total: number }>()
    try {
      for await (const raw of streamLines(stream as AsyncIterable<Buffer | string>, { onChunk: alive })) {
        const line = raw.trim()
        if (line === '') continue
        const event = progressEvent(line)
        if (event === null) throw failed(`not a progress line: ${quoted(line, 80)}`)
        if (typeof event.error === 'string') throw failed(event.error)
        const detail = event.progressDetail
        if (typeof event.id === 'string' && detail && typeof detail.total === 'number' && detail.total > 0)
          layers.set(event.id, {
            current: typeof detail.current === 'number' ? detail.current : 0,
            total: detail.total,
          })
        let current = 0
        let total = 0
        for (const layer of layers.values()) {
          current += layer.current
          total += layer.total
        }
        onProgress({
          image,
          currentBytes: current,
          totalBytes: total,
          status: typeof event.status === 'string' ? event.status : '',
        })
      }
    } catch (error) {
      if (error instanceof LineTooLong) throw failed('a progress line longer than 1 MiB')
      if (error instanceof RemoteError || error instanceof UserError) throw error
      throw failed(controller.signal.aborted ? (stalled ? 'stalled' : 'interrupted') : errorMessage(error))
    }
    if (controller.signal.aborted) throw failed(stalled ? 'stalled' : 'interrupted')
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', abort)
  }
}

/**
 * A pull the registry refused for want of (the right) credentials: a user error naming the registry,
 * the user and the secret, not a remote error with the engine's wording alone. Docker Hub images
 * (no registry in the name) keep the engine's message.
 */
export function pullRefusal(host: string, image: string, login: RegistryLogin | null, detail: string): Error {
  const registry = registryOfImage(image)
  const text = detail.trim()
  if (registry === null)
    return new RemoteError({
      host,
      argv: ['docker', 'pull', image],
      stderr: text,
      message: `${host}: cannot pull ${image}: ${text}`,
    })
  return credentialRefusal(host, registry, login?.registry === registry ? login : null, `pulling ${image}: ${text}`)
}

interface ProgressEvent {
  id?: unknown
  status?: unknown
  error?: unknown
  progressDetail?: { current?: unknown; total?: unknown } | null
}

function progressEvent(line: string): ProgressEvent | null {
  try {
    const value: unknown = JSON.parse(line)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
    const event = value as ProgressEvent
    if (
      event.progressDetail !== undefined &&
      (event.progressDetail === null || typeof event.progressDetail !== 'object')
    )
      event.progressDetail = null
    return event
  } catch {
    return null
  }
}

export interface EnsureImagesOptions {
  /** missing: pull what the host lacks; always: pull every one; never: fail when one is missing. */
  pull: 'missing' | 'always' | 'never'
  /** The registry's log-in, given per pull to the engine. */
  login: RegistryLogin | null
  signal?: AbortSignal | undefined
  /** A pull's progress: the image, and its bytes so far in words. */
  onProgress: (image: string, text: string) => void
}

/** Pulls the images a host lacks (or all, or none), with progress; returns those pulled. */
export async function ensureImages(
  exec: { host: string; docker(): Docker },
  images: readonly string[],
  options: EnsureImagesOptions,
): Promise<string[]> {
  const docker = exec.docker()
  const missing =
    options.pull === 'always'
      ? [...images]
      : await withDeadline(
          exec.host,
          'the Docker API (inspect images)',
          REMOTE_WAIT_MS,
          (signal) => missingImages(docker, images, signal),
          options.signal,
        )
  if (options.pull === 'never') {
    if (missing.length > 0)
      throw new StepFailure(`${exec.host}: images missing and --pull never: ${missing.join(', ')}`)
    return []
  }
  for (const image of missing)
    await pullImage(
      docker,
      exec.host,
      image,
      (p) =>
        options.onProgress(
          image,
          p.totalBytes > 0 ? `${image} ${formatMb(p.currentBytes)}/${formatMb(p.totalBytes)}` : `${image} ${p.status}`,
        ),
      options.signal,
      undefined,
      options.login,
    )
  return missing
}

function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}
