// What the reference platform observes: every service with metrics scraped at its host's published
// port, and Grafana's provisioned dashboards querying only metrics that a scraped job produces.
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { renderHosts, type HostRender } from '../../../src/render/render.js'
import { loadOk } from '../../helpers/load.js'

/**
 * Metric names per Prometheus job, as the exporter each job scrapes names them (the image tags are
 * the ones the stacks pin). Only what the dashboards use needs to be here; a histogram is listed by
 * its family name and stands for its _bucket, _sum and _count series.
 */
const METRICS_BY_JOB: Record<string, readonly string[]> = {
  // prom/node-exporter:v1.8.2 (stacks/node-exporter.yaml): the cpu, meminfo, loadavg, filesystem,
  // netdev, diskstats, stat and uname collectors, all on by default.
  node: [
    'node_cpu_seconds_total',
    'node_memory_MemAvailable_bytes',
    'node_memory_MemTotal_bytes',
    'node_load1',
    'node_filesystem_avail_bytes',
    'node_filesystem_size_bytes',
    'node_network_receive_bytes_total',
    'node_network_transmit_bytes_total',
    'node_disk_read_bytes_total',
    'node_disk_written_bytes_total',
    'node_boot_time_seconds',
    'node_uname_info',
  ],
  // utkuozdemir/nvidia_gpu_exporter:1.2.1 (stacks/gpu-exporters.yaml): nvidia-smi's query fields,
  // as its METRICS.md lists them (labelled by uuid; nvidia_smi_gpu_info adds index and name).
  'nvidia-gpu': [
    'nvidia_smi_utilization_gpu_ratio',
    'nvidia_smi_memory_used_bytes',
    'nvidia_smi_memory_total_bytes',
    'nvidia_smi_temperature_gpu',
    'nvidia_smi_power_draw_watts',
    'nvidia_smi_enforced_power_limit_watts',
    'nvidia_smi_gpu_info',
  ],
  // rocm/device-metrics-exporter:v1.2.0 (stacks/gpu-exporters-amd.yaml): its metrics list
  // (docs/configuration/metricslist.md upstream), exported in lower case, labelled by gpu_id.
  'amd-gpu': [
    'gpu_gfx_activity',
    'gpu_used_vram',
    'gpu_total_vram',
    'gpu_edge_temperature',
    'gpu_junction_temperature',
    'gpu_power_usage',
  ],
  // ghcr.io/berriai/litellm:main-stable (stacks/frontend.yaml) with callbacks: ["prometheus"]: the
  // names of LiteLLM's "Prometheus metrics" page; prometheus_client adds _total to every counter.
  litellm: [
    'litellm_proxy_total_requests_metric_total',
    'litellm_proxy_failed_requests_metric_total',
    'litellm_request_total_latency_metric',
    'litellm_llm_api_latency_metric',
    'litellm_llm_api_time_to_first_token_metric',
    'litellm_input_tokens_metric_total',
    'litellm_output_tokens_metric_total',
    'litellm_deployment_total_requests_total',
    'litellm_deployment_failure_responses_total',
    'litellm_deployment_state',
    'litellm_deployment_successful_fallbacks_total',
    'litellm_deployment_failed_fallbacks_total',
    'litellm_deployment_cooled_down_total',
  ],
  // The blackbox exporter's probe of Ollama's /api/version (prom/blackbox-exporter:v0.25.0, http prober).
  ollama: ['probe_success', 'probe_duration_seconds', 'probe_http_status_code'],
}

/** Series Prometheus itself records for every target of every job. */
const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped']

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count']

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'])

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers, ranges,
 * grouping clauses, Grafana variables and numbers are taken out, less functions and keywords.
 * Grafana's label_values(selector, label) is a variable query: only its selector is PromQL.
 */
