// The scale platform: a light but realistic stack on N scale hosts (test/fleet/scale/up.sh), in the
// reference platform's formats, for measuring what orchestration costs at 100 hosts.
//   npx tsx test/fleet/scale/platform.ts DIR [N]     (N defaults to every host that is up)
// Every host: node-exporter (published port, HTTP check on /metrics, Prometheus job) and a log
// shipper (container health only, a config file naming Loki's host). s002-s004 (tag db): postgres
// (TCP check) and a one-shot db-init. The other hosts but s001 (tag app): api (HTTP check, metrics,
// requires postgres on the db hosts) and worker (after api on the same host). s001 (tag monitoring):
// Prometheus with a scrape target per host and service, Grafana, Alertmanager, Loki; Prometheus
// requires every exporter and api. So the plan has three waves: db hosts, app hosts, s001.
// Each host's base_dir is its own directory (all hosts share the machine's filesystem).
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { stringify } from 'yaml'

export const SCALE_DIR = dirname(fileURLToPath(import.meta.url))
export const SCALE_JSON = join(SCALE_DIR, '.state', 'scale.json')

export interface ScaleHost {
  name: string
  address: string
  netns: string
  /** The host's state directory on the machine. */
  dir: string
  /** Its base_dir: the same path over SSH and on the machine (no private mounts here). */
  baseDir: string
  dockerSocket: string
  sshdPid: number
}

export interface Scale {
  version: number
  stateDir: string
  bridge: string
  bridgeAddress: string
  subnet: string
  user: string
  identityFile: string
  knownHostsFile: string
  runtimePid: number
  hosts: ScaleHost[]
}

/** What up.sh wrote; throws when the scale fleet is not up. */
export function loadScale(file = SCALE_JSON): Scale {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new Error(`no scale fleet (${file} missing): run \`sudo bash test/fleet/scale/up.sh 100\` first`)
  }
  return JSON.parse(text) as Scale
}

export const DB_HOSTS = ['s002', 's003', 's004']
export const MONITORING_HOST = 's001'
const SECRETS = ['DB_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']

