// The data templates and stack strings are filled from: derived once per project, pure.
import { publishedPorts } from '../config/compose.js'
import type { Host, Project, Service } from '../config/model.js'
// Ports in health checks, metrics and routes are the host's published ports: what other hosts connect to.
import { serviceForHost } from '../config/service-for-host.js'

export interface HostView {
  name: string
  address: string
  local: boolean
  tags: string[]
  base_dir: string
  data_dir: string
  gpu: { vendor: string; count: number; vram_gb: number | null; gfx_version: string | null } | null
  mounts: Record<string, { path: string; mode: string; export: string; nas_path: string | null }>
  models: string[]
}

export interface ServiceView {
  name: string
  hosts: string[]
  /** Address of the service's first host: handy for single-host services such as databases. */
  address: string | null
  host: string | null
  ports: number[]
}

export interface FleetContext {
  platform: {
    name: string
    domain: string | null
    base_dir: string
    compose_project: string
    lan_subnet: string | null
    image_registry: string | null
    nas: { host: string | null; exports: Record<string, string> } | null
  }
  hosts: Record<string, HostView>
  fleet: HostView[]
  services: Record<string, ServiceView>
  ollama: {
    nodes: { host: string; address: string; port: number; target: string; url: string; models: string[] }[]
    urls: string[]
  }
  litellm: {
    routes: {
      model_name: string
      model: string
      /** The Ollama node's URL, or an external provider's endpoint when the inventory sets one. */
      api_base: string | null
      /** The Ollama node serving it; null for an external provider. */
      host: string | null
      /** An external provider's key as LiteLLM reads it (os.environ/NAME), never the value. */
      api_key: string | null
      mode: string
      timeout: number | null
    }[]
    models: { name: string; mode: string; backends: number }[]
    fallbacks: { model: string; to: string[] }[]
  }
  /** on_demand: the target of an on-demand service, down while it is stopped (alerts leave it out). */
  /** bearer_file: the job's bearer token as a file in the Prometheus container (metrics.bearer_secret), or null. */
  prometheus: {
    jobs: {
      job: string
      path: string
      bearer_file: string | null
      targets: { target: string; host: string; on_demand: boolean }[]
    }[]
  }
  /** on_demand: the route of an on-demand service, answered by on_demand_page while it is stopped. */
  routes: {
    name: string
    fqdn: string
    rule: string
    url: string
    path: string
    service: string
    host: string
    on_demand: boolean
    /** An on-demand route's fallback while the service is stopped: on_demand_page (null: none, Traefik's 502). */
    page: string | null
  }[]
  /**
   * The URL of the page that answers a stopped on-demand service's route (503): the service named
   * ON_DEMAND_PAGE (stacks/edge.yaml) on its first host and published port; null when not placed.
   */
  on_demand_page: string | null
  databases: string[]
  /**
   * Alertmanager's receivers (platform.alerts.receivers). A secret is never here: `*_file` is the path
   * inside the container (SECRETS_DIR/NAME) that its entrypoint writes from its environment.
   */
  alerts: {
    receivers: {
      name: string
      send_resolved: boolean
      webhook: { url: string; bearer_file: string | null } | null
      /** url: the topic's publish URL with ntfy's templating parameters (title and message from the alerts). */
      ntfy: { url: string; token_file: string | null } | null
      email: {
        to: string
        from: string
        smarthost: string
        username: string | null
        password_file: string | null
        require_tls: boolean
      } | null
    }[]
  }
}

/** Where the reference's Alertmanager and Prometheus write each environment variable at start (stacks/monitoring.yaml). */
const SECRETS_DIR = '/run/secrets'

/**
 * ntfy's message templating (Go templates over the JSON body, `tpl=1`): a title and one line per alert
 * from Alertmanager's webhook payload (status, commonLabels, alerts[].labels and .annotations).
 */
const NTFY_TITLE = '[{{.status}}] {{.commonLabels.alertname}}'
const NTFY_MESSAGE = '{{range .alerts}}{{.labels.host}}: {{.annotations.summary}}\n{{end}}'

