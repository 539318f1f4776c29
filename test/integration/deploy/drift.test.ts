// drift on the fleet: none on a freshly deployed fleet; then a stopped container, a retagged image and a
// config file and a .env edited on the host are each found on their host (and only there), exit 1; put back, none
// again. --watch --notify sends each change to a webhook receiver of the inventory.
import { createServer } from 'node:http'
import { spawn } from 'node:child_process'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { REPO } from '../../helpers/project.js'
import { dockerOutside, waitFor } from '../fleet/helpers.js'
import { ensureDeployed, HAVE_FLEET, testPlatform, type TestPlatform } from '../helpers/platform.js'

let platform: TestPlatform
const HOSTS = ['erebus', 'thanatos', 'moros']

describe.skipIf(!HAVE_FLEET)('drift', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 900_000)

  afterAll(async () => {
    await ensureDeployed(platform).catch(() => undefined)
    await platform?.cleanup()
  })

  it('none on a clean fleet; a stopped container, a retagged image, an edited file and .env each found on its host', async () => {
    const clean = await platform.cli(['drift', ...HOSTS, '--json'])
    expect(clean.code, clean.stdout.slice(0, 3000)).toBe(0)
    expect(clean.json.hosts.map((h: any) => [h.host, h.drift])).toEqual(HOSTS.map((h) => [h, []]))

    const erebus = fleetHost(platform.fleet, 'erebus')
    const thanatos = fleetHost(platform.fleet, 'thanatos')
    const moros = fleetHost(platform.fleet, 'moros')
    // erebus: one container stopped by hand
    const exporter = (
      await dockerOutside(erebus, ['ps', '-q', '--filter', 'label=com.docker.compose.service=redis-exporter'])
    ).stdout.trim()
    expect((await dockerOutside(erebus, ['stop', '-t', '1', exporter])).code).toBe(0)
    // thanatos: the stand-in's tag moved to another image (what `docker tag` or a pull by hand does)
    const standin = (
      await dockerOutside(thanatos, ['image', 'inspect', '-f', '{{.Id}}', 'aip/standin:1'])
    ).stdout.trim()
    expect((await dockerOutside(thanatos, ['tag', 'aip/busybox:1', 'aip/standin:1'])).code).toBe(0)
    // moros: Prometheus's config edited on the host
    const store = join(moros.outside.baseDir, 'files')
    let edited = ''
    for (const key of await readdir(store)) {
      const file = join(store, key, 'prometheus/prometheus.yml')
      if (await readFile(file, 'utf8').catch(() => null)) edited = file
    }
    const original = await readFile(edited, 'utf8')
    await writeFile(edited, `${original}# edited on the host\n`)
    // and its .env
    const env = join(moros.outside.baseDir, 'current', '.env')
    const originalEnv = await readFile(env, 'utf8')
    await writeFile(env, `${originalEnv}# edited on the host\n`)
    try {
      const found = await platform.cli(['drift', ...HOSTS, '--json'])
      expect(found.code).toBe(1)
      const by = Object.fromEntries(found.json.hosts.map((h: any) => [h.host, h.drift]))
      expect(by.erebus).toEqual([
        { kind: 'stopped', service: 'redis-exporter', detail: expect.stringMatching(/^0 of 1 running \(.*exited\)$/) },
      ])
      expect(by.thanatos.length).toBeGreaterThan(0)
      // every service there runs the stand-in: each one's image moved, and nothing else is reported
      expect(
        by.thanatos.filter((d: any) => d.kind !== 'image'),
        JSON.stringify(by.thanatos),
      ).toEqual([])
      expect(by.thanatos.map((d: any) => d.service)).toContain('openapi-calculator')
      expect(by.thanatos[0].detail).toContain('aip/standin:1 now names')
      expect(by.moros).toEqual([
        { kind: 'file', detail: 'prometheus/prometheus.yml was edited on the host' },
        { kind: 'env', detail: '.env was edited on the host' },
      ])
      const text = await platform.cli(['drift', ...HOSTS])
      expect(text.code).toBe(1)
      expect(text.stdout).toMatch(/^erebus: 1 difference\(s\) from \d{8}T\d{6}Z-[0-9a-f]{8}$/m)
      expect(text.stdout).toMatch(/^ {2}stopped +redis-exporter +0 of 1 running/m)
      expect(text.stdout).toContain('DRIFT: ')
    } finally {
      await dockerOutside(erebus, ['start', exporter])
      await dockerOutside(thanatos, ['tag', standin, 'aip/standin:1'])
      await writeFile(edited, original)
      await writeFile(env, originalEnv)
    }
    await waitFor(
      'erebus back to no drift',
      async () => (await platform.cli(['drift', ...HOSTS, '--json'])).code === 0,
      60_000,
      2000,
    )
  }, 600_000)

  it('--watch --notify: each change once, to the webhook receiver, appearing and resolved', async () => {
    const posts: any[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        posts.push({ auth: req.headers.authorization, body: JSON.parse(body) })
        res.end('ok')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    await platform.edit('inventory/platform.yaml', (text) =>
      text.replace(
        /^platform:\n/,
        `platform:\n  alerts:\n    receivers:\n      - { name: hook, webhook: { url: "http://127.0.0.1:${port}/drift", bearer_secret: NTFY_TOKEN } }\n`,
      ),
    )
    const secrets = await readFile(join(platform.dir, 'secrets.env'), 'utf8')
    // a secret the test platform's Alertmanager passes (validate requires it of a receiver's secret)
    const token = /^NTFY_TOKEN=(.*)$/m.exec(secrets)![1]
    const erebus = fleetHost(platform.fleet, 'erebus')
    const watch = spawn(
      process.execPath,
      [
        join(REPO, 'bin/run.js'),
        'drift',
        'erebus',
        '--watch',
        '--interval',
        '5',
        '--notify',
        '--project',
        platform.dir,
      ],
      { env: platform.env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const exited = new Promise((r) => watch.once('exit', r))
    let out = ''
    watch.stdout.on('data', (c) => (out += c))
    watch.stderr.on('data', (c) => (out += c))
    const exporter = (
      await dockerOutside(erebus, ['ps', '-q', '--filter', 'label=com.docker.compose.service=redis-exporter'])
    ).stdout.trim()
    try {
      await new Promise((r) => setTimeout(r, 3000)) // the first round: no drift, nothing sent
      expect(watch.exitCode, out).toBeNull() // still watching
      expect(posts).toEqual([])
      await dockerOutside(erebus, ['stop', '-t', '1', exporter])
      await waitFor('the drift notice', async () => posts.length >= 1, 60_000, 500)
      await dockerOutside(erebus, ['start', exporter])
      await waitFor('the resolved notice', async () => posts.length >= 2, 60_000, 500)
      expect(posts.map((p) => [p.auth, p.body.kind, p.body.service, p.body.resolved])).toEqual([
        [`Bearer ${token}`, 'stopped', 'redis-exporter', false],
        [`Bearer ${token}`, 'stopped', 'redis-exporter', true],
      ])
      expect(posts[0].body.text).toMatch(/^erebus: drift stopped redis-exporter: 0 of 1 running/)
      expect(out).toMatch(/erebus: resolved stopped redis-exporter/)
      expect(out).not.toContain(token!)
    } finally {
      watch.kill('SIGINT')
      await exited
      server.close()
      await dockerOutside(erebus, ['start', exporter])
      await platform.edit('inventory/platform.yaml', (text) => text.replace(/^ {2}alerts:\n(?: {4,}.*\n)+/m, ''))
    }
  }, 300_000)
})
