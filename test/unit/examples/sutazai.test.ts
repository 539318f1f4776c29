// The SutazAI example platform (examples/sutazai/) loaded and rendered as a user's would be: the
// real loader, the real renderer, and the properties the example exists to show read back from
// what the hosts would get.
import { existsSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadProject } from '../../../src/config/load.js'
import { PHASES, type Project } from '../../../src/config/model.js'
import { formatIssue } from '../../../src/errors.js'
import { imageBuilds } from '../../../src/render/image-build.js'
import { renderHosts, type HostRender } from '../../../src/render/render.js'
import { projectFrom, REPO, removeProject } from '../../helpers/project.js'

const EXAMPLE = join(REPO, 'examples/sutazai')

type ComposeService = Record<string, unknown> & { image?: string; ports?: unknown[]; profiles?: string[] }
type Compose = { services: Record<string, ComposeService> }

/** SutazAI's own services: no public image, built from docker/<name>/. */
const BUILT = ['backend', 'documind', 'faiss', 'finrobot', 'frontend', 'gpt-engineer', 'langchain']
/** Started and stopped with `ai-platform up/down HOST SERVICE`, per host. */
const ON_DEMAND = {
  cortex: ['tabby'],
  workbench: ['aider', 'autogpt', 'documind', 'finrobot', 'gpt-engineer', 'langchain', 'letta'],
}
/** A terminal agent with no port: only its container state can be checked. */
const WITHOUT_CHECKS = ['autogpt']

async function loadAndRender(dir: string): Promise<{ project: Project; renders: HostRender[] }> {
  const { project, issues, origins } = await loadProject({ dir, bundled: false })
  const errors = issues.filter((i) => i.severity === 'error')
  if (!project || errors.length > 0) throw new Error(`does not load:\n${issues.map(formatIssue).join('\n')}`)
  const rendered = renderHosts(project, project.hostOrder, { origins })
  if (rendered.issues.length > 0) throw new Error(`does not render:\n${rendered.issues.map(formatIssue).join('\n')}`)
  return { project, renders: rendered.renders }
}

const composeOf = (render: HostRender): Compose => parse(render.compose.content) as Compose

/**
 * The host ports a rendered service publishes, as `port/protocol`, read from Compose's short
 * (`[ip:]host:container[/proto]`) and long (`{published, protocol}`) forms; ranges expanded.
 */
function hostPorts(service: ComposeService): string[] {
  const out: string[] = []
  for (const entry of service.ports ?? []) {
    let published: string | undefined
    let protocol = 'tcp'
    if (typeof entry === 'object' && entry !== null) {
      const long = entry as { published?: string | number; protocol?: string }
      if (long.published !== undefined) published = String(long.published)
      protocol = long.protocol ?? 'tcp'
    } else {
      const [spec, proto] = String(entry).split('/')
      protocol = proto ?? 'tcp'
      const parts = spec!.split(':')
      if (parts.length >= 2) published = parts[parts.length - 2]
    }
    if (published === undefined || published === '') continue
    const [from, to = from] = published.split('-').map(Number)
    for (let port = from!; port <= to!; port++) out.push(`${port}/${protocol}`)
  }
  return out
}

/** Each host port published by more than one service of a host, with the services. */
function portClashes(compose: Compose): string[] {
  const owners = new Map<string, string[]>()
  for (const [name, service] of Object.entries(compose.services))
    for (const port of hostPorts(service)) owners.set(port, [...(owners.get(port) ?? []), name])
  return [...owners].filter(([, names]) => names.length > 1).map(([port, names]) => `${port}: ${names.join(', ')}`)
}

