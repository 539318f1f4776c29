import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { fileKey, renderHost, renderHosts } from '../../../src/render/render.js'
import { loadOk } from '../../helpers/load.js'
import { MINIMAL, projectFrom, REPO, removeProject } from '../../helpers/project.js'

type Compose = { services: Record<string, Record<string, any>>; volumes?: object; networks?: object }
const composeOf = (text: string): Compose => parse(text) as Compose

describe('rendering the reference platform', () => {
  it('renders all ten hosts without issues', async () => {
    const { project, origins } = await loadOk()
    const { renders, issues } = renderHosts(project, project.hostOrder, { origins })
    expect(issues).toEqual([])
    expect(renders.map((r) => r.host)).toEqual([
      'erebus',
      'hephaestus',
      'thanatos',
      'zelus',
      'orpheus',
      'kratos',
      'nyx',
      'hades',
      'moros',
      'local',
    ])
  })

  it('is deterministic: same bytes and hashes twice, and in a separate process', async () => {
    const first = await loadOk()
    const second = await loadOk()
    const a = renderHosts(first.project, first.project.hostOrder).renders
    const b = renderHosts(second.project, second.project.hostOrder).renders
    expect(b.map((r) => [r.host, r.hash, r.compose.content, r.files.map((f) => f.content)])).toEqual(
      a.map((r) => [r.host, r.hash, r.compose.content, r.files.map((f) => f.content)]),
    )
    // A fresh process (different module state, different object key insertion) must agree.
    // Uses the built CLI modules (npm test builds first).
    const script = `import { loadProject } from './dist/src/config/load.js'; import { renderHosts } from './dist/src/render/render.js';
      const r = await loadProject({ dir: process.cwd(), bundled: false }); console.log(JSON.stringify(renderHosts(r.project, r.project.hostOrder).renders.map((x) => x.hash)))`
    const out = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8' },
    })
    expect(JSON.parse(out.trim())).toEqual(a.map((r) => r.hash))
    for (const render of a) expect(render.compose.content).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/)
  })

  it('gives NVIDIA hosts a device reservation, the AMD host /dev/kfd and /dev/dri, and no GPU section elsewhere', async () => {
    const { project } = await loadOk()
    for (const name of project.hostOrder) {
      const render = renderHost(project, name).render!
      const compose = composeOf(render.compose.content)
      const text = render.compose.content
      const vendor = project.hosts[name]!.gpu?.vendor
      if (vendor === 'nvidia') {
        expect(compose.services.ollama!.deploy.resources.reservations.devices).toEqual([
          { driver: 'nvidia', count: 'all', capabilities: ['gpu'] },
        ])
        expect(text).not.toContain('/dev/kfd')
      } else if (vendor === 'amd') {
        const ollama = compose.services.ollama!
        expect(ollama.image).toBe('ollama/ollama:0.5.7-rocm')
        expect(ollama.devices).toEqual(['/dev/kfd', '/dev/dri'])
        // No gid in the inventory: no group by name, which the image's /etc/group may lack.
        expect(ollama.group_add).toBeUndefined()
        expect(ollama.environment.HSA_OVERRIDE_GFX_VERSION).toBe('10.3.0')
        expect(ollama.environment.ROCR_VISIBLE_DEVICES).toBe('0,1') // count: all of hades' two GPUs
        expect(ollama.cap_add).toEqual(['SYS_PTRACE'])
        expect(ollama.deploy.resources.limits).toEqual({ cpus: '20', memory: '96G' })
        expect(text).not.toContain('driver: nvidia')
      } else {
        expect(text).not.toContain('driver: nvidia')
        expect(text).not.toContain('/dev/kfd')
        expect(text).not.toContain('reservations:\n          devices')
      }
    }
  })

  it("a node's Ollama settings (inventory `ollama:`) reach its Ollama service's environment, over the stack's values", async () => {
    const { project } = await loadOk()
    const env = (host: string, service: string) =>
      composeOf(renderHost(project, host).render!.compose.content).services[service]!.environment
    expect(env('nyx', 'ollama')).toMatchObject({
      OLLAMA_NUM_PARALLEL: '1',
      OLLAMA_MAX_LOADED_MODELS: '1',
      OLLAMA_MAX_QUEUE: '64',
      OLLAMA_KEEP_ALIVE: '10m', // the stack's: nyx sets none
    })
    expect(env('hades', 'ollama')).toMatchObject({
      OLLAMA_KEEP_ALIVE: '1h',
      OLLAMA_FLASH_ATTENTION: '1',
      OLLAMA_MAX_LOADED_MODELS: '1',
      OLLAMA_NUM_PARALLEL: '2', // the stack's
    })
    // a node without settings keeps the stack's environment as written
    expect(env('kratos', 'ollama')).not.toHaveProperty('OLLAMA_MAX_LOADED_MODELS')
    // only the service whose check is `ollama`: Whisper on nyx gets none of them
    const nyx = composeOf(renderHost(project, 'nyx').render!.compose.content).services
    for (const [name, service] of Object.entries(nyx))
      if (name !== 'ollama') expect(JSON.stringify(service.environment ?? {})).not.toContain('OLLAMA_MAX_QUEUE')
  })

  it("AMD: adds the inventory's video and render gids by number, after the stack's own groups", async () => {
    const { projectFrom, removeProject } = await import('../../helpers/project.js')
    const gpu = 'gpu: { vendor: amd, count: 2, vram_gb: 24, gfx_version: 10.3.0'
    const edit = (extra: string) => (text: string) => {
      if (!text.includes(gpu)) throw new Error('hosts.yaml has no hades GPU line')
      return text.replace(gpu, `${gpu}, ${extra}`)
    }
    const both = await projectFrom(REPO, {
      'inventory/hosts.yaml': edit('video_gid: 44, render_gid: 109'),
      'stacks/ollama.yaml': (t) =>
        t.replace(
          '            security_opt: ["seccomp=unconfined"]\n',
          '            security_opt: ["seccomp=unconfined"]\n            group_add: [audio, 44]\n',
        ),
    })
    const renderOnly = await projectFrom(REPO, { 'inventory/hosts.yaml': edit('render_gid: 110') })
    try {
      const text = renderHost((await loadOk(both)).project, 'hades').render!.compose.content
      expect(composeOf(text).services.ollama!.group_add).toEqual(['audio', 44, 109])
      expect(text).toContain('    group_add:\n      - audio\n      - 44\n      - 109\n')
      const only = renderHost((await loadOk(renderOnly)).project, 'hades').render!.compose.content
      expect(only).toContain('    group_add:\n      - 110\n')
      expect(only).not.toMatch(/- "?video"?\n/)
    } finally {
      await removeProject(both)
      await removeProject(renderOnly)
    }
  })

  it('adds restart policy, log rotation and labels naming host and service; keeps limits', async () => {
    const { project } = await loadOk()
    const compose = composeOf(renderHost(project, 'erebus').render!.compose.content)
    const postgres = compose.services.postgres!
    expect(postgres.restart).toBe('unless-stopped')
    expect(postgres.logging).toEqual({ driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } })
    expect(postgres.labels).toMatchObject({
      'ai-platform.host': 'erebus',
      'ai-platform.service': 'postgres',
      'ai-platform.platform': 'reference',
      'ai-platform.stack': 'databases',
    })
    expect(postgres.deploy.resources.limits).toEqual({ cpus: '4', memory: '8G' })
    expect(compose.services['postgres-init']!.restart).toBe('no')
    // Same-host requirements become depends_on with the right condition.
    expect(compose.services['postgres-exporter']!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } })
    expect(compose.services['redis-exporter']!.depends_on).toEqual({ redis: { condition: 'service_healthy' } })
  })

  it('keeps secret values out of compose files and lists only the secrets each host uses', async () => {
    const { project } = await loadOk()
    const erebus = renderHost(project, 'erebus').render!
    expect(erebus.secrets).toEqual([
      'POSTGRES_PASSWORD',
      'POSTGRES_REPLICATION_PASSWORD',
      'QDRANT_API_KEY',
      'REDIS_PASSWORD',
    ])
    expect(erebus.compose.content).toContain('POSTGRES_PASSWORD: "${POSTGRES_PASSWORD}"')
    expect(renderHost(project, 'kratos').render!.secrets).toEqual([])
    expect(renderHost(project, 'moros').render!.secrets).toEqual([
      'GRAFANA_ADMIN_PASSWORD',
      'NTFY_TOKEN',
      'QDRANT_API_KEY', // Prometheus's bearer token for Qdrant's /metrics
      'SMTP_PASSWORD',
    ])
  })

  it('puts on-demand services under the on-demand profile', async () => {
    const { project } = await loadOk()
    const kratos = composeOf(renderHost(project, 'kratos').render!.compose.content)
    expect(kratos.services.comfyui!.profiles).toEqual(['on-demand'])
    expect(kratos.services.ollama!.profiles).toBeUndefined()
  })

  it("routes an on-demand service's proxy route through a failover to the on-demand page, and scrapes it labelled so no alert pages for it", async () => {
    const { project } = await loadOk()
    const file = (host: string, suffix: string) =>
      renderHost(project, host).render!.files.find((f) => f.path.endsWith(suffix))!.content
    const routes = file('hephaestus', 'traefik/dynamic/routes.yaml')
    expect(routes).toContain(
      [
        '    comfy:',
        '      failover:',
        '        service: comfy-backend',
        '        fallback: on-demand-page',
        '    comfy-backend:',
        '      loadBalancer:',
        '        healthCheck:',
        '          path: "/"',
        '          interval: 5s',
        '          timeout: 3s',
        '        servers:',
        '          - url: "http://kratos.home.arpa:8188"',
        '    grafana:',
        '      loadBalancer:',
        '        servers:',
        '          - url: "http://moros.home.arpa:3001"',
      ].join('\n'),
    )
    expect(
      routes.endsWith(
        [
          '    on-demand-page:',
          '      loadBalancer:',
          '        servers:',
          '          - url: "http://hephaestus.home.arpa:8099"',
          '',
        ].join('\n'),
      ),
    ).toBe(true)
    // the page: 503 for every path, per route by the Host Traefik keeps, and a default one
    const page = file('hephaestus', 'on-demand-page/default.conf')
    expect(page).toContain(
      [
        'server {',
        '    listen 8099;',
        '    server_name comfy.home.arpa;',
        '    default_type text/html;',
        '    location / {',
        '        return 503 "<!doctype html><html><head><meta charset=\\"utf-8\\"><title>comfyui is not running</title></head><body><h1>comfyui is not running</h1><p>comfyui is an on-demand service and is not running; start it with <code>ai-platform up kratos comfyui</code>.</p></body></html>\\n";',
        '    }',
        '}',
      ].join('\n'),
    )
    expect(page.match(/return 503 /g)).toHaveLength(3)
    expect(page).not.toMatch(/return (?!503)/)
    const prometheus = file('moros', 'prometheus/prometheus.yml')
    expect(prometheus).toContain(
      [
        '  - job_name: "tempo"',
        '    metrics_path: "/metrics"',
        '    static_configs:',
        '      - targets: ["moros.home.arpa:3200"]',
        '        labels:',
        '          host: "moros"',
        '          tier: "on-demand"',
        '  - job_name: "traefik"',
      ].join('\n'),
    )
    expect(prometheus.match(/tier: /g)).toHaveLength(1)
    expect(file('moros', 'rules/alerts.yml')).toContain('        expr: up{tier!="on-demand"} == 0\n')
  })

  it("renders an on-demand route as a plain one (Traefik's 502 while stopped) when no on-demand-page is placed", async () => {
    const dir = await projectFrom(REPO, {
      'stacks/edge.yaml': (t) =>
        t
          .replace(/ {2}# Answers the route[\s\S]*?(?= {2}# Needs a provider config)/, '')
          .replace(/ {4}- \{ template: on-demand-page[^\n]*\n/, ''),
    })
    try {
      const { project } = await loadOk(dir)
      const routes = renderHost(project, 'hephaestus').render!.files.find((f) =>
        f.path.endsWith('routes.yaml'),
      )!.content
      expect(routes).toContain(
        '    comfy:\n      loadBalancer:\n        servers:\n          - url: "http://kratos.home.arpa:8188"\n',
      )
      expect(routes).not.toContain('on-demand-page')
    } finally {
      await removeProject(dir)
    }
  })

  it('mounts the model store read-write on the one writer and read-only with no pruning elsewhere', async () => {
    const { project } = await loadOk()
    const hades = composeOf(renderHost(project, 'hades').render!.compose.content).services.ollama!
    const nyx = composeOf(renderHost(project, 'nyx').render!.compose.content).services.ollama!
    expect(hades.volumes).toContain('/mnt/models:/models:rw')
    expect(hades.environment.OLLAMA_NOPRUNE).toBe('')
    expect(nyx.volumes).toContain('/mnt/models:/models:ro')
    expect(nyx.environment.OLLAMA_NOPRUNE).toBe('1')
  })

  it('content-addresses config files, so only a changed file changes its path and its host hash', async () => {
    const base = await loadOk(MINIMAL)
    const before = renderHost(base.project, 'alpha').render!
    const key = fileKey('app/app.conf', before.files[0]!.mode, before.files[0]!.sha256)
    expect(before.files.map((f) => f.path)).toEqual([`files/${key}/app/app.conf`])
    expect(before.compose.content).toContain(`/opt/ai-platform/files/${key}/app/app.conf:/etc/app.conf:ro`)
    const gammaBefore = renderHost(base.project, 'gamma').render!.hash
    const { projectFrom, removeProject } = await import('../../helpers/project.js')
    const dir = await projectFrom(MINIMAL, { 'templates/app.conf.hbs': (t) => `${t}# changed\n` })
    const changed = await loadOk(dir)
    const after = renderHost(changed.project, 'alpha').render!
    expect(after.files[0]!.path).not.toBe(before.files[0]!.path)
    expect(after.hash).not.toBe(before.hash)
    expect(renderHost(changed.project, 'gamma').render!.hash).toBe(gammaBefore)
    await removeProject(dir)
  })

  it("carries each service's replicas on the host (after its overrides) into what the release records", async () => {
    const { projectFrom, removeProject } = await import('../../helpers/project.js')
    const dir = await projectFrom(MINIMAL, {
      'stacks/db.yaml': (t) =>
        t.replace(
          '        - tcp: { port: 5432 }',
          '        - tcp: { port: 5432 }\n      overrides:\n        - on: { hosts: [gamma] }\n          set: { deploy: { replicas: 0 } }',
        ),
      'stacks/app.yaml': (t) => t.replace('ports: ["8080:80"]', 'ports: ["8080-8082:80"]\n    deploy: { replicas: 3 }'),
    })
    const { project } = await loadOk(dir)
    const replicas = (host: string) =>
      Object.fromEntries(renderHost(project, host).render!.services.map((s) => [s.name, s.replicas]))
    expect(replicas('alpha')).toMatchObject({ app: 3, ollama: 1 })
    expect(replicas('gamma')).toMatchObject({ db: 0 })
    expect(composeOf(renderHost(project, 'gamma').render!.compose.content).services.db!.deploy).toEqual({ replicas: 0 })
    await removeProject(dir)
  })
})
