// `models` against the Ollama stand-in on the four GPU nodes: what each node really has is read from
// its API directly, not from the CLI's report.
import { spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { REPO } from '../../helpers/project.js'
import {
  ensureDeployed,
  HAVE_FLEET,
  serviceContainer,
  testPlatform,
  waitFor,
  type TestPlatform,
} from '../helpers/platform.js'

const NODES = ['orpheus', 'kratos', 'nyx', 'hades']
let platform: TestPlatform

async function tags(node: string): Promise<string[]> {
  const host = fleetHost(platform.fleet, node)
  const response = await request(`http://${host.address}:11434/api/tags`)
  return ((await response.body.json()) as { models: { name: string }[] }).models.map((m) => m.name).sort()
}

async function wipeModels(): Promise<void> {
  for (const node of NODES) {
    const host = fleetHost(platform.fleet, node)
    for (const model of await tags(node))
      await request(`http://${host.address}:11434/api/delete`, {
        method: 'DELETE',
        body: JSON.stringify({ model }),
      }).then((r) => r.body.dump())
  }
}

const expected: Record<string, string[]> = {
  orpheus: [
    'codellama:13b',
    'llama3.2:1b',
    'llama3.2:latest',
    'llava:13b',
    'mxbai-embed-large:latest',
    'nomic-embed-text:latest',
  ],
  hades: ['deepseek-coder:33b', 'llama3.1:70b', 'llava:34b', 'mixtral:8x7b', 'qwen2.5:32b'],
}
expected.kratos = expected.orpheus!
// the 13B models stay off nyx (its 12 GB card is shared: inventory/platform.yaml)
expected.nyx = expected.orpheus!.filter((m) => !m.includes(':13b'))

describe.skipIf(!HAVE_FLEET)('models on the fleet', () => {
  beforeAll(async () => {
    platform = await testPlatform({ extraModels: [{ name: 'ghost:1b', placement: { hosts: ['kratos'] } }] })
    await ensureDeployed(platform)
    await wipeModels()
  }, 600_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('pulls every node its models in parallel; an unknown model fails alone', async () => {
    const run = await platform.cli(['models', 'pull', '--yes', '--json'])
    expect(run.code).toBe(1)
    const failed = run.json.results.filter((r: any) => r.status === 'failed')
    expect(failed.map((r: any) => [r.host, r.model, r.error])).toEqual([
      ['kratos', 'ghost:1b', 'kratos: pull ghost:1b: pull model manifest: file does not exist'],
    ])
    expect(run.json.summary).toMatchObject({ pulled: 21, present: 0, failed: 1 }) // 6 + 6 + 4 (nyx: no 13B) + 5
    for (const node of NODES) expect(await tags(node), node).toEqual(expected[node])
    // The nodes pulled at the same time: the run took about as long as the slowest node, not the sum.
    const span = (n: string) => {
      const jobs = run.json.results.filter((r: any) => r.host === n)
      return {
        start: Math.min(...jobs.map((j: any) => j.startedMs)),
        end: Math.max(...jobs.map((j: any) => j.startedMs + j.durationMs)),
      }
    }
    const spans = NODES.map(span)
    // Every node started at once, and the run ended with its slowest node.
    expect(Math.max(...spans.map((s) => s.start))).toBeLessThan(1500)
    expect(run.json.durationMs).toBeLessThan(Math.max(...spans.map((s) => s.end)) + 1500)
    expect(spans.reduce((a, s) => a + s.end - s.start, 0)).toBeGreaterThan(
      Math.max(...spans.map((s) => s.end - s.start)) * 1.3,
    )
  }, 300_000)

  it('models already present are skipped', async () => {
    const run = await platform.cli(['models', 'pull', '--on', '@ollama', '--yes', '--json'])
    expect(run.json.results.filter((r: any) => r.model !== 'ghost:1b').every((r: any) => r.status === 'present')).toBe(
      true,
    )
    expect(run.json.summary.pulled).toBe(0)
  }, 120_000)

  it('an unreachable node fails with a clear error; the others are served', async () => {
    const { container } = await serviceContainer(fleetHost(platform.fleet, 'nyx'), 'ollama')
    await container.stop()
    try {
      const run = await platform.cli([
        'models',
        'pull',
        'llama3.2',
        '--on',
        'nyx',
        '--on',
        'orpheus',
        '--yes',
        '--json',
      ])
      expect(run.code).toBe(1)
      const byHost = Object.fromEntries(run.json.results.map((r: any) => [r.host, r]))
      expect(byHost.orpheus.status).toBe('present')
      expect(byHost.nyx.status).toBe('failed')
      expect(byHost.nyx.error).toMatch(/^nyx: Ollama at http:\/\/10\.77\.0\.17:11434 does not answer: .*ECONNREFUSED/)
    } finally {
      await container.start()
      await waitFor('nyx ollama up', async () => (await tags('nyx').catch(() => null)) !== null)
    }
  }, 120_000)

  it('an interrupted pull leaves partial data and the next pull resumes from it', async () => {
    await platform.regenerate({
      ollamaRate: '2MB',
      extraModels: [{ name: 'ghost:1b', placement: { hosts: ['kratos'] } }],
    })
    await ensureDeployed(platform)
    const hades = fleetHost(platform.fleet, 'hades')
    await waitFor('hades ollama up', async () => (await tags('hades').catch(() => null)) !== null)
    await request(`http://${hades.address}:11434/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'llama3.1:70b' }),
    }).then((r) => r.body.dump())
    const child = spawn(
      process.execPath,
      [join(REPO, 'bin/run.js'), 'models', 'pull', 'llama3.1:70b', '--on', 'hades', '--project', platform.dir],
      { env: platform.env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stderr.on('data', (c: Buffer) => (output += c.toString()))
    await waitFor('pull progress past 10%', async () => /\[#{2,}/.test(output), 60_000, 200)
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    // interrupted: 130, as after any Ctrl-C (143 after SIGTERM)
    expect(code).toBe(130)
    expect(output).toMatch(/hades llama3\.1:70b: FAILED: hades: pull of llama3\.1:70b interrupted/)
    const blobs = await readdir(join(hades.outside.baseDir, 'data/ollama-models/blobs'))
    expect(blobs.some((b) => b.endsWith('-partial'))).toBe(true)
    const resumed = await platform.cli(['models', 'pull', 'llama3.1:70b', '--on', 'hades'])
    expect(resumed.code, resumed.stderr).toBe(0)
    // The first progress line of the second pull already counts the bytes the first one fetched.
    const first = /hades llama3\.1:70b: \[[#.]+\] +(\d+)%/.exec(resumed.stderr)
    expect(Number(first?.[1])).toBeGreaterThan(0)
    expect(await tags('hades')).toContain('llama3.1:70b')
    await platform.regenerate({ extraModels: [{ name: 'ghost:1b', placement: { hosts: ['kratos'] } }] })
    await ensureDeployed(platform)
  }, 300_000)

  it('sync --prune removes what no node declares and pulls what is missing', async () => {
    const kratos = fleetHost(platform.fleet, 'kratos')
    await waitFor('kratos ollama up', async () => (await tags('kratos').catch(() => null)) !== null)
    const extra = await request(`http://${kratos.address}:11434/api/pull`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llava:34b', stream: false }),
    })
    expect(await extra.body.json()).toEqual({ status: 'success' })
    await request(`http://${kratos.address}:11434/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'codellama:13b' }),
    }).then((r) => r.body.dump())
    const listed = await platform.cli(['models', 'list', '--on', 'kratos', '--json'])
    const states = Object.fromEntries(listed.json.nodes[0].models.map((m: any) => [m.name, m.state]))
    expect(states).toMatchObject({
      'llava:34b': 'undeclared',
      'codellama:13b': 'missing',
      'llama3.2:latest': 'present',
    })
    const synced = await platform.cli(['models', 'sync', '--prune', '--on', 'kratos', '--json'])
    expect(synced.json.removed).toEqual([{ host: 'kratos', model: 'llava:34b', status: 'deleted' }])
    expect(synced.json.pull.results.find((r: any) => r.model === 'codellama:13b').status).toBe('pulled')
    expect(await tags('kratos')).toEqual(expected.kratos)
  }, 300_000)
})
