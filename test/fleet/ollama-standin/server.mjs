// The Ollama HTTP API as server/routes.go of ollama/ollama serves it (test/fleet/README.md):
// GET|HEAD /, /api/version, /api/tags, GET /api/ps, POST /api/pull, POST /api/show,
// DELETE /api/delete; everything else is gin's "404 page not found".
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { DownloadManager, parseRate } from './download.mjs'
import { goJson, rfc3339Nano } from './format.mjs'
import { displayShortest, parseName } from './names.mjs'
import { Registry, loadCatalog, mediaTypes } from './registry.mjs'
import { Store } from './store.mjs'

export const DEFAULT_VERSION = '0.33.0'

/** Options from the environment, as the real server reads OLLAMA_*; OLLAMA_STANDIN_* are ours. */
export function optionsFromEnv(env = process.env) {
  return {
    host: env.OLLAMA_HOST ?? '127.0.0.1:11434',
    models: env.OLLAMA_MODELS || join(homedir(), '.ollama', 'models'),
    noprune: Boolean(env.OLLAMA_NOPRUNE),
    version: env.OLLAMA_STANDIN_VERSION || DEFAULT_VERSION,
    rate: parseRate(env.OLLAMA_STANDIN_RATE, 4_000_000),
    latencyMs: Number(env.OLLAMA_STANDIN_LATENCY_MS ?? 120),
    pruneGraceMs: Number(env.OLLAMA_STANDIN_PRUNE_GRACE_SECONDS ?? 3600) * 1000,
    scale: Number(env.OLLAMA_STANDIN_SCALE ?? 0.001),
    catalog: env.OLLAMA_STANDIN_CATALOG,
  }
}

/** OLLAMA_HOST forms: "0.0.0.0:11434", "http://host:port", ":11434", "host" -> {host, port}. */
export function parseHost(value, defaultPort = 11434) {
  let v = (value ?? '')
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
  if (v === '') return { host: '127.0.0.1', port: defaultPort }
  let host = v
  let port = defaultPort
  const m = v.match(/^\[(.*)\](?::(\d+))?$/) ?? v.match(/^([^:]*):(\d+)$/)
  if (m) {
    host = m[1]
    if (m[2]) port = Number(m[2])
  }
  return { host: host === '' ? '0.0.0.0' : host, port }
}

// ------------------------------------------------------------------ request body binding

const GO_TYPES = { string: 'string', boolean: 'bool', number: 'number', object: 'object' }
const goTypeOf = (v) => (Array.isArray(v) ? 'array' : (GO_TYPES[typeof v] ?? typeof v))

/** c.ShouldBindJSON: {eof:true} for an empty body, {error} for bad JSON, else {value}. */
function bindJson(raw, struct, fields) {
  if (raw.trim() === '') return { eof: true }
  let value
  try {
    value = JSON.parse(raw)
  } catch {
    return { error: goSyntaxError(raw) }
  }
  if (value === null) return { value: {} }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { error: `json: cannot unmarshal ${goTypeOf(value)} into Go value of type api.${struct}` }
  }
  for (const [field, type] of Object.entries(fields)) {
    const v = value[field]
    if (v != null && typeof v !== type) {
      return {
        error: `json: cannot unmarshal ${goTypeOf(v)} into Go struct field ${struct}.${field} of type ${GO_TYPES[type]}`,
      }
    }
  }
  return { value }
}

function goSyntaxError(raw) {
  // Word JSON.parse's complaint like encoding/json's SyntaxError.
  let msg = ''
  try {
    JSON.parse(raw)
  } catch (e) {
    msg = String(e.message)
  }
  if (/Unexpected end of JSON input|Unterminated string/.test(msg)) return 'unexpected EOF'
  let pos = Number(msg.match(/at position (\d+)/)?.[1] ?? NaN)
  const c = Number.isNaN(pos) ? msg.match(/Unexpected token '?(.)'?/)?.[1] : raw[pos]
  if (c === undefined) return 'unexpected EOF'
  if (Number.isNaN(pos)) pos = raw.indexOf(c)
  const before = raw.slice(0, pos).trimEnd().slice(-1)
  const where =
    before === '{' || before === ',' ? 'looking for beginning of object key string' : 'looking for beginning of value'
  return `invalid character '${c}' ${where}`
}

