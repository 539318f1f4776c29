// An Ollama API client for what the platform needs: tags, pull (NDJSON progress, errors under HTTP 200),
// delete. Over a direct HTTP connection, or through the host's SSH connection when the port is not
// reachable directly.
import type { Duplex } from 'node:stream'
import { Client, type Dispatcher } from 'undici'
import { errorMessage } from '../errors.js'
import { quoted } from '../util/printable.js'
import { readBody } from '../util/read-body.js'
import { LineTooLong, streamLines } from '../util/stream-lines.js'

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

async function call(
  endpoint: OllamaEndpoint,
  options: Dispatcher.RequestOptions,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const client = clientFor(endpoint, timeoutMs)
  try {
    const response = await client.request({ ...options, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    return { status: response.statusCode, text: await readBody(response.body, MAX_ANSWER_BYTES) }
  } catch (error) {
    throw new OllamaError(
      `${endpoint.host}: Ollama at ${endpoint.origin} does not answer: ${errorMessage(error)}`,
      true,
    )
  } finally {
    await client.close().catch(() => undefined)
  }
}

export async function listTags(endpoint: OllamaEndpoint, timeoutMs = 5000): Promise<TagModel[]> {
  const { status, text } = await call(endpoint, { method: 'GET', path: '/api/tags' }, timeoutMs)
  if (status !== 200)
    throw new OllamaError(
      `${endpoint.host}: GET /api/tags answered HTTP ${status}: ${quoted(text, 200)}`,
      status >= 500,
    )
  return parseTags(text, endpoint.host)
}

/** A model name as Ollama writes it: `[host/][namespace/]model[:tag]`. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,299}$/
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/**
 * GET /api/tags, checked: `{"models": [...]}` (null read as empty), each model an object with a name
 * of model-name characters and, where present, a byte size, a digest and a time of the right types.
 * Any other shape is refused with where it went wrong.
 */
export function parseTags(text: string, host: string): TagModel[] {
  const refuse = (detail: string) =>
    new OllamaError(`${host}: GET /api/tags is not what Ollama answers (${detail})`, false)
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw refuse(`not JSON: ${quoted(text, 60)}`)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw refuse('not an object')
  const models = (data as { models?: unknown }).models
  if (models === null || models === undefined) return []
  if (!Array.isArray(models)) throw refuse('models is not a list')
  return models.map((item: unknown, index): TagModel => {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw refuse(`models[${index}] is not an object`)
    const m = item as Record<string, unknown>
    if (typeof m.name !== 'string' || !MODEL_NAME.test(m.name))
      throw refuse(
        `models[${index}].name is ${typeof m.name === 'string' ? `not a model name: ${quoted(m.name, 60)}` : 'missing'}`,
      )
    if (m.model !== undefined && (typeof m.model !== 'string' || !MODEL_NAME.test(m.model)))
      throw refuse(`models[${index}].model is not a model name`)
    if (m.size !== undefined && !isCount(m.size)) throw refuse(`models[${index}].size is not a byte count`)
    if (m.digest !== undefined && (typeof m.digest !== 'string' || !/^(sha256:)?[0-9a-f]{64}$/.test(m.digest)))
      throw refuse(`models[${index}].digest is not a sha256 digest`)
    if (m.modified_at !== undefined && typeof m.modified_at !== 'string')
      throw refuse(`models[${index}].modified_at is not a time`)
    return {
      name: m.name,
      model: m.model ?? m.name,
      size: m.size ?? 0,
      digest: m.digest ?? '',
      modified_at: m.modified_at ?? '',
    }
  })
}

/** One NDJSON line of POST /api/pull, checked: an object whose known keys have their types. */
export function parsePullLine(raw: string, host: string, model: string): PullLine {
  const refuse = (detail: string) =>
    new OllamaError(
      `${host}: pull ${model}: a progress line is not what Ollama sends (${detail}): ${quoted(raw, 120)}`,
      false,
    )
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw refuse('not JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw refuse('not an object')
  const line = value as Record<string, unknown>
  if (line.error !== undefined)
    return { error: typeof line.error === 'string' ? line.error : JSON.stringify(line.error) }
  for (const key of ['status', 'digest'] as const)
    if (line[key] !== undefined && typeof line[key] !== 'string') throw refuse(`${key} is not text`)
  for (const key of ['total', 'completed'] as const)
    if (line[key] !== undefined && !isCount(line[key])) throw refuse(`${key} is not a byte count`)
  return {
    ...(line.status !== undefined ? { status: line.status as string } : {}),
    ...(line.digest !== undefined ? { digest: line.digest as string } : {}),
    ...(line.total !== undefined ? { total: line.total as number } : {}),
    ...(line.completed !== undefined ? { completed: line.completed as number } : {}),
  }
}

export async function deleteModel(
  endpoint: OllamaEndpoint,
  model: string,
  timeoutMs = 30_000,
): Promise<'deleted' | 'absent'> {
  const { status, text } = await call(
    endpoint,
    {
      method: 'DELETE',
      path: '/api/delete',
      body: JSON.stringify({ model }),
      headers: { 'content-type': 'application/json' },
    },
    timeoutMs,
  )
  if (status === 200) return 'deleted'
  if (status === 404) return 'absent'
  throw new OllamaError(`${endpoint.host}: delete ${model} answered HTTP ${status}: ${errorText(text)}`, status >= 500)
}

function errorText(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: unknown } | null)?.error
    return typeof error === 'string' ? error.slice(0, 500) : quoted(text, 200)
  } catch {
    return quoted(text, 200)
  }
}

/** /api/tags for a node with hundreds of models is some hundred KiB. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024

/** Ollama's progress lines are a few hundred bytes: a "line" past this is not one. */
const MAX_PULL_LINE = 64 * 1024

/**
 * POST /api/pull, streaming. Every NDJSON line goes to onLine; any line with an `error` key is a
 * failure even under HTTP 200 (the status is sent before the error is known). A stream that ends
 * without `success` was interrupted: retryable, and Ollama resumes from its partial files.
 */
export async function pull(
  endpoint: OllamaEndpoint,
  model: string,
  onLine: (line: PullLine) => void,
  options: { signal?: AbortSignal; stallMs?: number } = {},
): Promise<void> {
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
      const text = await readBody(response.body, MAX_ANSWER_BYTES)
      throw new OllamaError(
        `${endpoint.host}: pull ${model}: HTTP ${response.statusCode}: ${errorText(text)}`,
        response.statusCode >= 500 && !/file does not exist|invalid model name/.test(text),
      )
    }
    let succeeded = false
    try {
      for await (const text of streamLines(response.body, { maxBytes: MAX_PULL_LINE })) {
        const raw = text.trim()
        if (raw === '') continue
        const line = parsePullLine(raw, endpoint.host, model)
        if (line.error !== undefined)
          throw new OllamaError(
            `${endpoint.host}: pull ${model}: ${line.error}`,
            /max retries|stalled|connection reset|EOF|timeout/i.test(line.error),
          )
        onLine(line)
        if (line.status === 'success') succeeded = true
      }
    } catch (error) {
      if (error instanceof LineTooLong)
        throw new OllamaError(
          `${endpoint.host}: pull ${model}: a progress line longer than ${MAX_PULL_LINE / 1024} KiB`,
          false,
        )
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
