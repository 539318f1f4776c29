// examples/fastapi-platform/ as the real loader, renderer and CLI see it: it validates, pins the images
// it builds from docker/ to their sources, runs migrations once before the API, scales the workers
// without host ports, and wires Prometheus and Traefik (TLS) to the API.
import { spawnSync } from 'node:child_process'
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadProject } from '../../../src/config/load.js'
import type { Project } from '../../../src/config/model.js'
import { formatIssue } from '../../../src/errors.js'
import { imageBuilds, type ImageBuild } from '../../../src/render/image-build.js'
import { renderHosts, type HostRender } from '../../../src/render/render.js'
import { cli } from '../../helpers/cli.js'
import { REPO, projectFrom, removeProject } from '../../helpers/project.js'

const EXAMPLE = join(REPO, 'examples/fastapi-platform')
const REGISTRY = 'registry.home.arpa:5000'
const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(removeProject))
})

interface ComposeService {
  image?: string
  ports?: string[]
  restart?: string
  depends_on?: Record<string, { condition: string }>
  deploy?: { replicas?: number }
  healthcheck?: unknown
  volumes?: string[]
}

interface Loaded {
  project: Project
  builds: ImageBuild[]
  renders: Map<string, HostRender>
}

/** Loads and renders every host, failing on any error with its located message. */
async function load(dir: string): Promise<Loaded> {
  const result = await loadProject({ dir, bundled: false })
  expect(result.issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([])
  const project = result.project!
  const rendered = renderHosts(project, project.hostOrder)
  expect(rendered.issues.map(formatIssue)).toEqual([])
  return { project, builds: imageBuilds(project), renders: new Map(rendered.renders.map((r) => [r.host, r])) }
}

function composeOf(loaded: Loaded, host: string): Record<string, ComposeService> {
  return (parse(loaded.renders.get(host)!.compose.content) as { services: Record<string, ComposeService> }).services
}

function fileOf(loaded: Loaded, host: string, path: string): unknown {
  const file = loaded.renders.get(host)!.files.find((f) => f.path.endsWith(`/${path}`))
  if (!file) throw new Error(`${host} has no rendered ${path}`)
  return parse(file.content)
}

const refOf = (loaded: Loaded, service: string) => loaded.builds.find((b) => b.services.includes(service))?.ref

async function pythonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.py'))
    .map((e) => join(e.parentPath, e.name))
    .sort()
}

