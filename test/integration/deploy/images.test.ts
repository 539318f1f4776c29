// Images built from source on the fleet: `images build --on thanatos` builds a tiny image (FROM the
// fleet's aip/busybox:1, which every host has loaded) on that host's engine and pushes it to a real
// registry; deploy pulls it on thanatos and zelus with the registry_auth log-in and runs it; a changed
// source file is a new ref; a wrong password in secrets.env fails the pull in the images step, before
// the switch, with the host left on its release.
//
// The registry is the fleet's own (test/fleet/registry.sh: Debian's docker-registry, TLS from a CA the
// hosts' engines trust, user `fleet`), named in fleet.json.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { fleetHost, loadFleet } from '../../fleet/fleet.js'
import {
  ensureDeployed,
  HAVE_FLEET,
  hostDocker,
  hostState,
  testPlatform,
  type TestPlatform,
} from '../helpers/platform.js'

const registry = HAVE_FLEET ? loadFleet().registry : undefined
const REGISTRY = registry?.address ?? ''
const PASSWORD = registry ? readFileSync(registry.passwordFile, 'utf8').trim() : ''
const BUILDER = 'thanatos'
const HOSTS = ['thanatos', 'zelus']
const PORT = 18431
/** The registry outlives a run: content of this run's own makes refs it has never seen. */
const RUN = randomBytes(4).toString('hex')

let platform: TestPlatform

/** The platform's registry and log-in, the hello stack on HOSTS, and its build context. */
async function addBuiltService(p: TestPlatform, greeting: string): Promise<void> {
  await p.edit('inventory/platform.yaml', (text) => {
    const doc = parse(text) as { platform: Record<string, any> }
    doc.platform.image_registry = REGISTRY
    doc.platform.registry_auth = { username: 'fleet', password_secret: 'REGISTRY_PASSWORD' }
    doc.platform.secrets.REGISTRY_PASSWORD = { generate: false }
    return stringify(doc)
  })
  await setPassword(p, PASSWORD)
  const context = join(p.dir, 'docker/hello')
  await mkdir(join(context, 'www'), { recursive: true })
  await writeFile(
    join(context, 'Dockerfile'),
    'FROM aip/busybox:1\nARG GREETING\nCOPY www /www\nRUN echo "$GREETING" > /www/greeting\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n',
  )
  await writeFile(join(context, 'www/index.html'), `${greeting}\n`)
  await writeFile(join(context, '.dockerignore'), 'notes.txt\n')
  await writeFile(join(context, 'notes.txt'), 'not part of the image\n')
  await writeFile(
    join(p.dir, 'stacks/hello.yaml'),
    stringify({
      'x-ai-platform': { placement: { hosts: HOSTS }, phase: 'monitor' },
      services: {
        hello: {
          ports: [`${PORT}:8080`],
          'x-ai-platform': {
            build: { context: 'docker/hello', args: { GREETING: 'from source' } },
            health: [{ http: { port: PORT, path: '/index.html', body: greeting } }],
          },
        },
      },
    }),
  )
}

async function setPassword(p: TestPlatform, password: string): Promise<void> {
  const file = join(p.dir, 'secrets.env')
  const kept = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('REGISTRY_PASSWORD='))
  await writeFile(file, [...kept, `REGISTRY_PASSWORD=${password}`, ''].join('\n'), { mode: 0o600 })
}