describe('the SutazAI example platform (examples/sutazai)', () => {
  let project: Project
  let renders: HostRender[]
  const composes = new Map<string, Compose>()

  beforeAll(async () => {
    ;({ project, renders } = await loadAndRender(EXAMPLE))
    for (const render of renders) composes.set(render.host, composeOf(render))
  })

  it('loads without an error and renders every host, at most four, one of them with an NVIDIA GPU', async () => {
    const { issues } = await loadProject({ dir: EXAMPLE, bundled: false })
    expect(issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([])
    expect(renders.map((r) => r.host)).toEqual(project.hostOrder)
    expect(project.hostOrder.length).toBeLessThanOrEqual(4)
    const gpuHosts = project.hostOrder.filter((h) => project.hosts[h]!.gpu?.vendor === 'nvidia')
    expect(gpuHosts).toEqual(['cortex'])
    const ollama = composes.get('cortex')!.services.ollama!
    expect(ollama.deploy).toMatchObject({
      resources: { reservations: { devices: [{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }] } },
    })
    expect(Object.keys(project.services).length).toBeGreaterThanOrEqual(25)
  })

  it('gives every service a phase of infra, ai or monitor, in the model and on its containers', () => {
    for (const service of Object.values(project.services)) expect(PHASES, service.name).toContain(service.phase)
    for (const [host, compose] of composes)
      for (const [name, service] of Object.entries(compose.services))
        expect((service.labels as Record<string, string>)['ai-platform.phase'], `${host}/${name}`).toBe(
          project.services[name]!.phase,
        )
    expect(new Set(Object.values(project.services).map((s) => s.phase))).toEqual(new Set(PHASES))
  })

  it('renders the on-demand services, and only those, under the on-demand profile', () => {
    const found: Record<string, string[]> = {}
    for (const [host, compose] of composes)
      for (const [name, service] of Object.entries(compose.services)) {
        const onDemand = project.services[name]!.tier === 'on-demand'
        expect(service.profiles, `${host}/${name}`).toEqual(onDemand ? ['on-demand'] : undefined)
        if (onDemand) (found[host] ??= []).push(name)
      }
    expect(found).toEqual(ON_DEMAND)
  })

  it('builds every service without a public image from its context, pinned to <registry>/<name>:src-<digest>', () => {
    const registry = project.platform.imageRegistry!
    const refs = new Map(imageBuilds(project).flatMap((b) => b.services.map((s) => [s, b.ref] as const)))
    const built: string[] = []
    for (const service of Object.values(project.services)) {
      const host = service.hosts[0]!
      const image = composes.get(host)!.services[service.name]!.image!
      if (service.build) {
        built.push(service.name)
        expect(service.compose.image, service.name).toBeUndefined()
        expect(existsSync(join(EXAMPLE, service.build.context, service.build.dockerfile)), service.name).toBe(true)
        expect(image).toMatch(new RegExp(`^${registry.replace(/[.]/g, '\\.')}/${service.name}:src-[0-9a-f]{16}$`))
        expect(image).toBe(refs.get(service.name))
      } else {
        // A public image, pinned: an explicit tag that is not `latest`, not from the platform's registry.
        expect(image, service.name).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/)
        expect(image, service.name).not.toMatch(/:latest$/)
        expect(image.startsWith(`${registry}/`), service.name).toBe(false)
      }
    }
    expect(built.sort()).toEqual(BUILT)
    // Each context its own image: no two services share a tag by accident.
    expect(new Set(BUILT.map((s) => refs.get(s))).size).toBe(BUILT.length)
  })

  describe('an edited source file', () => {
    let dir: string
    afterAll(async () => {
      if (dir) await removeProject(dir)
    })

    it('changes the pinned image of the service built from it, and of no other', async () => {
      dir = await projectFrom(EXAMPLE)
      await appendFile(join(dir, 'docker/faiss/main.py'), '\n# edited\n')
      const edited = await loadAndRender(dir)
      const imageOf = (renders: HostRender[], service: string) => {
        const host = project.services[service]!.hosts[0]!
        return composeOf(renders.find((r) => r.host === host)!).services[service]!.image
      }
      expect(imageOf(edited.renders, 'faiss')).not.toBe(imageOf(renders, 'faiss'))
      for (const service of BUILT.filter((s) => s !== 'faiss'))
        expect(imageOf(edited.renders, service), service).toBe(imageOf(renders, service))
    })
  })

  it("renders Kong's declarative config with the rate-limiting plugin, its routes at services' published ports", () => {
    const kongHost = project.services.kong!.hosts[0]!
    const file = renders.find((r) => r.host === kongHost)!.files.find((f) => f.path.endsWith('/kong/kong.yml'))
    expect(file).toBeDefined()
    const config = parse(file!.content) as {
      plugins: { name: string; config: Record<string, unknown> }[]
      services: { name: string; url?: string; plugins?: { name: string; config: Record<string, unknown> }[] }[]
    }
    const global = config.plugins.find((p) => p.name === 'rate-limiting')
    expect(global?.config).toMatchObject({ policy: 'local' })
    expect(global!.config.minute).toBeGreaterThan(0)
    const ollama = config.services.find((s) => s.name === 'ollama')!
    expect(ollama.plugins?.find((p) => p.name === 'rate-limiting')?.config.minute).toBeLessThan(
      global!.config.minute as number,
    )
    // Every routed service answers at the address and port Kong was given.
    const routed = config.services.filter((s) => s.url !== undefined)
    expect(routed.length).toBeGreaterThan(5)
    for (const route of routed) {
      const service = project.services[route.name]
      expect(service, route.name).toBeDefined()
      const host = service!.hosts[0]!
      const url = new URL(route.url!)
      expect(url.hostname, route.name).toBe(project.hosts[host]!.address)
      expect(hostPorts(composes.get(host)!.services[route.name]!), route.name).toContain(`${url.port}/tcp`)
    }
  })

  it('places each single_host stack, Consul among them, on exactly one host', () => {
    const single = project.stacks.filter((s) => s.singleHost)
    expect(single.map((s) => s.name)).toContain(project.services.consul!.stack)
    for (const stack of single) {
      expect(stack.hosts, stack.name).toHaveLength(1)
      for (const name of stack.services) {
        const hosts = [...composes].filter(([, c]) => name in c.services).map(([h]) => h)
        expect(hosts, name).toEqual(stack.hosts)
      }
    }
  })

  it('publishes no host port twice on one host', () => {
    let published = 0
    for (const [host, compose] of composes) {
      expect(portClashes(compose), host).toEqual([])
      for (const service of Object.values(compose.services)) published += hostPorts(service).length
    }
    expect(published).toBeGreaterThan(40)
    // The check itself sees a clash, in either form, and tells TCP from UDP.
    const clash: Compose = {
      services: {
        a: { ports: ['8000:80', '8600:8600/udp'] },
        b: { ports: ['127.0.0.1:8000:8080', { target: 53, published: 8600, protocol: 'tcp' }] },
      },
    }
    expect(portClashes(clash)).toEqual(['8000/tcp: a, b'])
  })

  it('declares health checks for every long-running service and resource limits for all', () => {
    for (const service of Object.values(project.services)) {
      if (!WITHOUT_CHECKS.includes(service.name)) expect(service.health.length, service.name).toBeGreaterThan(0)
      const limits = (service.compose.deploy as { resources?: { limits?: object } } | undefined)?.resources?.limits
      expect(limits, service.name).toMatchObject({ cpus: expect.any(String), memory: expect.any(String) })
    }
  })
})
