// Images: pull only what a host lacks (or everything with --pull always), with progress.
import type Docker from 'dockerode'
import { RemoteError } from '../errors.js'

export interface PullProgress {
  image: string
  currentBytes: number
  totalBytes: number
  status: string
}

/** dockerode's Image.inspect() without its missing piece: the abort signal reaches the request. */
function inspectImage(docker: Docker, image: string, signal?: AbortSignal): Promise<unknown> {
  const modem = docker.modem as unknown as { dial(options: Record<string, unknown>, callback: (error: unknown, data: unknown) => void): void }
  return new Promise((resolve, reject) => {
    modem.dial({ path: `/images/${image}/json`, method: 'GET', options: {}, ...(signal ? { abortSignal: signal } : {}), statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } }, (error, data) => (error ? reject(error) : resolve(data)))
  })
}

export async function missingImages(docker: Docker, images: readonly string[], signal?: AbortSignal): Promise<string[]> {
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
 * or engine that stops answering fails the step instead of holding the deploy.
 */
export async function pullImage(docker: Docker, host: string, image: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal, stallMs = 5 * 60_000): Promise<void> {
  const controller = new AbortController()
  const abort = () => controller.abort()
  signal?.addEventListener('abort', abort, { once: true })
  let stalled = false
  let timer = setTimeout(() => ((stalled = true), controller.abort()), stallMs)
  const alive = () => {
    clearTimeout(timer)
    timer = setTimeout(() => ((stalled = true), controller.abort()), stallMs)
  }
  const failed = (message: string) => new RemoteError(host, ['docker', 'pull', image], null, message, `${host}: cannot pull ${image}: ${stalled ? `no progress for ${Math.round(stallMs / 1000)} s` : message.trim()}`)
  try {
    let stream: NodeJS.ReadableStream
    try {
      stream = await docker.pull(image, { abortSignal: controller.signal })
    } catch (error) {
      throw failed((error as { json?: { message?: string } }).json?.message ?? (error as Error).message)
    }
    const layers = new Map<string, { current: number; total: number }>()
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null, output: { error?: string }[]) => {
          const message = error?.message ?? output?.find((o) => o.error)?.error
          if (message || stalled) reject(failed(message ?? 'aborted'))
          else resolve()
        },
        (event: { id?: string; status?: string; progressDetail?: { current?: number; total?: number } }) => {
          alive()
          const total = event.progressDetail?.total
          const current = event.progressDetail?.current
          if (typeof event.id === 'string' && typeof total === 'number' && total > 0) layers.set(event.id, { current: typeof current === 'number' ? current : 0, total })
          let sumCurrent = 0
          let sumTotal = 0
          for (const layer of layers.values()) {
            sumCurrent += layer.current
            sumTotal += layer.total
          }
          onProgress({ image, currentBytes: sumCurrent, totalBytes: sumTotal, status: typeof event.status === 'string' ? event.status : '' })
        },
      )
      // A stall aborts the request; followProgress may not report it when the stream just stops.
      controller.signal.addEventListener('abort', () => reject(failed(stalled ? 'stalled' : 'interrupted')), { once: true })
    })
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', abort)
  }
}