function metricNames(expression: string): string[] {
  const labelValues = /^\s*label_values\((.*),\s*[a-zA-Z_]\w*\s*\)\s*$/s.exec(expression)
  const promql = (labelValues ? labelValues[1]! : expression)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b(?:group_left|group_right)\b/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, ' ')
  const names: string[] = []
  for (const match of promql.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = promql.slice(match.index + match[0].length)
    if (/^\s*\(/.test(after) || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue
    names.push(match[0])
  }
  return names
}

function producedBy(jobs: readonly string[]): Set<string> {
  const names = new Set(SCRAPE_SERIES)
  for (const job of jobs)
    for (const name of METRICS_BY_JOB[job] ?? []) {
      names.add(name)
      for (const suffix of HISTOGRAM_SUFFIXES) names.add(name + suffix)
    }
  return names
}

interface Target {
  refId: string
  expr: string
  legendFormat?: string
  datasource: { type: string; uid: string }
}
interface Panel {
  id: number
  type: string
  title: string
  datasource?: { type: string; uid: string }
  targets?: Target[]
  panels?: Panel[]
}
interface Dashboard {
  uid: string
  title: string
  panels: Panel[]
  templating: { list: { name: string; datasource: { uid: string }; query: { query: string } }[] }
}
interface ScrapeConfig {
  job_name: string
  metrics_path: string
  static_configs: { targets: string[]; labels: { host: string } }[]
}

async function referenceRenders(): Promise<HostRender[]> {
  const { project, origins } = await loadOk()
  const { renders, issues } = renderHosts(project, project.hostOrder, { origins })
  expect(issues).toEqual([])
  return renders
}

/** A rendered file by its path under files/<key>/, or undefined. */
function fileAt(render: HostRender | undefined, path: string): string | undefined {
  return render?.files.find((f) => f.path.replace(/^files\/[0-9a-f]{16}\//, '') === path)?.content
}

const DASHBOARDS = ['gpus', 'litellm', 'nodes', 'ollama']

describe('observability of the reference platform', async () => {
  const renders = await referenceRenders()
  const moros = renders.find((r) => r.host === 'moros')
  const read = (path: string): string => {
    const text = fileAt(moros, path)
    if (text === undefined) throw new Error(`moros has no ${path}`)
    return text
  }
  const prometheus = parse(read('prometheus/prometheus.yml')) as { scrape_configs: ScrapeConfig[] }
  const jobs = prometheus.scrape_configs.map((j) => j.job_name)
  const dashboards = Object.fromEntries(
    DASHBOARDS.map((name) => [name, JSON.parse(read(`grafana/dashboards/${name}.json`)) as Dashboard]),
  )
  const datasources = (
    parse(read('grafana/provisioning/datasources/datasources.yaml')) as {
      datasources: { uid: string; type: string }[]
    }
  ).datasources

  it('the metric-name reader takes out functions, labels, ranges, groupings and variables', () => {
    expect(
      metricNames('1 - avg by (host) (rate(node_cpu_seconds_total{mode="idle", host=~"$host"}[$__rate_interval]))'),
    ).toEqual(['node_cpu_seconds_total'])
    expect(
      metricNames(
        'nvidia_smi_memory_used_bytes / nvidia_smi_memory_total_bytes * on (uuid) group_left (index, name) nvidia_smi_gpu_info',
      ),
    ).toEqual(['nvidia_smi_memory_used_bytes', 'nvidia_smi_memory_total_bytes', 'nvidia_smi_gpu_info'])
    expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) * 1e3 > bool 2')).toEqual([
      'x_bucket',
    ])
    expect(metricNames('label_values(node_uname_info, host)')).toEqual(['node_uname_info'])
    // and a name no exporter produces is not let through
    expect(producedBy(['node']).has('node_cpu_utilisation')).toBe(false)
    expect(producedBy(['litellm']).has('litellm_request_total_latency_metric_bucket')).toBe(true)
  })

  it('Grafana gets a dashboard provider and the four dashboards, mounted where the provider reads', () => {
    const provider = parse(read('grafana/provisioning/dashboards/dashboards.yaml')) as {
      apiVersion: number
      providers: { type: string; options: { path: string } }[]
    }
    expect(provider.apiVersion).toBe(1)
    expect(provider.providers).toHaveLength(1)
    expect(provider.providers[0]!.type).toBe('file')
    const folder = provider.providers[0]!.options.path
    const compose = parse(moros!.compose.content) as { services: Record<string, { volumes: string[] }> }
    const volumes = compose.services.grafana!.volumes
    for (const name of DASHBOARDS) {
      const source = moros!.files.find((f) => f.path.endsWith(`/grafana/dashboards/${name}.json`))!
      expect(volumes).toContain(`/opt/ai-platform/${source.path}:${folder}/${name}.json:ro`)
    }
    expect(volumes.some((v) => v.endsWith(':/etc/grafana/provisioning/dashboards/dashboards.yaml:ro'))).toBe(true)
    // only moros runs Grafana
    for (const render of renders.filter((r) => r.host !== 'moros'))
      expect(render.files.some((f) => f.path.includes('grafana/'))).toBe(false)
  })

  it('every dashboard parses, has a unique uid and panels, and keeps Grafana legends literal', () => {
    const uids = Object.values(dashboards).map((d) => d.uid)
    expect(new Set(uids).size).toBe(DASHBOARDS.length)
    for (const [name, dashboard] of Object.entries(dashboards)) {
      expect(dashboard.panels.length, name).toBeGreaterThan(3)
      const text = read(`grafana/dashboards/${name}.json`)
      // Handlebars printed the escaped {{host}} as it is, and left no escape behind
      expect(text, name).toContain('"legendFormat": "{{')
      expect(text, name).not.toContain('\\{{')
    }
    expect(read('grafana/dashboards/nodes.json')).toContain('"legendFormat": "{{host}}"')
  })

  it('every panel and variable uses a provisioned data source by its uid', () => {
    const uids = new Map(datasources.map((d) => [d.uid, d.type]))
    expect([...uids.keys()].sort()).toEqual(['loki', 'prometheus'])
    for (const dashboard of Object.values(dashboards)) {
      for (const panel of panelsOf(dashboard)) {
        expect(uids.get(panel.datasource!.uid), `${dashboard.uid} ${panel.title}`).toBe(panel.datasource!.type)
        for (const target of panel.targets!)
          expect(uids.get(target.datasource.uid), `${dashboard.uid} ${panel.title}`).toBe(target.datasource.type)
      }
      for (const variable of dashboard.templating.list) expect(uids.has(variable.datasource.uid)).toBe(true)
    }
  })

  it('every query names only metrics that a job in the rendered prometheus.yml produces', () => {
    const produced = producedBy(jobs)
    const used = new Set<string>()
    for (const dashboard of Object.values(dashboards)) {
      const queries = [
        ...panelsOf(dashboard).flatMap((p) =>
          p.targets!.filter((t) => t.datasource.type === 'prometheus').map((t) => [p.title, t.expr] as const),
        ),
        ...dashboard.templating.list.map((v) => [`variable ${v.name}`, v.query.query] as const),
      ]
      for (const [where, expression] of queries) {
        const names = metricNames(expression)
        expect(names.length, `${dashboard.uid} ${where}: ${expression}`).toBeGreaterThan(0)
        for (const name of names) {
          expect(produced.has(name), `${dashboard.uid} ${where}: ${name} (in ${expression})`).toBe(true)
          used.add(name)
        }
      }
    }
    // every exporter the dashboards are about is drawn from
    for (const job of ['node', 'nvidia-gpu', 'amd-gpu', 'litellm', 'ollama'])
      expect(
        METRICS_BY_JOB[job]!.some((name) => used.has(name) || HISTOGRAM_SUFFIXES.some((s) => used.has(name + s))),
        job,
      ).toBe(true)
  })

  it('Prometheus scrapes LiteLLM, Loki, Grafana, Alertmanager and every promtail at their published ports', () => {
    const targets = (job: string) => {
      const config = prometheus.scrape_configs.find((j) => j.job_name === job)
      expect(config, job).toBeDefined()
      return { path: config!.metrics_path, targets: config!.static_configs.flatMap((s) => s.targets) }
    }
    expect(targets('litellm')).toEqual({ path: '/metrics/', targets: ['orpheus.home.arpa:4000'] })
    expect(targets('loki')).toEqual({ path: '/metrics', targets: ['moros.home.arpa:3100'] })
    // Grafana listens on 3000 in its container; the host publishes it on 3001
    expect(targets('grafana')).toEqual({ path: '/metrics', targets: ['moros.home.arpa:3001'] })
    expect(targets('alertmanager')).toEqual({ path: '/metrics', targets: ['moros.home.arpa:9093'] })
    expect(targets('promtail')).toEqual({
      path: '/metrics',
      targets: ['erebus', 'hephaestus', 'thanatos', 'zelus', 'orpheus', 'kratos', 'nyx', 'hades', 'moros'].map(
        (h) => `${h}.home.arpa:9080`,
      ),
    })
    // the port each target names is one its host publishes, for the service the job scrapes
    for (const [job, service] of [
      ['litellm', 'litellm'],
      ['loki', 'loki'],
      ['grafana', 'grafana'],
      ['alertmanager', 'alertmanager'],
      ['promtail', 'promtail'],
    ] as const) {
      for (const target of targets(job).targets) {
        const [address, port] = target.split(':')
        const render = renders.find((r) => `${r.host}.home.arpa` === address)!
        const compose = parse(render.compose.content) as { services: Record<string, { ports?: string[] }> }
        expect(
          compose.services[service]!.ports!.some((p) => p.split(':')[0] === port),
          target,
        ).toBe(true)
      }
    }
    // LiteLLM serves /metrics only with its prometheus callback on
    const litellm = parse(
      fileAt(
        renders.find((r) => r.host === 'orpheus'),
        'litellm/config.yaml',
      )!,
    ) as {
      litellm_settings: { callbacks?: string[] }
    }
    expect(litellm.litellm_settings.callbacks).toContain('prometheus')
  })

  it('Traefik routes registry.<domain> to the service registry on hephaestus', () => {
    const routes = parse(
      fileAt(
        renders.find((r) => r.host === 'hephaestus'),
        'traefik/dynamic/routes.yaml',
      )!,
    ) as {
      http: {
        routers: Record<string, { rule: string; service: string }>
        services: Record<string, { loadBalancer: { servers: { url: string }[] } }>
      }
    }
    expect(routes.http.routers.registry).toEqual({
      rule: 'Host(`registry.home.arpa`)',
      service: 'registry',
      entryPoints: ['web'],
    })
    expect(routes.http.services.registry!.loadBalancer.servers).toEqual([{ url: 'http://hephaestus.home.arpa:8090' }])
  })
})

/** Panels, with those inside collapsed rows, that query something. */
function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels
    .flatMap((p) => [p, ...(p.panels ?? [])])
    .filter((p) => p.type !== 'row')
    .map((p) => {
      expect(p.targets?.length, `${dashboard.uid} ${p.title}`).toBeGreaterThan(0)
      return p
    })
}