describe('examples/fastapi-platform', () => {
  it('loads and renders every host without an error, each running its share of the platform', async () => {
    const loaded = await load(EXAMPLE)
    const placement = [...loaded.renders.values()].map((r) => [r.host, r.services.map((s) => s.name).sort()])
    expect(placement).toEqual([
      ['vault', ['postgres', 'postgres-init', 'qdrant', 'redis']],
      ['conductor', ['api', 'migrations', 'worker']],
      ['lookout', ['dashboard', 'prometheus', 'traefik']],
    ])
  })

  it('checks the health of the databases and backs PostgreSQL up, with the database the API declares', async () => {
    const loaded = await load(EXAMPLE)
    const vault = composeOf(loaded, 'vault')
    for (const name of ['postgres', 'redis', 'qdrant']) {
      expect(vault[name]!.healthcheck, name).toBeDefined()
      expect(loaded.project.services[name]!.health, name).not.toEqual([])
    }
    expect(loaded.project.services.postgres!.backup).toEqual({ engine: 'postgres', user: 'postgres', keep: 7 })
    expect(loaded.project.services.api!.databases).toEqual(['orchestrator'])
    const init = loaded.renders.get('vault')!.files.find((f) => f.path.endsWith('/postgres/init.sql'))!
    expect(init.content).toContain("SELECT 'CREATE DATABASE orchestrator OWNER orchestrator'")
  })

  it('pins the API, worker, migrations and dashboard images to <image_registry>/<name>:src-<digest>', async () => {
    const loaded = await load(EXAMPLE)
    expect(loaded.builds.map((b) => [b.repository, b.services])).toEqual([
      [`${REGISTRY}/orchestrator`, ['api', 'migrations', 'worker']],
      [`${REGISTRY}/dashboard`, ['dashboard']],
    ])
    for (const build of loaded.builds) {
      expect(build.digest).toMatch(/^[0-9a-f]{64}$/)
      expect(build.tag).toBe(`src-${build.digest.slice(0, 16)}`)
      expect(build.ref).toBe(`${build.repository}:${build.tag}`)
    }
    for (const [host, service] of [
      ['conductor', 'api'],
      ['conductor', 'worker'],
      ['conductor', 'migrations'],
      ['lookout', 'dashboard'],
    ] as const) {
      const ref = refOf(loaded, service)
      expect(ref, service).toMatch(/^registry\.home\.arpa:5000\/(orchestrator|dashboard):src-[0-9a-f]{16}$/)
      expect(composeOf(loaded, host)[service]!.image, service).toBe(ref)
      expect(loaded.renders.get(host)!.services.find((s) => s.name === service)!.image, service).toBe(ref)
    }
  })

  it('an edited source file changes the refs built from its context and the hosts that run them, nothing else', async () => {
    const dir = await projectFrom(EXAMPLE)
    dirs.push(dir)
    const before = await load(dir)
    const changedHosts = (a: Loaded, b: Loaded) =>
      [...a.renders.keys()].filter((host) => a.renders.get(host)!.hash !== b.renders.get(host)!.hash)

    await mkdir(join(dir, 'docker/app/app/__pycache__'), { recursive: true })
    await writeFile(join(dir, 'docker/app/app/__pycache__/worker.cpython-312.pyc'), 'bytecode')
    const ignored = await load(dir)
    expect(ignored.builds.map((b) => b.ref)).toEqual(before.builds.map((b) => b.ref))
    expect(changedHosts(before, ignored)).toEqual([])

    await appendFile(join(dir, 'docker/app/app/worker.py'), '# a change\n')
    const app = await load(dir)
    for (const service of ['api', 'worker', 'migrations'])
      expect(refOf(app, service), service).not.toBe(refOf(before, service))
    expect(refOf(app, 'dashboard')).toBe(refOf(before, 'dashboard'))
    expect(changedHosts(before, app)).toEqual(['conductor'])

    await appendFile(join(dir, 'docker/dashboard/dashboard.py'), '# a change\n')
    const dashboard = await load(dir)
    expect(refOf(dashboard, 'dashboard')).not.toBe(refOf(app, 'dashboard'))
    expect(refOf(dashboard, 'api')).toBe(refOf(app, 'api'))
    expect(changedHosts(app, dashboard)).toEqual(['lookout'])
  })

  it('runs the migrations once, to completion, before the API and the workers start', async () => {
    const loaded = await load(EXAMPLE)
    expect(loaded.project.services.migrations!.oneshot).toBe(true)
    expect(loaded.project.services.api!.requires).toContain('migrations')
    const conductor = composeOf(loaded, 'conductor')
    expect(conductor.migrations!.restart).toBe('no')
    expect(conductor.api!.restart).toBe('unless-stopped')
    for (const service of ['api', 'worker'])
      expect(conductor[service]!.depends_on, service).toEqual({
        migrations: { condition: 'service_completed_successfully' },
      })
    expect(loaded.renders.get('conductor')!.services.find((s) => s.name === 'migrations')!.oneshot).toBe(true)
  })

  it('runs three workers with no fixed host port, replaced one at a time', async () => {
    const loaded = await load(EXAMPLE)
    const worker = composeOf(loaded, 'conductor').worker!
    expect(worker.deploy?.replicas).toBe(3)
    expect(worker.ports).toBeUndefined()
    expect(worker.healthcheck).toBeDefined()
    expect(loaded.renders.get('conductor')!.services.find((s) => s.name === 'worker')).toMatchObject({
      replicas: 3,
      rollout: { batch: 1, pauseS: 5 },
      hasHealthcheck: true,
    })
  })

  it("renders Prometheus's config to scrape the API's /metrics on the port conductor publishes", async () => {
    const loaded = await load(EXAMPLE)
    const config = fileOf(loaded, 'lookout', 'prometheus/prometheus.yml') as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[]
    }
    const api = config.scrape_configs.find((c) => c.job_name === 'api')
    expect(api).toEqual({
      job_name: 'api',
      metrics_path: '/metrics',
      static_configs: [{ targets: ['conductor.home.arpa:8000'], labels: { host: 'conductor' } }],
    })
    expect(composeOf(loaded, 'conductor').api!.ports).toEqual(['8000:8000'])
    const prometheus = composeOf(loaded, 'lookout').prometheus!
    expect(
      prometheus.volumes!.some((v) => v.endsWith('/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro')),
    ).toBe(true)
  })

  it("renders Traefik's config with a TLS router for the API, and plain HTTP only redirecting", async () => {
    const loaded = await load(EXAMPLE)
    const routes = fileOf(loaded, 'lookout', 'traefik/dynamic/routes.yaml') as {
      http: {
        routers: Record<string, { rule: string; service: string; entryPoints: string[]; tls?: unknown }>
        services: Record<string, { loadBalancer: { servers: { url: string }[] } }>
      }
      tls: { stores: { default: { defaultCertificate: { certFile: string; keyFile: string } } } }
    }
    expect(routes.http.routers.api).toEqual({
      rule: 'Host(`api.home.arpa`)',
      service: 'api',
      entryPoints: ['websecure'],
      tls: {},
    })
    expect(routes.http.services.api!.loadBalancer.servers).toEqual([{ url: 'http://conductor.home.arpa:8000' }])
    expect(Object.keys(routes.http.routers).sort()).toEqual(['api', 'dashboard'])
    for (const [name, router] of Object.entries(routes.http.routers)) {
      expect(router.entryPoints, name).toEqual(['websecure'])
      expect(router.tls, name).toBeDefined()
    }
    expect(routes.tls.stores.default.defaultCertificate).toEqual({
      certFile: '/certs/platform.crt',
      keyFile: '/certs/platform.key',
    })

    const traefik = fileOf(loaded, 'lookout', 'traefik/traefik.yaml') as {
      entryPoints: Record<string, { address: string; http?: { redirections?: unknown } }>
    }
    expect(traefik.entryPoints.websecure!.address).toBe(':443')
    expect(traefik.entryPoints.web!.http?.redirections).toEqual({ entryPoint: { to: 'websecure', scheme: 'https' } })
    const service = composeOf(loaded, 'lookout').traefik!
    expect(service.ports).toContain('443:443')
    expect(service.volumes).toContain('/opt/orchestrator/data/traefik/certs:/certs:ro')
  })

  it.skipIf(!HAS_PYTHON)('every Python file compiles (python3 -m py_compile)', async () => {
    const files = await pythonFiles(join(EXAMPLE, 'docker'))
    expect(files.map((f) => relative(EXAMPLE, f))).toEqual([
      'docker/app/app/__init__.py',
      'docker/app/app/api.py',
      'docker/app/app/common.py',
      'docker/app/app/migrate.py',
      'docker/app/app/worker.py',
      'docker/dashboard/dashboard.py',
    ])
    // The bytecode goes to a directory of the test's own, not into the example's __pycache__.
    const prefix = await mkdtemp(join(tmpdir(), 'aip-pyc-'))
    try {
      const result = spawnSync('python3', ['-m', 'py_compile', ...files], {
        env: { ...process.env, PYTHONPYCACHEPREFIX: prefix },
        encoding: 'utf8',
      })
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
    } finally {
      await rm(prefix, { recursive: true, force: true })
    }
  })
})

