// The Ollama stand-in's behaviour in detail, run as a plain process on loopback (no fleet, no root
// needed): shared downloads, reference-counted cancellation, digest verification, pruning, names.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ollama, type ProgressResponse } from 'ollama'
import { afterEach, describe, expect, it } from 'vitest'
import { FLEET_DIR, FleetMissingError, loadFleet } from '../../fleet/fleet.js'

const CLI = join(FLEET_DIR, 'ollama-standin', 'cli.mjs')
const running: ChildProcess[] = []
const dirs: string[] = []

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

async function serve(
  env: Record<string, string> = {},
  models?: string,
): Promise<{ base: string; models: string; proc: ChildProcess }> {
  const dir = models ?? mkdtempSync(join(tmpdir(), 'ollama-standin-'))
  if (!models) dirs.push(dir)
  const port = await freePort()
  const proc = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      OLLAMA_HOST: `127.0.0.1:${port}`,
      OLLAMA_MODELS: dir,
      OLLAMA_STANDIN_LATENCY_MS: '50',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  running.push(proc)
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(base).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { base, models: dir, proc }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('stand-in did not start')
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve())
    proc.kill('SIGTERM')
  })
}

afterEach(async () => {
  for (const p of running.splice(0)) await stop(p)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function collect(ollama: Ollama, model: string): Promise<ProgressResponse[]> {
  const out: ProgressResponse[] = []
  for await (const p of await ollama.pull({ model, stream: true })) out.push(p)
  return out
}

describe('Ollama stand-in (local process)', () => {
  it('shares one download between concurrent pulls of the same model, each with its own progress', async () => {
    const { base, models } = await serve({ OLLAMA_STANDIN_RATE: '1MB' })
    const ollama = new Ollama({ host: base })
    const started = Date.now()
    const [a, b] = await Promise.all([collect(ollama, 'llama3.2:1b'), collect(ollama, 'llama3.2:1b')])
    const took = Date.now() - started
    expect(a.at(-1)).toEqual({ status: 'success' })
    expect(b.at(-1)).toEqual({ status: 'success' })
    // 1.3 MB at 1 MB/s: two separate downloads would need twice as long
    expect(took).toBeLessThan(2600)
    expect(a.filter((p) => p.completed).length).toBeGreaterThan(3)
    expect(b.filter((p) => p.completed).length).toBeGreaterThan(3)
    expect(readdirSync(join(models, 'blobs')).filter((f) => f.includes('partial'))).toEqual([])
  })

  it('keeps downloading while another client still waits, cancels when the last one leaves', async () => {
    const { base, models } = await serve({ OLLAMA_STANDIN_RATE: '500KB' })
    const ollama = new Ollama({ host: base })
    const leaver = await ollama.pull({ model: 'llama3.2:1b', stream: true })
    const stayer = collect(new Ollama({ host: base }), 'llama3.2:1b')
    for await (const p of leaver) {
      if ((p.completed ?? 0) > 100_000) {
        leaver.abort()
        break
      }
    }
    const parts = await stayer
    expect(parts.at(-1)).toEqual({ status: 'success' })

    // now alone: leaving cancels and leaves resumable partial files behind
    const only = await ollama.pull({ model: 'llama3.1:70b', stream: true })
    let digest = ''
    for await (const p of only) {
      if ((p.completed ?? 0) > 100_000) {
        digest = p.digest
        only.abort()
        break
      }
    }
    const blob = join(models, 'blobs', digest.replace(':', '-'))
    await new Promise((r) => setTimeout(r, 200))
    expect(existsSync(`${blob}-partial`)).toBe(true)
    expect(existsSync(`${blob}-partial-0`)).toBe(true)
    expect(existsSync(blob)).toBe(false)
  })

  it('verifies digests: a corrupted blob fails the pull with the real message and is deleted', async () => {
    const catalog = JSON.stringify({
      models: {
        'test/broken:1': {
          family: 'llama',
          parameterSize: '1B',
          quantization: 'Q4_0',
          corruptLayer: 0,
          layers: [{ type: 'model', size: 200_000_000 }],
        },
      },
    })
    const { base, models } = await serve({ OLLAMA_STANDIN_CATALOG: catalog })
    const parts: ProgressResponse[] = []
    let error = ''
    try {
      for await (const p of await new Ollama({ host: base }).pull({ model: 'test/broken:1', stream: true }))
        parts.push(p)
    } catch (e) {
      error = (e as Error).message
    }
    expect(error).toMatch(
      /^digest mismatch, file must be downloaded again: want sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}$/,
    )
    expect(parts.at(-1)).toEqual({ status: 'verifying sha256 digest' })
    expect(readdirSync(join(models, 'blobs')).filter((f) => !f.includes('partial')).length).toBe(1) // only the config blob
  })

  it('reports "removing unused layers" when a tag moves to new layers, and removes the old ones', async () => {
    const v1 = JSON.stringify({
      models: {
        'team/model:prod': {
          family: 'llama',
          parameterSize: '1B',
          quantization: 'Q4_0',
          layers: [
            { type: 'model', size: 50_000_000 },
            { type: 'params', text: '{}' },
          ],
        },
      },
    })
    const v2 = JSON.stringify({
      models: {
        'team/model:prod': {
          family: 'llama',
          parameterSize: '1B',
          quantization: 'Q4_0',
          layers: [
            { type: 'model', size: 60_000_000 },
            { type: 'params', text: '{}' },
          ],
        },
      },
    })
    const first = await serve({ OLLAMA_STANDIN_CATALOG: v1 })
    const before = await collect(new Ollama({ host: first.base }), 'team/model:prod')
    expect(before.map((p) => p.status)).not.toContain('removing unused layers')
    // (from the manifest: a small blob may finish before its first 60 ms progress tick)
    const manifestPath = join(first.models, 'manifests', 'registry.ollama.ai', 'team', 'model', 'prod')
    const oldModel = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { layers: Array<{ digest: string }> })
      .layers[0]!.digest
    expect(existsSync(join(first.models, 'blobs', oldModel.replace(':', '-')))).toBe(true)
    await stop(first.proc)
    const second = await serve({ OLLAMA_STANDIN_CATALOG: v2 }, first.models)
    const ollama = new Ollama({ host: second.base })
    const after = await collect(ollama, 'team/model:prod')
    expect(after.slice(-3).map((p) => p.status)).toEqual(['writing manifest', 'removing unused layers', 'success'])
    expect(existsSync(join(first.models, 'blobs', oldModel.replace(':', '-')))).toBe(false)
    const { models } = await ollama.list()
    expect(models.map((m) => m.name)).toEqual(['team/model:prod']) // namespace kept, library/ dropped
  })

  it('prunes partial downloads older than the grace period at start-up, unless OLLAMA_NOPRUNE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ollama-standin-'))
    dirs.push(dir)
    const blobs = join(dir, 'blobs')
    const first = await serve({}, dir)
    await stop(first.proc)
    const stale = join(blobs, `sha256-${'a'.repeat(64)}-partial`)
    writeFileSync(stale, 'x')
    const old = new Date(Date.now() - 2 * 3600_000)
    utimesSync(stale, old, old)
    const fresh = join(blobs, `sha256-${'b'.repeat(64)}-partial`)
    writeFileSync(fresh, 'y')
    const kept = await serve({ OLLAMA_NOPRUNE: '1' }, dir)
    await stop(kept.proc)
    expect(existsSync(stale)).toBe(true)
    const pruned = await serve({}, dir)
    await stop(pruned.proc)
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(fresh)).toBe(true) // younger than layerPruneGracePeriod (1 h)
  })

  it('answers error shapes like routes.go', async () => {
    const { base } = await serve()
    const call = async (method: string, path: string, body?: string) => {
      const r = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { body } : {}) })
      return [r.status, await r.text()]
    }
    expect(await call('POST', '/api/pull', '{bad')).toEqual([
      400,
      `{"error":"invalid character 'b' looking for beginning of object key string"}`,
    ])
    expect(await call('POST', '/api/pull', '{"model":5}')).toEqual([
      400,
      '{"error":"json: cannot unmarshal number into Go struct field PullRequest.model of type string"}',
    ])
    expect(await call('DELETE', '/api/delete')).toEqual([400, '{"error":"missing request body"}'])
    expect(await call('DELETE', '/api/delete', '{"model":"bad name"}')).toEqual([
      400,
      '{"error":"name \\"bad name\\" is invalid"}',
    ])
    expect(await call('POST', '/api/show', '{}')).toEqual([400, '{"error":"model is required"}'])
    expect(await call('GET', '/api/pull')).toEqual([404, '404 page not found'])
    const head = await fetch(`${base}/api/tags`, { method: 'HEAD' })
    expect([head.status, await head.text()]).toEqual([200, ''])
  })
})

describe('fleet.ts', () => {
  it('loadFleet tells to run fleet:up when fleet.json is missing', () => {
    expect(() => loadFleet('/nonexistent/fleet.json')).toThrow(FleetMissingError)
    expect(() => loadFleet('/nonexistent/fleet.json')).toThrow(/npm run fleet:up/)
  })
})