/** Every file under a directory, for a search of the password. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile() && (await stat(path)).size < 4 * 1024 * 1024) out.push(path)
  }
  return out
}

describe.skipIf(!HAVE_FLEET)('images built from source', () => {
  beforeAll(async () => {
    if (!registry)
      throw new Error('fleet.json names no registry: run `npm run fleet:up` again (test/fleet/registry.sh)')
    platform = await testPlatform()
    await ensureDeployed(platform)
    await addBuiltService(platform, `hello v1 ${RUN}`)
  }, 600_000)

  afterAll(async () => {
    if (!platform) return
    await rm(join(platform.dir, 'stacks/hello.yaml'), { force: true })
    await platform.regenerate({})
    await ensureDeployed(platform).catch(() => undefined)
    await platform.cleanup()
  })

  it('images build --on a host pushes the pinned ref; a second run finds it in the registry', async () => {
    const dry = await platform.cli(['images', 'build', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    const ref: string = dry.json.images[0].ref
    expect(ref).toMatch(new RegExp(`^${REGISTRY.replace(/[.]/g, '\\.')}/hello:src-[0-9a-f]{16}$`))
    const plan = await platform.cli(['plan', 'zelus', '--json'])
    expect(plan.stdout).toContain(`"image": "${ref}"`)

    const built = await platform.cli(['images', 'build', '--on', BUILDER, '--json'])
    expect(built.code, built.stderr).toBe(0)
    expect(built.json.images).toEqual([
      expect.objectContaining({ ref, services: ['hello'], status: 'pushed', registry: 'absent' }),
    ])
    // the build's output streamed to stderr, control characters escaped; the password never printed
    expect(built.stderr).toMatch(/COPY www \/www/)
    expect(built.stderr).not.toContain(PASSWORD)
    expect(built.stdout).not.toContain(PASSWORD)

    const again = await platform.cli(['images', 'build', '--on', BUILDER, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.json.images[0]).toMatchObject({ ref, status: 'skipped', registry: 'present' })
  }, 600_000)

  it('deploy pulls it on both hosts with the log-in and runs it; no host keeps a credential', async () => {
    // neither host keeps a copy (zelus never built it, the builder's own is removed): both engines
    // must pull it from the registry
    const ref: string = (await platform.cli(['images', 'build', '--dry-run', '--json'])).json.images[0].ref
    for (const name of HOSTS) {
      const docker = hostDocker(fleetHost(platform.fleet, name))
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined)
      await expect(docker.getImage(ref).inspect()).rejects.toMatchObject({ statusCode: 404 })
    }
    const run = await platform.cli(['deploy', ...HOSTS, '--yes', '--json'])
    expect(run.code, run.stderr).toBe(0)
    for (const name of HOSTS) {
      const host = fleetHost(platform.fleet, name)
      const state = await hostState(host)
      expect(state.containers.find((c) => c.service === 'hello')).toMatchObject({ state: 'running' })
      await expect(hostDocker(host).getImage(ref).inspect()).resolves.toMatchObject({ RepoTags: [ref] })
      const body = await fetch(`http://${host.address}:${PORT}/greeting`).then((r) => r.text())
      expect(body).toBe('from source\n')
      // nothing the deploy left on the host holds the password: not the release, not a docker config
      for (const file of await filesUnder(host.outside.baseDir))
        expect(await readFile(file, 'utf8').catch(() => ''), file).not.toContain(PASSWORD)
      // nor a docker config: the log-in went with each pull, so none holds the password, even base64
      const encoded = Buffer.from(`fleet:${PASSWORD}`).toString('base64')
      for (const dir of [join(host.outside.root, 'home/deploy/.docker'), join(host.outside.root, 'root/.docker')])
        for (const file of await filesUnder(dir)) {
          const text = await readFile(file, 'utf8')
          expect(text, file).not.toContain(PASSWORD)
          expect(text, file).not.toContain(encoded)
          expect(text, file).not.toContain(REGISTRY)
        }
    }
    // the audit log names no password
    expect(await readFile(platform.auditLog, 'utf8')).not.toContain(PASSWORD)
  }, 600_000)

  it('a wrong password fails the pull in the images step with the clear error; the host stays on its release', async () => {
    // a changed source file is a new ref, which zelus does not have
    await writeFile(join(platform.dir, 'docker/hello/www/index.html'), `hello v2 ${RUN}\n`)
    await platform.edit('stacks/hello.yaml', (text) => text.replace('body: hello v1', 'body: hello v2'))
    const built = await platform.cli(['images', 'build', '--on', BUILDER, '--json'])
    expect(built.code, built.stderr).toBe(0)
    const ref: string = built.json.images[0].ref

    const zelus = fleetHost(platform.fleet, 'zelus')
    const before = await hostState(zelus)
    await setPassword(platform, 'not-the-password')
    try {
      const run = await platform.cli(['deploy', 'zelus', '--yes', '--json'])
      expect(run.code).toBe(1)
      const report = run.json.hosts[0]
      expect(report.failedStep).toBe('images')
      expect(report.error).toMatch(
        new RegExp(
          `^zelus: the registry ${REGISTRY.replace(/[.]/g, '\\.')} refused the credentials for fleet \\(secret REGISTRY_PASSWORD\\): pulling ${ref.replace(/[.]/g, '\\.')}: `,
        ),
      )
      expect(report.hint).toBe(
        'Check REGISTRY_PASSWORD in secrets.env: it must be the registry password of fleet (platform.registry_auth).',
      )
      expect(report.rollback).toEqual({ status: 'none', release: before.current })
      const after = await hostState(zelus)
      expect(after.current).toBe(before.current)
      expect(after.containers.find((c) => c.service === 'hello')?.id).toBe(
        before.containers.find((c) => c.service === 'hello')?.id,
      )
      expect(run.stdout + run.stderr).not.toContain('not-the-password')
    } finally {
      await setPassword(platform, PASSWORD)
    }
  }, 600_000)

  it('images build --local: the Docker CLI through execa, its own DOCKER_CONFIG, the password on stdin only', async () => {
    // the workstation's engine is the fleet's `local` host (its dockerd trusts the fleet's CA too)
    const local = fleetHost(platform.fleet, 'local')
    await writeFile(join(platform.dir, 'docker/hello/www/index.html'), `hello local ${RUN}\n`)
    const before = await readdir(tmpdir())
    const built = await platform.cli(['images', 'build', '--local', '--json'], { DOCKER_HOST: local.env!.DOCKER_HOST })
    expect(built.code, built.stderr).toBe(0)
    expect(built.json.builder).toEqual({ kind: 'local' })
    // `docker manifest inspect` asks the registry from this machine, which does not trust the fleet's CA
    // (only the hosts' engines do): the lookup cannot tell, so the image is built
    expect(built.json.images).toEqual([expect.objectContaining({ status: 'pushed', registry: 'unknown' })])
    expect(built.stderr).toMatch(/COPY www \/www/)
    expect(built.stderr + built.stdout).not.toContain(PASSWORD)
    // the run's DOCKER_CONFIG (which held the log-in) is gone
    expect((await readdir(tmpdir())).filter((f) => f.startsWith('aip-docker-') && !before.includes(f))).toEqual([])
    // and a host pulls what the local engine pushed
    const ref: string = built.json.images[0].ref
    const zelus = hostDocker(fleetHost(platform.fleet, 'zelus'))
    const auth = { username: 'fleet', password: PASSWORD, serveraddress: REGISTRY }
    const stream = await zelus.pull(ref, { authconfig: auth })
    await new Promise((resolve, reject) => zelus.modem.followProgress(stream, (e) => (e ? reject(e) : resolve(null))))
    await zelus.getImage(ref).remove({ force: true })
  }, 600_000)
})
