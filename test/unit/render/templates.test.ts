// Every template, rendered for the hosts that use it, checked for what the service will read.
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { renderHosts, type HostRender } from '../../../src/render/render.js'
import { TemplateEngine } from '../../../src/util/template.js'
import { loadOk } from '../../helpers/load.js'
import { MINIMAL, projectFrom, REPO, removeProject } from '../../helpers/project.js'
import { formatIssue } from '../../../src/errors.js'

async function referenceRenders(): Promise<HostRender[]> {
  // SutazAI is unplaced in the reference; place it so its Kong template renders too.
  const dir = await projectFrom(REPO, {
    'stacks/sutazai.yaml': (t) => t.replace('placement: { hosts: [] }', 'placement: { hosts: [zelus] }'),
  })
  try {
    const { project, origins } = await loadOk(dir)
    const { renders, issues } = renderHosts(project, project.hostOrder, { origins })
    expect(issues).toEqual([])
    return renders
  } finally {
    await removeProject(dir)
  }
}

function file(renders: HostRender[], host: string, suffix: string): string {
  const found = renders.find((r) => r.host === host)!.files.find((f) => f.path.endsWith(suffix))
  if (!found) throw new Error(`${host} has no ${suffix}`)
  return found.content
}

describe('templates', async () => {
  const renders = await referenceRenders()

  it('every template in templates/ is rendered for some host', async () => {
    const { project } = await loadOk()
    const rendered = new Set(renders.flatMap((r) => r.files.map((f) => f.path.replace(/^files\/[0-9a-f]{16}\//, ''))))
    const used = project.stacks.flatMap((s) => s.files.map((f) => f.path))
    expect(new Set(project.stacks.flatMap((s) => s.files.map((f) => f.template)))).toEqual(
      new Set(Object.keys(project.templates)),
    )
    for (const path of used) expect(rendered.has(path), path).toBe(true)
    // Every YAML output parses.
    for (const render of renders)
      for (const f of render.files)
        if (/\.ya?ml$/.test(f.path)) expect(() => parse(f.content), `${render.host} ${f.path}`).not.toThrow()
  })

  it('LiteLLM: small models over the three NVIDIA nodes, large models on hades, fallbacks in LiteLLM schema', () => {
    const config = parse(file(renders, 'orpheus', 'litellm/config.yaml')) as {
      model_list: {
        model_name: string
        litellm_params: { model: string; api_base: string; timeout?: number }
        model_info: { mode: string }
      }[]
      router_settings: { routing_strategy: string; fallbacks: Record<string, string[]>[] }
      general_settings: Record<string, string>
    }
    const backends = (name: string) =>
      config.model_list.filter((m) => m.model_name === name).map((m) => m.litellm_params.api_base)
    expect(backends('llama3.2')).toEqual([
      'http://orpheus.home.arpa:11434',
      'http://kratos.home.arpa:11434',
      'http://nyx.home.arpa:11434',
    ])
    expect(backends('nomic-embed-text')).toHaveLength(3)
    expect(backends('llama3.1:70b')).toEqual(['http://hades.home.arpa:11434'])
    expect(config.model_list.find((m) => m.model_name === 'llama3.1:70b')!.litellm_params).toEqual({
      model: 'ollama/llama3.1:70b',
      api_base: 'http://hades.home.arpa:11434',
      timeout: 600,
    })
    expect(config.model_list.find((m) => m.model_name === 'mxbai-embed-large')!.model_info.mode).toBe('embedding')
    expect(config.model_list).toHaveLength(6 * 2 + 4 + 5 + 1) // nyx serves no 13B model; one external
    // the external fallback: the provider's model id and its key as LiteLLM reads it, never a value
    expect(config.model_list.find((m) => m.model_name === 'claude-3-5-sonnet')!.litellm_params).toEqual({
      model: 'anthropic/claude-3-5-sonnet-20241022',
      api_key: 'os.environ/ANTHROPIC_API_KEY',
      timeout: 120,
    })
    expect(config.router_settings.routing_strategy).toBe('simple-shuffle')
    expect(config.router_settings.fallbacks).toEqual([
      { 'codellama:13b': ['deepseek-coder:33b'] },
      { 'llama3.1:70b': ['claude-3-5-sonnet'] },
      { 'llama3.2': ['llama3.1:70b'] },
      { 'llava:13b': ['llava:34b'] },
    ])
    expect(config.general_settings.master_key).toBe('os.environ/LITELLM_MASTER_KEY')
    for (const made of ['load_balancing_rules', 'health_check_settings', 'cost_tracking', 'alerting'])
      expect(config).not.toHaveProperty(made)
  })

  it('Prometheus scrapes every node exporter and every exporter, and probes every Ollama', () => {
    const config = parse(file(renders, 'moros', 'prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]
    }
    const targets = (job: string) =>
      config.scrape_configs.find((j) => j.job_name === job)!.static_configs.flatMap((s) => s.targets)
    expect(targets('node')).toEqual(
      ['erebus', 'hephaestus', 'thanatos', 'zelus', 'orpheus', 'kratos', 'nyx', 'hades', 'moros'].map(
        (h) => `${h}.home.arpa:9100`,
      ),
    )
    expect(targets('postgres')).toEqual(['erebus.home.arpa:9187'])
    expect(targets('redis')).toEqual(['erebus.home.arpa:9121'])
    expect(targets('nvidia-gpu')).toEqual(['orpheus.home.arpa:9835', 'kratos.home.arpa:9835', 'nyx.home.arpa:9835'])
    expect(targets('amd-gpu')).toEqual(['hades.home.arpa:5000'])
    expect(targets('traefik')).toEqual(['hephaestus.home.arpa:8082'])
    expect(targets('ollama')).toHaveLength(4)
    const alerts = parse(file(renders, 'moros', 'rules/alerts.yml')) as {
      groups: { rules: { alert: string; annotations: { summary: string } }[] }[]
    }
    expect(alerts.groups[0]!.rules.find((r) => r.alert === 'TargetDown')!.annotations.summary).toBe(
      '{{ $labels.job }} on {{ $labels.host }} is down',
    )
  })

  it('Traefik routes every declared route (on-demand ones too) to the host that runs it', () => {
    const routes = parse(file(renders, 'hephaestus', 'traefik/dynamic/routes.yaml')) as {
      http: {
        routers: Record<string, { rule: string }>
        services: Record<string, { loadBalancer: { servers: { url: string }[] } }>
      }
    }
    expect(routes.http.routers.chat!.rule).toBe('Host(`chat.home.arpa`)')
    expect(routes.http.services.chat!.loadBalancer.servers).toEqual([{ url: 'http://orpheus.home.arpa:3000' }])
    expect(routes.http.services.grafana!.loadBalancer.servers).toEqual([{ url: 'http://moros.home.arpa:3001' }])
    expect(Object.keys(routes.http.routers).sort()).toEqual([
      'api',
      'chat',
      'comfy',
      'grafana',
      'prometheus',
      'registry',
      'sd',
      'status',
      'textgen',
      'whisper',
    ])
    const traefik = parse(file(renders, 'hephaestus', 'traefik/traefik.yaml')) as {
      ping: { entryPoint: string }
      entryPoints: Record<string, { address: string }>
    }
    expect(traefik.ping.entryPoint).toBe('traefik')
    expect(traefik.entryPoints.metrics!.address).toBe(':8082')
  })

  it('PostgreSQL: every declared database created idempotently, the LAN allowed', () => {
    const sql = file(renders, 'erebus', 'postgres/init.sql')
    for (const db of ['litellm', 'memory', 'model_registry', 'openwebui', 'service_registry']) {
      expect(sql).toContain(
        `SELECT 'CREATE DATABASE ${db}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\\gexec`,
      )
    }
    expect(sql).toContain(":'repl_password'")
    const hba = file(renders, 'erebus', 'postgres/pg_hba.conf')
    expect(hba).toMatch(/^host\s+all\s+all\s+192\.168\.10\.0\/24\s+scram-sha-256$/m)
    expect(hba).toMatch(/^host\s+replication\s+replicator\s+192\.168\.10\.0\/24\s+scram-sha-256$/m)
    expect(file(renders, 'erebus', 'redis/redis.conf')).toContain('maxmemory 4gb')
  })

  it('Grafana, Loki, Promtail, Alertmanager, Tempo, blackbox and Kong get working configs', () => {
    const datasources = parse(file(renders, 'moros', 'datasources.yaml')) as {
      datasources: { name: string; url: string }[]
    }
    expect(datasources.datasources.map((d) => [d.name, d.url])).toEqual([
      ['Prometheus', 'http://moros.home.arpa:9090'],
      ['Loki', 'http://moros.home.arpa:3100'],
    ])
    expect(
      (parse(file(renders, 'moros', 'loki/loki.yaml')) as { server: { http_listen_port: number } }).server
        .http_listen_port,
    ).toBe(3100)
    const promtail = parse(file(renders, 'nyx', 'promtail/promtail.yaml')) as {
      clients: { url: string }[]
      scrape_configs: { relabel_configs: { replacement?: string }[] }[]
    }
    expect(promtail.clients[0]!.url).toBe('http://moros.home.arpa:3100/loki/api/v1/push')
    expect(promtail.scrape_configs[0]!.relabel_configs.at(-1)!.replacement).toBe('nyx')
    // the route's receiver is one alertmanager.yml defines (test/unit/render/alerts.test.ts: the rest)
    const alertmanager = parse(file(renders, 'moros', 'alertmanager/alertmanager.yml')) as {
      route: { receiver: string }
      receivers: { name: string }[]
    }
    expect(alertmanager.receivers.map((r) => r.name)).toContain(alertmanager.route.receiver)
    expect(parse(file(renders, 'moros', 'tempo/tempo.yaml'))).toHaveProperty('distributor.receivers.otlp')
    expect(parse(file(renders, 'hephaestus', 'blackbox/blackbox.yaml'))).toHaveProperty(
      'modules.http_2xx.prober',
      'http',
    )
    const kong = parse(file(renders, 'zelus', 'kong/kong.yml')) as {
      plugins: { name: string; config: Record<string, unknown> }[]
      services: { name: string; plugins?: { name: string; config: Record<string, unknown> }[] }[]
      upstreams: { targets: { target: string }[] }[]
    }
    expect(kong.plugins).toEqual([{ name: 'rate-limiting', config: { minute: 300, policy: 'local', limit_by: 'ip' } }])
    expect(kong.services.find((s) => s.name === 'ollama')!.plugins).toEqual([
      { name: 'rate-limiting', config: { minute: 30, policy: 'local', limit_by: 'ip' } },
    ])
    expect(kong.upstreams[0]!.targets.map((t) => t.target)).toEqual([
      'orpheus.home.arpa:11434',
      'kratos.home.arpa:11434',
      'nyx.home.arpa:11434',
      'hades.home.arpa:11434',
    ])
  })

  it('a template cannot run code: only the fixed helpers exist and prototypes are out of reach', () => {
    const constructor = new TemplateEngine().render('t', '{{constructor.constructor}}', { a: 1 })
    expect(constructor.ok).toBe(false)
    const lookup = new TemplateEngine().render('t', '{{#with this}}{{__proto__}}{{/with}}', { a: 1 })
    expect(lookup.ok ? lookup.text : '').toBe('')
    expect(new TemplateEngine().render('t', '{{log "x"}}', {}).ok).toBe(false)
  })
})

describe('what one template may cost', () => {
  it('nested loops over the fleet stop at the iteration bound with a located error (eight loops over ten hosts were 10^8 iterations: 34 s and 3 GB)', async () => {
    // three hosts here: twelve loops are 3^12 = 531441 iterations
    const nested = `${'{{#each @root.fleet}}'.repeat(12)}x${'{{/each}}'.repeat(12)}`
    const dir = await projectFrom(MINIMAL, { 'templates/app.conf.hbs': () => nested })
    const { validateProject } = await import('../../../src/validate/validate.js')
    try {
      const report = await validateProject(dir)
      expect(report.valid).toBe(false)
      expect(report.issues.map(formatIssue)).toContain(
        'templates/app.conf.hbs:1:1 {{#each}} ran more than 100000 times in one render: nested loops multiply (rendering for host alpha) (allowed at most 100000 iterations)',
      )
    } finally {
      await removeProject(dir)
    }
  })

  it('output past 4 MiB is refused', () => {
    const result = new TemplateEngine().render('templates/big.hbs', `${'{{#each list}}{{@root.big}}{{/each}}'}`, {
      list: Array.from({ length: 5 }, () => ({})),
      big: 'x'.repeat(1024 * 1024),
    })
    expect(result).toEqual({
      ok: false,
      issue: {
        file: 'templates/big.hbs',
        line: 1,
        col: 1,
        path: '',
        message: 'renders to 5.0 MiB, more than a config file may be',
        allowed: 'at most 4 MiB',
        severity: 'error',
      },
    })
  })
})