function alertReceivers(project: Project): FleetContext['alerts']['receivers'] {
  const file = (name: string | undefined) => (name === undefined ? null : `${SECRETS_DIR}/${name}`)
  return project.platform.alertReceivers.map((r) => ({
    name: r.name,
    send_resolved: r.sendResolved,
    webhook: r.webhook ? { url: r.webhook.url, bearer_file: file(r.webhook.bearerSecret) } : null,
    ntfy: r.ntfy
      ? {
          url:
            `${r.ntfy.url.replace(/\/+$/, '')}/${r.ntfy.topic}?tpl=1` +
            `&t=${encodeURIComponent(NTFY_TITLE)}&m=${encodeURIComponent(NTFY_MESSAGE)}`,
          token_file: file(r.ntfy.tokenSecret),
        }
      : null,
    email: r.email
      ? {
          to: r.email.to,
          from: r.email.from,
          smarthost: r.email.smarthost,
          username: r.email.username ?? null,
          password_file: file(r.email.passwordSecret),
          require_tls: r.email.requireTls,
        }
      : null,
  }))
}

export function hostView(host: Host, project: Project): HostView {
  const exports = project.platform.nas?.exports ?? {}
  const mounts: HostView['mounts'] = {}
  for (const [name, mount] of Object.entries(host.mounts)) {
    mounts[name] = { path: mount.path, mode: mount.mode, export: mount.export, nas_path: exports[mount.export] ?? null }
  }
  return {
    name: host.name,
    address: host.address,
    local: host.local,
    tags: [...host.tags],
    base_dir: host.baseDir,
    data_dir: `${host.baseDir}/data`,
    gpu: host.gpu
      ? {
          vendor: host.gpu.vendor,
          count: host.gpu.count,
          vram_gb: host.gpu.vramGb ?? null,
          gfx_version: host.gpu.gfxVersion ?? null,
        }
      : null,
    mounts,
    models: [...host.models],
  }
}

/** The edge stack's page server for stopped on-demand services' routes (stacks/edge.yaml). */
const ON_DEMAND_PAGE = 'on-demand-page'

