// The Ollama stand-in, run as a compose service on a GPU host and driven over the bridge with the
// official `ollama` npm client: progress stream, error shapes, tags, delete, resume, persistence.
import { createHash, randomBytes } from 'node:crypto'
import { Ollama, type ProgressResponse } from 'ollama'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HAVE_FLEET, fleetHost, fleetOrEmpty, onHost, waitFor } from './helpers.js'

const fleet = fleetOrEmpty()
const PROJECT = `ollama-${randomBytes(3).toString('hex')}`
const PORT = 21000 + Math.floor(Math.random() * 1000)
const MODELS = '/root/.ollama/models'
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/

const composeFile = `services:
  ollama:
    image: aip/ollama-standin:1
    environment:
      OLLAMA_STANDIN_RATE: "1MB"
    ports: ["${PORT}:11434"]
    volumes: ["models:${MODELS}"]
    healthcheck:
      test: ["CMD", "ollama", "list"]
      interval: 1s
      timeout: 5s
      retries: 5
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: all
              capabilities: [gpu]
volumes:
  models:
`

describe.skipIf(!HAVE_FLEET)('Ollama stand-in via the official client', () => {
  const host = HAVE_FLEET ? fleetHost(fleet, 'orpheus') : fleet.hosts[0]!
  const base = `http://${host?.address}:${PORT}`
  const ollama = new Ollama({ host: base })
  let container = ''
  const inContainer = async (cmd: string) =>
    (await onHost(fleet, host, `docker exec ${container} sh -c '${cmd}'`)).stdout

  async function pull(model: string, stopWhen?: (p: ProgressResponse) => boolean): Promise<ProgressResponse[]> {
    const parts: ProgressResponse[] = []
    const stream = await ollama.pull({ model, stream: true })
    try {
      for await (const p of stream) {
        parts.push(p)
        if (stopWhen?.(p)) {
          stream.abort()
          break
        }
      }
    } catch (e) {
      if (!stopWhen) throw e
    }
    return parts
  }

  beforeAll(async () => {
    const r = await onHost(
      fleet,
      host,
      `mkdir -p /opt/ai-platform/${PROJECT} && cd /opt/ai-platform/${PROJECT} && cat > compose.yaml <<'EOF'\n${composeFile}EOF\ndocker compose -p ${PROJECT} up -d --wait 2>&1 && docker compose -p ${PROJECT} ps -q ollama`,
    )
    expect(r.code, r.stdout).toBe(0)
    container = r.stdout.trim().split('\n').pop()!
  })

  afterAll(async () => {
    if (HAVE_FLEET)
      await onHost(
        fleet,
        host,
        `cd /opt/ai-platform/${PROJECT} && docker compose -p ${PROJECT} down -v >/dev/null 2>&1; rm -rf /opt/ai-platform/${PROJECT}`,
      )
  })

  it('answers like an Ollama server: /, version, empty tags and ps, 404 elsewhere', async () => {
    const root = await fetch(`${base}/`)
    expect(root.status).toBe(200)
    expect(await root.text()).toBe('Ollama is running')
    expect((await fetch(`${base}/`, { method: 'HEAD' })).status).toBe(200)
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+/)
    expect(await ollama.list()).toEqual({ models: [] })
    expect(await ollama.ps()).toEqual({ models: [] })
    const nf = await fetch(`${base}/api/nothing`)
    expect([nf.status, await nf.text()]).toEqual([404, '404 page not found'])
  })

  it('is healthy by its compose healthcheck (ollama list) and its ollama CLI works', async () => {
    const state = await onHost(fleet, host, `docker inspect -f '{{.State.Health.Status}}' ${container}`)
    expect(state.stdout.trim()).toBe('healthy')
    expect(await inContainer('ollama --version')).toMatch(/^ollama version is \d+\.\d+\.\d+\n$/)
    expect((await inContainer('ollama list')).trimEnd()).toBe('NAME    ID    SIZE    MODIFIED')
  })

  let blobCount = 0

  it('streams pull progress in the real order: manifest, per-layer digests/totals/completed, verify, write, success', async () => {
    const started = Date.now()
    const firstPull = await pull('llama3.2')
    const took = Date.now() - started
    expect(firstPull[0]).toEqual({ status: 'pulling manifest' })
    expect(firstPull.slice(-3).map((p) => p.status)).toEqual(['verifying sha256 digest', 'writing manifest', 'success'])
    const layerLines = firstPull.slice(1, -3)
    const digests: string[] = []
    for (const p of layerLines) {
      expect(p.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(p.status).toBe(`pulling ${p.digest.slice(7, 19)}`)
      expect(p.total).toBeGreaterThan(0)
      if ('completed' in p) expect(p.completed).toBeGreaterThan(0) // omitempty: 0 is left out
      expect(p.completed ?? 0).toBeLessThanOrEqual(p.total)
      if (digests.at(-1) !== p.digest) digests.push(p.digest)
    }
    // one digest after the other, never revisited, in manifest order with the config last
    expect(new Set(digests).size).toBe(digests.length)
    const manifest = JSON.parse(
      await inContainer(`cat ${MODELS}/manifests/registry.ollama.ai/library/llama3.2/latest`),
    ) as {
      layers: Array<{ digest: string; size: number }>
      config: { digest: string; size: number }
    }
    // Ollama's Wait prints a line per 60 ms tick only: a layer whose download ends before the first
    // tick prints none. So the lines name the blobs in manifest order with the config last, maybe not all.
    const order = [...manifest.layers.map((l) => l.digest), manifest.config.digest]
    expect(digests.map((d) => order.indexOf(d))).toEqual(
      digests
        .map((d) => order.indexOf(d))
        .filter((i) => i >= 0)
        .sort((a, b) => a - b),
    )
    expect(digests[0]).toBe(order[0])
    blobCount = order.length
    // the model layer downloads at the configured rate, one line per 60 ms, completed growing
    const model = layerLines.filter((p) => p.digest === digests[0])
    expect(model[0]!.completed).toBeUndefined()
    const completed = model.map((p) => p.completed ?? 0)
    expect(completed).toEqual([...completed].sort((a, b) => a - b))
    expect(model.length).toBeGreaterThan(took / 60 / 3)
    expect(took).toBeGreaterThan(1500) // ~2 MB at 1 MB/s
  })

  it('lists the pulled model with the real /api/tags shape', async () => {
    const { models } = await ollama.list()
    expect(models).toHaveLength(1)
    const m = models[0]!
    const manifestBytes = await inContainer(`cat ${MODELS}/manifests/registry.ollama.ai/library/llama3.2/latest`)
    const manifest = JSON.parse(manifestBytes) as { layers: Array<{ size: number }>; config: { size: number } }
    expect(m.name).toBe('llama3.2:latest')
    expect(m.model).toBe('llama3.2:latest')
    expect(m.digest).toBe(createHash('sha256').update(manifestBytes).digest('hex')) // bare hex, manifest digest
    expect(m.size).toBe(manifest.layers.reduce((s, l) => s + l.size, 0) + manifest.config.size)
    expect(String(m.modified_at)).toMatch(RFC3339_NANO)
    expect(m.details).toEqual({
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: ['llama'],
      parameter_size: '3.2B',
      quantization_level: 'Q4_K_M',
    })
    const table = await inContainer('ollama list')
    expect(table).toMatch(
      new RegExp(`^NAME +ID +SIZE +MODIFIED *\\nllama3\\.2:latest +${m.digest.slice(0, 12)} +2\\.0 MB +`),
    )
  })

  it('a second pull finds every blob cached: one line per layer with completed == total', async () => {
    const parts = await pull('llama3.2')
    const layers = parts.slice(1, -3)
    // a blob already there is one line with completed == total (no download, no tick), for each of them
    expect(layers).toHaveLength(blobCount)
    for (const p of layers) expect(p.completed).toBe(p.total)
  })

  it('an unknown model: "pulling manifest" then an error line under HTTP 200; 500 with stream:false', async () => {
    const raw = await fetch(`${base}/api/pull`, { method: 'POST', body: JSON.stringify({ model: 'no-such-model' }) })
    expect(raw.status).toBe(200)
    expect(raw.headers.get('content-type')).toBe('application/x-ndjson')
    expect(await raw.text()).toBe(
      '{"status":"pulling manifest"}\n{"error":"pull model manifest: file does not exist"}\n',
    )
    await expect(pull('no-such-model')).rejects.toThrow('pull model manifest: file does not exist')
    await expect(ollama.pull({ model: 'no-such-model', stream: false })).rejects.toMatchObject({
      status_code: 500,
      error: 'pull model manifest: file does not exist',
    })
  })

  it('rejects bad requests before streaming with 400 JSON errors', async () => {
    const post = async (body: string) => {
      const r = await fetch(`${base}/api/pull`, { method: 'POST', body })
      return [r.status, r.headers.get('content-type'), await r.json()]
    }
    expect(await post('')).toEqual([400, 'application/json; charset=utf-8', { error: 'missing request body' }])
    expect(await post('{"model":"bad name!"}')).toEqual([
      400,
      'application/json; charset=utf-8',
      { error: 'invalid model name' },
    ])
  })

  it('show and delete: details for a present model, 404 shapes for absent ones', async () => {
    const shown = await ollama.show({ model: 'llama3.2' })
    expect(shown.details.family).toBe('llama')
    expect(shown.capabilities).toContain('completion')
    expect(shown.template).toContain('{{')
    await expect(ollama.show({ model: 'llava' })).rejects.toMatchObject({
      status_code: 404,
      error: "model 'llava' not found",
    })

    const blobs = (await inContainer(`ls ${MODELS}/blobs`)).trim().split('\n')
    expect(blobs.length).toBeGreaterThanOrEqual(6)
    await ollama.delete({ model: 'llama3.2' })
    expect(await ollama.list()).toEqual({ models: [] })
    expect((await inContainer(`ls ${MODELS}/blobs`)).trim()).toBe('') // unreferenced layers went with it
    await expect(ollama.delete({ model: 'llama3.2' })).rejects.toMatchObject({
      status_code: 404,
      error: "model 'llama3.2' not found",
    })
  })

  it('an interrupted pull keeps its partial data and the next pull resumes with fewer bytes to fetch', async () => {
    const cut = await pull('llama3.2:1b', (p) => (p.completed ?? 0) >= 300_000)
    const last = cut.at(-1)!
    expect(last.completed).toBeGreaterThanOrEqual(300_000)
    const digest = last.digest
    const file = `${MODELS}/blobs/${digest.replace(':', '-')}`
    const part = await waitFor(
      'part file with progress',
      async () => {
        const text = await inContainer(
          `cat ${file}-partial-0 2>/dev/null; ls ${file}-partial >/dev/null && echo present`,
        )
        const [json, present] = text.trim().split('\n')
        const parsed = JSON.parse(json ?? '{}') as { Completed?: number; Size?: number }
        return present === 'present' && (parsed.Completed ?? 0) > 0 ? parsed : null
      },
      10_000,
    )
    expect(part.Size).toBe(last.total)
    expect(part.Completed).toBeLessThan(last.total)

    const resumed = await pull('llama3.2:1b')
    const lines = resumed.filter((p) => p.digest === digest)
    expect(lines[0]!.completed).toBeGreaterThanOrEqual(part.Completed!) // starts where it stopped
    expect(resumed.at(-1)).toEqual({ status: 'success' })
    expect((await inContainer(`ls ${MODELS}/blobs | grep -c partial; true`)).trim()).toBe('0')
    expect((await ollama.list()).models.map((m) => m.name)).toEqual(['llama3.2:1b'])
  })

  it('accepts the deprecated "name" field and stream:false, answering only the last object', async () => {
    const r = await fetch(`${base}/api/pull`, {
      method: 'POST',
      body: JSON.stringify({ name: 'nomic-embed-text', stream: false }),
    })
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ status: 'success' })
  })

  it('keeps pulled models across a container restart', async () => {
    const before = (await ollama.list()).models.map((m) => [m.name, m.digest]).sort()
    expect(before).toHaveLength(2)
    const r = await onHost(fleet, host, `docker restart ${container}`)
    expect(r.code).toBe(0)
    await waitFor('stand-in back after restart', async () => (await fetch(`${base}/`)).ok)
    expect((await ollama.list()).models.map((m) => [m.name, m.digest]).sort()).toEqual(before)
    await waitFor(
      'healthy after restart',
      async () =>
        (await onHost(fleet, host, `docker inspect -f '{{.State.Health.Status}}' ${container}`)).stdout.trim() ===
        'healthy',
    )
    expect(await inContainer('ollama list')).toMatch(
      /nomic-embed-text:latest[\s\S]*llama3\.2:1b|llama3\.2:1b[\s\S]*nomic-embed-text:latest/,
    )
  })
})
