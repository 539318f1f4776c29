// The one route to a service's port: straight to the host, or through its SSH connection when the port is
// published on the host's loopback only. The health checks and the Ollama client both take it from here.
import { createServer, type Server } from 'node:net'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Host, Project } from '../../../src/config/model.js'
import { HttpPool, serviceChecks, type CheckContext } from '../../../src/health/checks.js'
import { endpointFor } from '../../../src/models/service.js'
import { ollamaNodes } from '../../../src/models/placement.js'
import type { Connector } from '../../../src/remote/connect.js'
import { endpointOrigin, resolveEndpoint } from '../../../src/remote/endpoint.js'
import type { Executor } from '../../../src/remote/executor.js'
import { loadOk } from '../../helpers/load.js'
import { REPO, projectFrom, removeProject } from '../../helpers/project.js'

describe('resolveEndpoint', () => {
  it.each([
    [
      'a port published on all addresses',
      { address: '10.0.0.5', local: false },
      8080,
      [],
      { via: 'direct', address: '10.0.0.5', port: 8080 },
      'http://10.0.0.5:8080',
    ],
    [
      'a port on the loopback of a remote host',
      { address: '10.0.0.5', local: false },
      8080,
      [8080],
      { via: 'ssh', port: 8080 },
      'http://127.0.0.1:8080',
    ],
    [
      'another port of that host',
      { address: '10.0.0.5', local: false },
      9090,
      [8080],
      { via: 'direct', address: '10.0.0.5', port: 9090 },
      'http://10.0.0.5:9090',
    ],
    [
      'a loopback port of the local host',
      { address: '127.0.0.1', local: true },
      8080,
      [8080],
      { via: 'direct', address: '127.0.0.1', port: 8080 },
      'http://127.0.0.1:8080',
    ],
    [
      'an IPv6 address',
      { address: 'fd00::5', local: false },
      8080,
      [],
      { via: 'direct', address: 'fd00::5', port: 8080 },
      'http://[fd00::5]:8080',
    ],
  ] as const)('%s', (_case, host, port, loopback, endpoint, origin) => {
    expect(resolveEndpoint(host, port, loopback)).toEqual(endpoint)
    expect(endpointOrigin(resolveEndpoint(host, port, loopback))).toBe(origin)
  })

  it('keeps the scheme it is given', () => {
    expect(endpointOrigin(resolveEndpoint({ address: 'gpu1.lan', local: false }, 443, []), 'https')).toBe(
      'https://gpu1.lan:443',
    )
    expect(endpointOrigin(resolveEndpoint({ address: 'gpu1.lan', local: false }, 443, [443]), 'https')).toBe(
      'https://127.0.0.1:443',
    )
  })
})

describe('endpointFor (Ollama)', () => {
  const forwarded: [string, number][] = []
  const connections: Connector = {
    get: async (host) =>
      ({
        forward: async (port: number) => (forwarded.push([host, port]), null as unknown as Duplex),
      }) as unknown as Executor,
    closeAll: async () => undefined,
  }
  let loopbackDir = ''
  let published: Project
  let loopback: Project
  beforeAll(async () => {
    published = (await loadOk()).project
    loopbackDir = await projectFrom(REPO, {
      'stacks/ollama.yaml': (text) => text.replace('ports: ["11434:11434"]', 'ports: ["127.0.0.1:11434:11434"]'),
    })
    loopback = (await loadOk(loopbackDir)).project
  })
  afterAll(() => removeProject(loopbackDir))

  it('a published port is reached at the host address, without a tunnel', () => {
    const node = ollamaNodes(published)[0]!
    const endpoint = endpointFor(published, node, connections)
    expect(endpoint).toEqual({ host: node.host, origin: `http://${published.hosts[node.host]!.address}:11434` })
  })

  it('a port bound to the loopback goes through the SSH connection of its host', async () => {
    const node = ollamaNodes(loopback)[0]!
    const endpoint = endpointFor(loopback, node, connections)
    expect(endpoint.origin).toBe('http://127.0.0.1:11434')
    await endpoint.tunnel!()
    expect(forwarded).toEqual([[node.host, 11434]])
  })
})

describe('health checks (tcp)', () => {
  let server: Server
  let port = 0
  beforeAll(async () => {
    server = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const run = async (loopbackPorts: number[]) => {
    const forwarded: number[] = []
    const exec = {
      forward: async (p: number) => (forwarded.push(p), { destroy: () => undefined } as unknown as Duplex),
    } as unknown as Executor
    const host = { name: 'gpu1', address: '127.0.0.1', local: false } as Host
    const ctx: CheckContext = {
      project: {} as Project,
      host,
      exec,
      timeoutMs: 2000,
      models: false,
      dispatcher: new HttpPool(2000),
    }
    const [result] = await serviceChecks(ctx, {
      name: 'api',
      health: [{ tcp: { port }, required: true }] as never,
      loopbackPorts,
    })
    return { status: result!.status, forwarded }
  }

  it('connect straight to a published port, and through the SSH connection to a loopback one', async () => {
    expect(await run([])).toEqual({ status: 'ok', forwarded: [] })
    expect(await run([port])).toEqual({ status: 'ok', forwarded: [port] })
  })
})
