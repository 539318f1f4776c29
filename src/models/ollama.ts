// An Ollama API client for what the platform needs: tags, pull (NDJSON progress, errors under HTTP 200),
// delete. Over a direct HTTP connection, or through the host's SSH connection when the port is not
// reachable directly.
import type { Duplex } from 'node:stream'
import { Client, type Dispatcher } from 'undici'
import { errorMessage } from '../errors.js'

export interface TagModel {
  name: string
  model: string
  size: number
  digest: string
  modified_at: string
}

export interface PullLine {
  status?: string
  digest?: string
  total?: number
  completed?: number
  error?: string
}

export class OllamaError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message)
    this.name = 'OllamaError'
  }
}

export interface OllamaEndpoint {
  host: string
  origin: string
  /** When set, connections go through this (an SSH forward); else straight to origin. */
  tunnel?: () => Promise<Duplex>
}

function clientFor(endpoint: OllamaEndpoint, timeoutMs: number): Client {
  return new Client(endpoint.origin, {
    connectTimeout: timeoutMs,
    ...(endpoint.tunnel
      ? {
          connect: (_options, callback) => {
            endpoint.tunnel!().then(
              (stream) => callback(null, stream as never),
              (error: Error) => callback(error, null),
            )
          },
        }
      : {}),
  })
}

async function call(endpoint: OllamaEndpoint, options: Dispatcher.RequestOptions, timeoutMs: number): Promise<{ status: number; text: string }> {
  const client = clientFor(endpoint, timeoutMs)
  try {
    const response = await client.request({ ...options, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    return { status: response.statusCode, text: await response.body.text() }
  } catch (error) {
    throw new OllamaError(`${endpoint.host}: Ollama at ${endpoint.origin} does not answer: ${errorMessage(error)}`, true)
  } finally {
    await client.close().catch(() => undefined)
  }
}

export async function listTags(endpoint: OllamaEndpoint, timeoutMs = 5000): Promise<TagModel[]> {
  const { status, text } = await call(endpoint, { method: 'GET', path: '/api/tags' }, timeoutMs)
  if (status !== 200) throw new OllamaError(`${endpoint.host}: GET /api/tags answered HTTP ${status}: ${text.slice(0, 200)}`, status >= 500)
  try {
    return ((JSON.parse(text) as { models: TagModel[] | null }).models ?? []) as TagModel[]
  } catch {
    throw new OllamaError(`${endpoint.host}: /api/tags is not Ollama JSON`, false)
  }
}

export async function deleteModel(endpoint: OllamaEndpoint, model: string, timeoutMs = 30_000): Promise<'deleted' | 'absent'> {
  const { status, text } = await call(endpoint, { method: 'DELETE', path: '/api/delete', body: JSON.stringify({ model }), headers: { 'content-type': 'application/json' } }, timeoutMs)
  if (status === 200) return 'deleted'
  if (status === 404) return 'absent'
  throw new OllamaError(`${endpoint.host}: delete ${model} answered HTTP ${status}: ${errorText(text)}`, status >= 500)
}

function errorText(text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text.slice(0, 200)
  } catch {
    return text.slice(0, 200)
  }
}

/**
 * POST /api/pull, streaming. Every NDJSON line goes to onLine; any line with an `error` key is a
 * failure even under HTTP 200 (the status is sent before the error is known). A stream that ends
 * without `success` was interrupted: retryable, and Ollama resumes from its partial files.
 */
export async function pull(endpoint: OllamaEndpoint, model: string, onLine: (line: PullLine) => void, options: { signal?: AbortSignal; stallMs?: number } = {}): Promise<void> {
  const client = clientFor(endpoint, 10_000)
  const stallMs = options.stallMs ?? 60_000
  try {
    let response: Dispatcher.ResponseData
    try {
      response = await client.request({
        method: 'POST',
        path: '/api/pull',
        body: JSON.stringify({ model, stream: true }),
        headers: { 'content-type': 'application/json' },
        headersTimeout: stallMs,
        bodyTimeout: stallMs,
        ...(options.signal ? { signal: options.signal } : {}),
      })
    } catch (error) {
      if (options.signal?.aborted) throw new OllamaError(`${endpoint.host}: pull of ${model} interrupted`, false)
      throw new OllamaError(`${endpoint.host}: cannot reach Ollama at ${endpoint.origin}: ${errorMessage(error)}`, true)
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text()
      throw new OllamaError(`${endpoint.host}: pull ${model}: HTTP ${response.statusCode}: ${errorText(text)}`, response.statusCode >= 500 && !/file does not exist|invalid model name/.test(text))
    }
    let buffer = ''
    let succeeded = false
    try {
      for await (const chunk of response.body) {
        buffer += (chunk as Buffer).toString('utf8')
        let newline: number
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const raw = buffer.slice(0, newline).trim()
          buffer = buffer.slice(newline + 1)
          if (raw === '') continue
          let line: PullLine
          try {
            line = JSON.parse(raw) as PullLine
          } catch {
            throw new OllamaError(`${endpoint.host}: pull ${model}: not NDJSON: ${raw.slice(0, 120)}`, false)
          }
          if (line.error !== undefined) throw new OllamaError(`${endpoint.host}: pull ${model}: ${line.error}`, /max retries|stalled|connection reset|EOF|timeout/i.test(line.error))
          onLine(line)
          if (line.status === 'success') succeeded = true
        }
      }
    } catch (error) {
      if (error instanceof OllamaError) throw error
      if (options.signal?.aborted) throw new OllamaError(`${endpoint.host}: pull of ${model} interrupted`, false)
      throw new OllamaError(`${endpoint.host}: pull ${model}: the stream broke: ${errorMessage(error)}`, true)
    }
    if (!succeeded) throw new OllamaError(`${endpoint.host}: pull ${model}: the stream ended before success`, true)
  } finally {
    await client.close().catch(() => undefined)
  }
}

/** Bytes done and total over every layer a pull has announced. */
export class PullProgress {
  private readonly layers = new Map<string, { total: number; completed: number }>()
  status = 'starting'

  update(line: PullLine): void {
    if (line.status) this.status = line.status
    if (line.digest && line.total) {
      const layer = this.layers.get(line.digest) ?? { total: line.total, completed: 0 }
      layer.total = line.total
      // Progress can go backwards on resumes and shared storage; never show it shrinking.
      layer.completed = Math.max(layer.completed, line.completed ?? 0)
      this.layers.set(line.digest, layer)
    }
  }

  get totals(): { completed: number; total: number } {
    let completed = 0
    let total = 0
    for (const layer of this.layers.values()) {
      completed += layer.completed
      total += layer.total
    }
    return { completed, total }
  }
}
