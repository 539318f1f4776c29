// Images: pull only what a host lacks (or everything with --pull always), with progress.
import type Docker from 'dockerode'
import { RemoteError } from '../errors.js'

export interface PullProgress {
  image: string
  currentBytes: number
  totalBytes: number
  status: string
}

export async function missingImages(docker: Docker, images: readonly string[]): Promise<string[]> {
  const missing: string[] = []
  for (const image of [...new Set(images)].sort()) {
    try {
      await docker.getImage(image).inspect()
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) missing.push(image)
      else throw error
    }
  }
  return missing
}

export async function pullImage(docker: Docker, host: string, image: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  let stream: NodeJS.ReadableStream
  try {
    stream = await docker.pull(image, signal ? { abortSignal: signal } : {})
  } catch (error) {
    const message = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message
    throw new RemoteError(host, ['docker', 'pull', image], null, message, `${host}: cannot pull ${image}: ${message.trim()}`)
  }
  const layers = new Map<string, { current: number; total: number }>()
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: { error?: string }[]) => {
        const failed = error?.message ?? output?.find((o) => o.error)?.error
        if (failed) reject(new RemoteError(host, ['docker', 'pull', image], null, failed, `${host}: cannot pull ${image}: ${failed}`))
        else resolve()
      },
      (event: { id?: string; status?: string; progressDetail?: { current?: number; total?: number } }) => {
        if (event.id && event.progressDetail?.total) layers.set(event.id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total })
        let current = 0
        let total = 0
        for (const layer of layers.values()) {
          current += layer.current
          total += layer.total
        }
        onProgress({ image, currentBytes: current, totalBytes: total, status: event.status ?? '' })
      },
    )
  })
}