// ------------------------------------------------------------------ server

export function createOllamaServer(opts = optionsFromEnv()) {
  const store = new Store(opts.models)
  const registry = new Registry({ scale: opts.scale, catalog: loadCatalog(opts.catalog) })
  const downloads = new DownloadManager({ rate: opts.rate, latencyMs: opts.latencyMs })
  const log = opts.log ?? ((line) => process.stderr.write(line + '\n'))

  if (!opts.noprune) {
    const before = store.listManifests().length
    store.prune(opts.pruneGraceMs)
    log(`time=${new Date().toISOString()} level=INFO source=images.go msg="total blobs pruned" manifests=${before}`)
  }

  const send = (res, status, body, type = 'application/json; charset=utf-8') => {
    const buf = Buffer.from(body)
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': buf.length })
    res.end(buf)
  }
  const sendJson = (res, status, obj, type) => send(res, status, goJson(obj), type)
  const notFound = (res) => send(res, 404, '404 page not found', 'text/plain')

  // ---- GET /api/tags
  function listModels() {
    const models = []
    for (const m of store.listManifests()) {
      let cfg = {}
      if (m.manifest.config?.digest) {
        try {
          cfg = JSON.parse(readFileSync(store.blobPath(m.manifest.config.digest), 'utf8'))
        } catch {
          log(`time=${new Date().toISOString()} level=WARN msg="bad manifest config" name=${displayShortest(m.name)}`)
          continue
        }
      }
      const size = [...(m.manifest.layers ?? []), m.manifest.config].reduce((s, l) => s + (l?.size ?? 0), 0)
      const name = displayShortest(m.name)
      models.push({
        name,
        model: name,
        modified_at: rfc3339Nano(m.mtimeNs),
        size,
        digest: m.digest,
        details: {
          parent_model: '',
          format: cfg.model_format ?? '',
          family: cfg.model_family ?? '',
          families: cfg.model_families ?? null,
          parameter_size: cfg.model_type ?? '',
          quantization_level: cfg.file_type ?? '',
        },
        _mtime: Number(m.mtimeNs / 1_000_000_000n),
      })
    }
    models.sort((a, b) => b._mtime - a._mtime) // most recently modified first (stable)
    return models.map(({ _mtime, ...rest }) => rest)
  }

  // ---- POST /api/pull (PullModel in server/images.go)
  async function pullModel(name, signal, emit) {
    const existing = store.readManifest(name)
    const unused = new Set()
    if (existing) {
      for (const l of existing.manifest.layers ?? []) unused.add(l.digest)
      if (existing.manifest.config?.digest) unused.add(existing.manifest.config.digest)
    }
    emit({ status: 'pulling manifest' })
    await sleep(Math.min(opts.latencyMs, 200), signal)
    const model = registry.resolve(name)
    if (!model) throw new Error('pull model manifest: file does not exist')
    const layers = [...model.layers, model.config]
    const skipVerify = new Map()
    for (const blob of layers) {
      const size = store.blobSize(blob.digest)
      if (size != null) {
        emit({ status: `pulling ${blob.digest.slice(7, 19)}`, digest: blob.digest, total: size, completed: size })
        skipVerify.set(blob.digest, true)
      } else {
        await downloads.get(blob, store.blobPath(blob.digest)).wait(signal, emit)
        if (!skipVerify.has(blob.digest)) skipVerify.set(blob.digest, false)
      }
      unused.delete(blob.digest)
    }
    emit({ status: 'verifying sha256 digest' })
    for (const blob of layers) {
      if (skipVerify.get(blob.digest)) continue
      const got = await store.sha256File(blob.digest)
      if (got !== blob.digest) {
        store.deleteUnused([blob.digest])
        throw new Error(`digest mismatch, file must be downloaded again: want ${blob.digest}, got ${got}`)
      }
    }
    emit({ status: 'writing manifest' })
    store.writeManifest(name, model.manifestBytes)
    if (!opts.noprune && unused.size > 0) {
      emit({ status: 'removing unused layers' })
      store.deleteUnused(unused)
    }
    emit({ status: 'success' })
  }

  async function handlePull(req, res, raw) {
    const b = bindJson(raw, 'PullRequest', { model: 'string', name: 'string', stream: 'boolean', insecure: 'boolean' })
    if (b.eof) return sendJson(res, 400, { error: 'missing request body' })
    if (b.error) return sendJson(res, 400, { error: b.error })
    const name = parseName(b.value.model || b.value.name || '')
    if (!name) return sendJson(res, 400, { error: 'invalid model name' })

    const ac = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) ac.abort()
    })
    const streaming = b.value.stream !== false
    let latest = {}
    let started = false
    const emit = (p) => {
      const obj = { status: p.status }
      if (p.digest) obj.digest = p.digest
      if (p.total) obj.total = p.total
      if (p.completed) obj.completed = p.completed
      if (!streaming) {
        latest = obj
        return
      }
      if (res.destroyed) return
      if (!started) {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' })
        started = true
      }
      res.write(goJson(obj) + '\n')
    }
    try {
      await pullModel(name, ac.signal, emit)
      if (!streaming) return sendJson(res, 200, latest)
      res.end()
    } catch (err) {
      const message = err?.message ?? String(err)
      if (res.destroyed) return
      if (!streaming || !started)
        return sendJson(res, 500, { error: message }, streaming ? 'application/json' : undefined)
      res.end(goJson({ error: message }) + '\n')
    }
  }

  // ---- POST /api/show
  function handleShow(req, res, raw) {
    const b = bindJson(raw, 'ShowRequest', { model: 'string', name: 'string', verbose: 'boolean' })
    if (b.eof) return sendJson(res, 400, { error: 'missing request body' })
    if (b.error) return sendJson(res, 400, { error: b.error })
    const given = b.value.model || b.value.name || ''
    if (given === '') return sendJson(res, 400, { error: 'model is required' })
    const name = parseName(given)
    if (!name) return sendJson(res, 400, { error: 'invalid model name' })
    const m = store.readManifest(name)
    if (!m) return sendJson(res, 404, { error: `model '${given}' not found` })
    const texts = {}
    for (const l of m.manifest.layers ?? []) {
      const kind = Object.entries(mediaTypes).find(([, mt]) => mt === l.mediaType)?.[0]
      if (['template', 'system', 'license', 'params', 'messages'].includes(kind)) {
        ;(texts[kind] ??= []).push(readFileSync(store.blobPath(l.digest), 'utf8'))
      }
    }
    let cfg = {}
    try {
      cfg = JSON.parse(readFileSync(store.blobPath(m.manifest.config.digest), 'utf8'))
    } catch {
      // details stay empty
    }
    const entry = registry.catalog.get(displayShortest(name)) ?? {}
    const arch = { 'nomic-bert': 'nomic-bert', bert: 'bert', qwen2: 'qwen2' }[cfg.model_family] ?? 'llama'
    const params = texts.params ? JSON.parse(texts.params[0]) : {}
    const paramLines = []
    for (const [k, v] of Object.entries(params)) {
      for (const x of Array.isArray(v) ? v : [v])
        paramLines.push(`${k.padEnd(30)} ${typeof x === 'string' ? JSON.stringify(x) : x}`)
    }
    const modelBlob = m.manifest.layers.find((l) => l.mediaType === mediaTypes.model)
    const display = displayShortest(name)
    const modelfile = [
      '# Modelfile generated by "ollama show"',
      '# To build a new Modelfile based on this, replace FROM with:',
      `# FROM ${display}`,
      '',
      `FROM ${modelBlob ? store.blobPath(modelBlob.digest) : display}`,
      ...(texts.template ? [`TEMPLATE """${texts.template[0]}"""`] : []),
      ...(texts.system ? [`SYSTEM ${texts.system[0]}`] : []),
      ...Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `PARAMETER ${k} ${x}`)),
      ...(texts.license ?? []).map((t) => `LICENSE """${t}"""`),
      '',
    ].join('\n')
    const resp = {
      license: (texts.license ?? []).join('\n'),
      modelfile,
      parameters: paramLines.join('\n'),
      template: texts.template?.[0] ?? '',
      system: texts.system?.[0] ?? '',
      details: {
        parent_model: '',
        format: cfg.model_format ?? '',
        family: cfg.model_family ?? '',
        families: cfg.model_families ?? null,
        parameter_size: cfg.model_type ?? '',
        quantization_level: cfg.file_type ?? '',
      },
      model_info: {
        'general.architecture': arch,
        'general.file_type': 15,
        'general.parameter_count': entry.parameterCount ?? 0,
        'general.quantization_version': 2,
        [`${arch}.context_length`]: entry.contextLength ?? 2048,
        [`${arch}.embedding_length`]: entry.embeddingLength ?? 4096,
      },
      capabilities: entry.capabilities ?? ['completion'],
      modified_at: rfc3339Nano(m.mtimeNs),
    }
    for (const k of ['license', 'system', 'parameters']) if (resp[k] === '') delete resp[k]
    return sendJson(res, 200, resp)
  }

  // ---- DELETE /api/delete
  function handleDelete(req, res, raw) {
    const b = bindJson(raw, 'DeleteRequest', { model: 'string', name: 'string' })
    if (b.eof) return sendJson(res, 400, { error: 'missing request body' })
    if (b.error) return sendJson(res, 400, { error: b.error })
    const given = b.value.model || b.value.name || ''
    const name = parseName(given)
    if (!name) return sendJson(res, 400, { error: `name ${JSON.stringify(given)} is invalid` })
    const m = store.readManifest(name)
    if (!m) return sendJson(res, 404, { error: `model '${given}' not found` })
    store.removeManifest(name)
    store.deleteUnused([...(m.manifest.layers ?? []).map((l) => l.digest), m.manifest.config?.digest].filter(Boolean))
    res.writeHead(200, { 'Content-Length': 0 })
    res.end()
  }

  const server = createServer(async (req, res) => {
    const started = Date.now()
    res.on('finish', () => {
      const ms = Date.now() - started
      log(
        `[GIN] ${new Date().toISOString()} | ${res.statusCode} | ${ms}ms | ${req.socket.remoteAddress} | ${req.method} "${req.url}"`,
      )
    })
    const path = new URL(req.url, 'http://x').pathname
    const isGet = req.method === 'GET' || req.method === 'HEAD'
    try {
      if (path === '/' && isGet) return send(res, 200, 'Ollama is running', 'text/plain; charset=utf-8')
      if (path === '/api/version' && isGet) return sendJson(res, 200, { version: opts.version })
      if (path === '/api/tags' && isGet) return sendJson(res, 200, { models: listModels() })
      if (path === '/api/ps' && req.method === 'GET') return sendJson(res, 200, { models: [] })
      const routes = { 'POST /api/pull': handlePull, 'POST /api/show': handleShow, 'DELETE /api/delete': handleDelete }
      const handler = routes[`${req.method} ${path}`]
      if (!handler) return notFound(res)
      const raw = await readBody(req)
      return await handler(req, res, raw)
    } catch (err) {
      log(`time=${new Date().toISOString()} level=ERROR msg="${String(err?.stack ?? err)}"`)
      if (!res.headersSent) sendJson(res, 500, { error: String(err?.message ?? err) })
      else res.destroy()
    }
  })
  server.keepAliveTimeout = 5_000

  return {
    server,
    store,
    registry,
    downloads,
    close() {
      downloads.cancelAll()
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections?.()
      })
    },
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size > 10 * 1024 * 1024) {
        reject(new Error('request body too large'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('context canceled'))
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(new Error('context canceled'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