describe('examples/fastapi-platform through the CLI', () => {
  it('validate and deploy --dry-run succeed, deploying vault, then conductor, then lookout', async () => {
    const [validate, deploy] = await Promise.all([
      cli(['validate', '--project', EXAMPLE]),
      cli(['deploy', 'all', '--dry-run', '--json', '--project', EXAMPLE]),
    ])
    expect(validate.stderr).toBe('')
    expect(validate.code).toBe(0)
    expect(deploy.code).toBe(0)
    const plan = JSON.parse(deploy.stdout) as { kind: string; waves: { hosts: string[] }[] }
    expect(plan.kind).toBe('ai-platform/plan')
    expect(plan.waves.map((w) => w.hosts)).toEqual([['vault'], ['conductor'], ['lookout']])
  })

  it('images build --dry-run --json plans the two images with the refs the render pins, contacting nothing', async () => {
    const [result, loaded] = await Promise.all([
      cli(['images', 'build', '--dry-run', '--json', '--project', EXAMPLE]),
      load(EXAMPLE),
    ])
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout) as {
      images: { ref: string; services: string[]; context: string; digest: string; status: string }[]
    }
    expect(report).toMatchObject({
      kind: 'ai-platform/images-build',
      ok: true,
      platform: 'orchestrator',
      registry: REGISTRY,
      builder: { kind: 'local' },
      dryRun: true,
      login: { username: 'deploy', secret: 'REGISTRY_PASSWORD' },
    })
    expect(report.images.map((i) => [i.ref, i.services, i.context, i.digest, i.status])).toEqual(
      loaded.builds.map((b) => [b.ref, b.services, relative(EXAMPLE, b.context), b.digest, 'planned']),
    )
  })
})