export function fleetContext(project: Project): FleetContext {
  const hosts: Record<string, HostView> = {}
  for (const name of project.hostOrder) hosts[name] = hostView(project.hosts[name]!, project)
  const services: Record<string, ServiceView> = {}
  for (const service of Object.values(project.services)) {
    const first = service.hosts[0]
    const firstHost = first !== undefined ? project.hosts[first]! : undefined
    services[service.name] = {
      name: service.name,
      hosts: [...service.hosts],
      address: firstHost?.address ?? null,
      host: first ?? null,
      ports: firstHost
        ? publishedPorts(serviceForHost(service, firstHost, project.hosts, project.hostOrder).ports).map((p) => p.from)
        : [],
    }
  }

  const ollamaNodes: FleetContext['ollama']['nodes'] = []
  for (const service of sortedServices(project)) {
    const check = service.health.find((c) => c.ollama)
    if (!check?.ollama || service.tier === 'on-demand') continue
    for (const name of service.hosts) {
      const host = project.hosts[name]!
      const port = check.ollama.port
      ollamaNodes.push({
        host: name,
        address: host.address,
        port,
        target: `${host.address}:${port}`,
        url: `http://${host.address}:${port}`,
        models: [...host.models],
      })
    }
  }
  ollamaNodes.sort((a, b) => project.hostOrder.indexOf(a.host) - project.hostOrder.indexOf(b.host))

  const routes: FleetContext['litellm']['routes'] = []
  const modelNames = Object.keys(project.models).sort()
  for (const modelName of modelNames) {
    const model = project.models[modelName]!
    for (const node of ollamaNodes) {
      if (!node.models.includes(modelName)) continue
      routes.push({
        model_name: modelName,
        model: `ollama/${modelName}`,
        api_base: node.url,
        host: node.host,
        api_key: null,
        mode: model.mode,
        timeout: model.timeoutS ?? null,
      })
    }
    if (model.provider)
      routes.push({
        model_name: modelName,
        model: `${model.provider.name}/${model.provider.model}`,
        api_base: model.provider.apiBase ?? null,
        host: null,
        api_key: `os.environ/${model.provider.keySecret}`,
        mode: model.mode,
        timeout: model.timeoutS ?? null,
      })
  }
  const served = modelNames.filter((m) => routes.some((r) => r.model_name === m))
  const fallbacks = served
    .map((m) => ({ model: m, to: project.models[m]!.fallbacks.filter((f) => f !== m && served.includes(f)) }))
    .filter((f) => f.to.length > 0)

  const jobs = new Map<string, FleetContext['prometheus']['jobs'][number]>()
  for (const service of sortedServices(project)) {
    if (!service.metrics) continue
    const job = jobs.get(service.metrics.job) ?? {
      job: service.metrics.job,
      path: service.metrics.path,
      bearer_file: service.metrics.bearerSecret ? `${SECRETS_DIR}/${service.metrics.bearerSecret}` : null,
      targets: [],
    }
    for (const name of service.hosts) {
      const host = project.hosts[name]!
      job.targets.push({
        target: `${host.address}:${service.metrics.port}`,
        host: name,
        on_demand: service.tier === 'on-demand',
      })
    }
    jobs.set(service.metrics.job, job)
  }

  const page = services[ON_DEMAND_PAGE]
  const pageUrl = page?.address && page.ports[0] !== undefined ? `http://${page.address}:${page.ports[0]}` : null
  const proxyRoutes: FleetContext['routes'] = []
  for (const service of sortedServices(project)) {
    if (!service.route || service.hosts.length === 0) continue
    const host = project.hosts[service.hosts[0]!]!
    const fqdn = project.platform.domain ? `${service.route.name}.${project.platform.domain}` : service.route.name
    const rule =
      service.route.path === '/' ? `Host(\`${fqdn}\`)` : `Host(\`${fqdn}\`) && PathPrefix(\`${service.route.path}\`)`
    proxyRoutes.push({
      name: service.route.name,
      fqdn,
      rule,
      url: `http://${host.address}:${service.route.port}`,
      path: service.route.path,
      service: service.name,
      host: host.name,
      on_demand: service.tier === 'on-demand',
      page: service.tier === 'on-demand' ? pageUrl : null,
    })
  }
  proxyRoutes.sort((a, b) => a.name.localeCompare(b.name))

  const databases = [
    ...new Set(
      Object.values(project.services)
        .filter((s) => s.hosts.length > 0)
        .flatMap((s) => s.databases),
    ),
  ].sort()
  const nas = project.platform.nas

  return {
    platform: {
      name: project.platform.name,
      domain: project.platform.domain ?? null,
      base_dir: project.platform.baseDir,
      compose_project: project.platform.composeProject,
      lan_subnet: project.platform.lanSubnet ?? null,
      image_registry: project.platform.imageRegistry ?? null,
      nas: nas ? { host: nas.host ?? null, exports: { ...nas.exports } } : null,
    },
    hosts,
    fleet: project.hostOrder.map((n) => hosts[n]!),
    services,
    ollama: { nodes: ollamaNodes, urls: ollamaNodes.map((n) => n.url) },
    litellm: {
      routes,
      models: served.map((m) => ({
        name: m,
        mode: project.models[m]!.mode,
        backends: routes.filter((r) => r.model_name === m).length,
      })),
      fallbacks,
    },
    prometheus: { jobs: [...jobs.values()].sort((a, b) => a.job.localeCompare(b.job)) },
    routes: proxyRoutes,
    on_demand_page: pageUrl,
    databases,
    alerts: { receivers: alertReceivers(project) },
  }
}

function sortedServices(project: Project): Service[] {
  return Object.values(project.services).sort((a, b) => a.name.localeCompare(b.name))
}