const wget = (port: number, path: string) => ({
  test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}${path}`],
  interval: '30s',
  timeout: '5s',
  retries: 3,
})
const limits = (cpus: string, memory: string) => ({ resources: { limits: { cpus, memory } } })

const STACKS: Record<string, unknown> = {
  'node-exporter': {
    'x-ai-platform': { description: 'Host metrics on every host', placement: { all: true }, phase: 'monitor' },
    services: {
      'node-exporter': {
        image: 'prom/node-exporter:v1.8.2',
        command: ['--path.rootfs=/rootfs'],
        ports: ['9100:9100'],
        healthcheck: wget(9100, '/metrics'),
        deploy: limits('0.25', '128M'),
        'x-ai-platform': { metrics: { port: 9100, job: 'node' }, health: [{ http: { port: 9100, path: '/metrics' } }] },
      },
    },
  },
  'log-shipper': {
    'x-ai-platform': {
      description: 'Ships container logs to Loki on s001 (no requires: that would be a cycle with Prometheus)',
      placement: { all: true },
      phase: 'monitor',
      files: [{ template: 'promtail/promtail.yaml.hbs', path: 'promtail/promtail.yaml' }],
    },
    services: {
      'log-shipper': {
        image: 'grafana/promtail:3.2.0',
        command: ['-config.file=/etc/promtail/promtail.yaml'],
        volumes: [
          "{{file 'promtail/promtail.yaml'}}:/etc/promtail/promtail.yaml:ro",
          '{{host.data_dir}}/promtail:/var/lib/promtail',
        ],
        healthcheck: {
          test: ['CMD-SHELL', 'test -s /var/lib/promtail/positions.yaml || true'],
          interval: '30s',
          timeout: '5s',
          retries: 3,
        },
        deploy: limits('0.25', '128M'),
      },
    },
  },
  databases: {
    'x-ai-platform': { description: 'PostgreSQL on the db hosts', placement: { tags: ['db'] }, phase: 'infra' },
    services: {
      postgres: {
        image: 'postgres:16.4',
        environment: { POSTGRES_PASSWORD: '${DB_PASSWORD}' },
        ports: ['5432:5432'],
        volumes: ['{{host.data_dir}}/postgres:/var/lib/postgresql/data'],
        healthcheck: { test: ['CMD-SHELL', 'pg_isready -U postgres'], interval: '10s', timeout: '5s', retries: 5 },
        deploy: limits('1', '1G'),
        'x-ai-platform': { health: [{ tcp: { port: 5432 } }] },
      },
      'db-init': {
        image: 'postgres:16.4',
        command: ['sh', '-c', 'psql -h postgres -U postgres -c "select 1"'],
        environment: { PGPASSWORD: '${DB_PASSWORD}' },
        // depends_on, not requires: requires names every host running postgres (a cycle among the db hosts)
        depends_on: { postgres: { condition: 'service_healthy' } },
        'x-ai-platform': { oneshot: true },
      },
    },
  },
  app: {
    'x-ai-platform': { description: 'The application tier', placement: { tags: ['app'] }, phase: 'ai' },
    services: {
      api: {
        image: 'ghcr.io/example/api:1.4.2',
        environment: {
          DATABASE_URL: 'postgresql://postgres:${DB_PASSWORD}@{{services.postgres.address}}:5432/app',
          NODE_NAME: '{{host.name}}',
        },
        ports: ['8080:8080'],
        healthcheck: wget(8080, '/health'),
        deploy: limits('1', '512M'),
        'x-ai-platform': {
          requires: ['postgres'],
          metrics: { port: 8080, job: 'api' },
          health: [{ http: { port: 8080, path: '/health' } }],
        },
      },
      worker: {
        image: 'ghcr.io/example/worker:1.4.2',
        environment: { API_URL: 'http://api:8080' },
        healthcheck: { test: ['CMD', 'worker', 'ping'], interval: '30s', timeout: '5s', retries: 3 },
        deploy: limits('0.5', '256M'),
        depends_on: { api: { condition: 'service_healthy' } }, // this host's api only (see db-init)
      },
    },
  },
  monitoring: {
    'x-ai-platform': {
      description: 'Prometheus (a target per host and service), Grafana, Alertmanager, Loki',
      placement: { hosts: [MONITORING_HOST] },
      phase: 'monitor',
      files: [
        { template: 'prometheus/prometheus.yml.hbs', path: 'prometheus/prometheus.yml' },
        { template: 'grafana/datasources.yaml.hbs', path: 'grafana/datasources.yaml' },
      ],
    },
    services: {
      prometheus: {
        image: 'prom/prometheus:v2.54.1',
        command: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
        ports: ['9090:9090'],
        volumes: [
          "{{file 'prometheus/prometheus.yml'}}:/etc/prometheus/prometheus.yml:ro",
          '{{host.data_dir}}/prometheus:/prometheus',
        ],
        healthcheck: wget(9090, '/-/healthy'),
        deploy: limits('2', '3G'),
        'x-ai-platform': {
          requires: ['node-exporter', 'api', 'alertmanager'],
          metrics: { port: 9090, job: 'prometheus' },
          health: [{ http: { port: 9090, path: '/-/healthy' } }],
        },
      },
      grafana: {
        image: 'grafana/grafana:11.2.0',
        environment: { GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_ADMIN_PASSWORD}' },
        ports: ['3000:3000'],
        volumes: [
          "{{file 'grafana/datasources.yaml'}}:/etc/grafana/provisioning/datasources/datasources.yaml:ro",
          '{{host.data_dir}}/grafana:/var/lib/grafana',
        ],
        healthcheck: wget(3000, '/api/health'),
        'x-ai-platform': { requires: ['prometheus', 'loki'], health: [{ http: { port: 3000, path: '/api/health' } }] },
      },
      alertmanager: {
        image: 'prom/alertmanager:v0.27.0',
        ports: ['9093:9093'],
        healthcheck: wget(9093, '/-/healthy'),
        'x-ai-platform': { health: [{ http: { port: 9093, path: '/-/healthy' } }] },
      },
      loki: {
        image: 'grafana/loki:3.2.0',
        ports: ['3100:3100'],
        volumes: ['{{host.data_dir}}/loki:/loki'],
        'x-ai-platform': { health: [{ http: { port: 3100, path: '/ready' } }] },
      },
    },
  },
}

const TEMPLATES: Record<string, string> = {
  'prometheus/prometheus.yml.hbs': `# Rendered by ai-platform: every service with x-ai-platform.metrics, on every host it runs on.
global:
  scrape_interval: 15s
  external_labels:
    platform: {{json platform.name}}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{{services.alertmanager.address}}:9093"]
scrape_configs:
{{#each prometheus.jobs}}
  - job_name: {{json job}}
    metrics_path: {{json path}}
    static_configs:
{{#each targets}}
      - targets: [{{json target}}]
        labels:
          host: {{json host}}
{{/each}}
{{/each}}
`,
  'promtail/promtail.yaml.hbs': `# Rendered by ai-platform: ship {{host.name}}'s container logs to Loki.
server:
  http_listen_port: 9080
positions:
  filename: /var/lib/promtail/positions.yaml
clients:
  - url: "http://{{services.loki.address}}:3100/loki/api/v1/push"
scrape_configs:
  - job_name: docker
    static_configs:
      - labels:
          host: {{json host.name}}
`,
  'grafana/datasources.yaml.hbs': `# Rendered by ai-platform.
apiVersion: 1
datasources:
  - { name: Prometheus, type: prometheus, url: "http://{{services.prometheus.address}}:9090", isDefault: true }
  - { name: Loki, type: loki, url: "http://{{services.loki.address}}:3100" }
`,
}

function tagsOf(name: string): string[] {
  if (name === MONITORING_HOST) return ['monitoring']
  if (DB_HOSTS.includes(name)) return ['db']
  return ['app']
}

export interface ScalePlatformOptions {
  /** The first N hosts of the fleet (default: all that are up). */
  hosts?: number
  /** Platform name (labels and the Compose project stay `ai-platform`). */
  name?: string
}

/** Writes inventory/, stacks/, templates/ and secrets.env (fixed values) into dir, replacing it. */
export async function generateScalePlatform(
  scale: Scale,
  dir: string,
  options: ScalePlatformOptions = {},
): Promise<string[]> {
  const count = options.hosts ?? scale.hosts.length
  const hosts = [...scale.hosts].sort((a, b) => a.name.localeCompare(b.name)).slice(0, count)
  if (hosts.length < count)
    throw new Error(`asked for ${count} hosts, but only ${hosts.length} are up (test/fleet/scale/up.sh ${count})`)
  if (hosts[0]?.name !== MONITORING_HOST) throw new Error(`the scale platform needs ${MONITORING_HOST}`)
  await rm(dir, { recursive: true, force: true })
  await mkdir(join(dir, 'inventory'), { recursive: true })
  await mkdir(join(dir, 'stacks'), { recursive: true })

  const platform = {
    name: options.name ?? 'scale',
    base_dir: '/opt/ai-platform',
    compose_project: 'ai-platform',
    releases_keep: 3,
    lan_subnet: scale.subnet,
    ssh: { user: scale.user, identity_file: scale.identityFile, known_hosts: scale.knownHostsFile },
    secrets: Object.fromEntries(SECRETS.map((s) => [s, {}])),
  }
  await writeFile(
    join(dir, 'inventory/platform.yaml'),
    `# Generated by test/fleet/scale/platform.ts for ${hosts.length} scale hosts.\n${stringify({ platform })}`,
  )
  const inventory = Object.fromEntries(
    hosts.map((h) => [
      h.name,
      { address: h.address, base_dir: h.baseDir, tags: tagsOf(h.name), hardware: { cpus: 2, memory_gb: 4 } },
    ]),
  )
  await writeFile(join(dir, 'inventory/hosts.yaml'), stringify({ hosts: inventory }))

  const present = new Set(hosts.flatMap((h) => tagsOf(h.name)))
  for (const [name, stack] of Object.entries(STACKS)) {
    const placement = (stack as { 'x-ai-platform': { placement: { tags?: string[] } } })['x-ai-platform'].placement
    if (placement.tags && !placement.tags.some((t) => present.has(t))) continue // e.g. no app host at N <= 4
    await writeFile(join(dir, 'stacks', `${name}.yaml`), stringify(pruned(stack, present), { lineWidth: 0 }))
  }
  for (const [path, text] of Object.entries(TEMPLATES)) {
    await mkdir(dirname(join(dir, 'templates', path)), { recursive: true })
    await writeFile(join(dir, 'templates', path), text)
  }
  // Fixed secrets: the same platform renders the same releases, so a second deploy is a no-op.
  const secrets = SECRETS.map(
    (s) => `${s}=${createHash('sha256').update(`aip-scale-secret-${s}`).digest('hex').slice(0, 32)}\n`,
  ).join('')
  await writeFile(join(dir, 'secrets.env'), secrets, { mode: 0o600 })
  return hosts.map((h) => h.name)
}

/** Requirements on services that are not placed anywhere at this size are dropped. */
function pruned(stack: unknown, present: Set<string>): unknown {
  const copy = structuredClone(stack) as { services: Record<string, { 'x-ai-platform'?: { requires?: string[] } }> }
  const placed = (service: string) =>
    !((service === 'api' || service === 'worker') && !present.has('app')) &&
    !((service === 'postgres' || service === 'db-init') && !present.has('db'))
  for (const service of Object.values(copy.services)) {
    const meta = service['x-ai-platform']
    if (meta?.requires) meta.requires = meta.requires.filter(placed)
  }
  return copy
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [dir, n] = process.argv.slice(2)
  if (!dir) {
    console.error('usage: tsx test/fleet/scale/platform.ts DIR [N]')
    process.exit(2)
  }
  const names = await generateScalePlatform(loadScale(), resolve(dir), n ? { hosts: Number(n) } : {})
  console.error(`scale platform for ${names.length} hosts (${names[0]}..${names.at(-1)}) in ${resolve(dir)}`)
}
