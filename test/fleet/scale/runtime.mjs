#!/usr/bin/env node
// The scale fleet's stand-in Docker Engine: ONE process for every host, listening on each host's
// <host dir>/docker.sock (unix sockets are reachable from any network namespace; `docker system
// dial-stdio` on a host connects its SSH channel here through socat). It serves the part of the
// Engine API (API 1.45, Docker 26.1) that the CLI uses through dockerode, in Docker's formats, from
// the state bin/compose.mjs records (state.mjs):
//   GET|HEAD /_ping   GET /version /info   GET /containers/json?all&filters   GET /containers/{id}/json
//   GET /containers/{id}/logs   POST /containers/{id}/stop|kill|start|restart
//   GET /images/json   GET /images/{name}/json   POST /images/create?fromImage&tag
// Paths may carry a /v1.NN prefix. Started by up.sh (node runtime.mjs STATE UID GID); SIGHUP: look
// for new hosts; SIGTERM: close every socket and exit.
import { spawn } from 'node:child_process'
import { chownSync, chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { basename, join } from 'node:path'
import {
  API_VERSION,
  DOCKER_VERSION,
  httpdAlive,
  imageId,
  liveState,
  normalizeImage,
  readContainers,
  readImages,
  writeContainers,
  writeImages,
} from './state.mjs'

const [stateDir, uid, gid] = process.argv.slice(2)
if (!stateDir) {
  process.stderr.write('usage: node runtime.mjs STATE_DIR [UID GID]\n')
  process.exit(2)
}
const hostsDir = join(stateDir, 'hosts')
const servers = new Map()
/** When a container's process was first seen dead (ms), so "Exited (137) N seconds ago" counts from then. */
const deaths = new Map()
const diedAt = (id) => {
  if (!deaths.has(id)) deaths.set(id, Date.now())
  return deaths.get(id)
}

const log = (text) => process.stderr.write(`[runtime ${new Date().toISOString()}] ${text}\n`)

// --- answers ------------------------------------------------------------------------------------
const HEADERS = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Docker/${DOCKER_VERSION} (linux)`,
}

function send(res, status, body, type = 'application/json') {
  const text = type === 'application/json' ? `${JSON.stringify(body)}\n` : body
  res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
const notFound = (res, message) => send(res, 404, { message })

/** `filters` is JSON map[string][]string (or the older map[string]map[string]bool). */
function parseFilters(raw) {
  if (!raw) return {}
  const parsed = JSON.parse(raw)
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v : Object.keys(v)]))
}

function matches(container, live, filters) {
  for (const f of filters.label ?? []) {
    const at = f.indexOf('=')
    const [key, value] = at < 0 ? [f, undefined] : [f.slice(0, at), f.slice(at + 1)]
    if (!(key in container.labels) || (value !== undefined && container.labels[key] !== value)) return false
  }
  if (filters.status && !filters.status.includes(live.state)) return false
  if (filters.name && !filters.name.some((n) => new RegExp(n).test(`/${container.name}`))) return false
  if (filters.id && !filters.id.some((id) => container.id.startsWith(id))) return false
  if (filters.health && !filters.health.includes(live.health)) return false
  return true
}

function summary(host, container, live) {
  return {
    Id: container.id,
    Names: [`/${container.name}`],
    Image: container.image,
    ImageID: imageId(container.image),
    Command: container.command.join(' '),
    Created: Math.floor(Date.parse(container.createdAt) / 1000),
    Ports: container.ports.map((p) => ({ IP: p.ip, PrivatePort: p.target, PublicPort: p.port, Type: 'tcp' })),
    Labels: container.labels,
    State: live.state,
    Status: live.status,
    HostConfig: { NetworkMode: `${container.project}_default` },
    NetworkSettings: { Networks: { [`${container.project}_default`]: { IPAddress: '', Gateway: '', NetworkID: '' } } },
    Mounts: [],
  }
}

function inspect(container, live) {
  const zero = '0001-01-01T00:00:00Z'
  return {
    Id: container.id,
    Created: container.createdAt,
    Path: container.command[0] ?? '',
    Args: container.command.slice(1),
    State: {
      Status: live.state,
      Running: live.state === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: live.state === 'running' ? (container.pids[0] ?? 0) : 0,
      ExitCode: live.state === 'running' ? 0 : live.exitCode,
      Error: '',
      StartedAt: container.startedAt ?? zero,
      FinishedAt: live.finishedAt ?? zero,
      ...(container.healthcheck
        ? { Health: { Status: live.state === 'running' ? 'healthy' : 'unhealthy', FailingStreak: 0, Log: [] } }
        : {}),
    },
    Image: imageId(container.image),
    Name: `/${container.name}`,
    RestartCount: 0,
    Config: { Image: container.image, Labels: container.labels, Cmd: container.command, Env: [], Tty: false },
    HostConfig: {
      NetworkMode: `${container.project}_default`,
      PortBindings: Object.fromEntries(
        container.ports.map((p) => [`${p.target}/tcp`, [{ HostIp: p.ip, HostPort: String(p.port) }]]),
      ),
    },
    NetworkSettings: {
      Ports: Object.fromEntries(
        container.ports.map((p) => [`${p.target}/tcp`, [{ HostIp: p.ip, HostPort: String(p.port) }]]),
      ),
    },
    Mounts: [],
  }
}

/** Docker's multiplexed stream: [stream, 0, 0, 0, size32be] then the payload. */
function frame(stream, text) {
  const payload = Buffer.from(text)
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

function findContainer(containers, ref) {
  return (
    containers.find((c) => c.id === ref || c.name === ref || c.name === ref.replace(/^\//, '')) ??
    (ref.length >= 3 ? containers.find((c) => c.id.startsWith(ref)) : undefined)
  )
}

function hostAddress(host) {
  const i = Number(host.slice(1)) - 1
  return `10.78.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const reachable = (host, port) =>
  new Promise((ok) => {
    const s = connect({ host, port })
    s.once('connect', () => (s.destroy(), ok(true)))
    s.once('error', () => ok(false))
  })

/** A container started through the API: its httpds go into the host's namespace, as its user. */
async function startProcesses(host, container) {
  const pids = []
  for (const p of container.ports) {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/aips-${host}`,
        ...(uid ? ['-S', uid, '-G', gid] : []),
        '--',
        'busybox',
        'httpd',
        '-f',
        '-p',
        `${p.ip}:${p.port}`,
        '-h',
        join(stateDir, 'www'),
      ],
      { detached: true, stdio: 'ignore' },
    )
    child.unref()
    pids.push(child.pid)
    const address = p.ip === '0.0.0.0' ? hostAddress(host) : null
    for (let t = 0; t < 100 && (address ? !(await reachable(address, p.port)) : t < 10); t++) await sleep(10)
  }
  return pids
}

async function changeState(host, hostDir, ref, action, res) {
  const containers = readContainers(hostDir)
  const container = findContainer(containers, ref)
  if (!container) return notFound(res, `No such container: ${ref}`)
  const live = liveState(container, Date.now(), diedAt)
  if (action !== 'start') {
    if (live.state !== 'running' && action !== 'restart') return send(res, 304, '', 'text/plain')
    for (const pid of container.pids) if (httpdAlive(pid)) process.kill(pid, action === 'kill' ? 'SIGKILL' : 'SIGTERM')
    for (let t = 0; t < 100 && container.pids.some(httpdAlive); t++) await sleep(10)
    Object.assign(container, {
      state: 'exited',
      exitCode: action === 'kill' ? 137 : 143,
      finishedAt: new Date().toISOString(),
      pids: [],
    })
  }
  if (action === 'start' || action === 'restart') {
    if (action === 'start' && live.state === 'running') return send(res, 304, '', 'text/plain')
    container.pids = await startProcesses(host, container)
    Object.assign(container, {
      state: container.oneshot ? 'exited' : 'running',
      exitCode: 0,
      startedAt: new Date().toISOString(),
      finishedAt: container.oneshot ? new Date().toISOString() : null,
    })
    deaths.delete(container.id)
  }
  writeContainers(hostDir, containers)
  send(res, 204, '', 'text/plain')
}

function imageJson(name, info) {
  return {
    Id: imageId(name),
    RepoTags: [normalizeImage(name)],
    RepoDigests: [],
    Created: info.pulledAt,
    Size: 10_485_760,
    Architecture: 'amd64',
    Os: 'linux',
    Config: { Labels: {} },
  }
}

async function handle(host, hostDir, req, res) {
  const url = new URL(req.url, 'http://docker')
  const path = url.pathname.replace(/^\/v\d+\.\d+/, '')
  const method = req.method
  let m
  if (path === '/_ping')
    return method === 'HEAD'
      ? (res.writeHead(200, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 }),
        res.end())
      : send(res, 200, 'OK', 'text/plain; charset=utf-8')
  if (method === 'GET' && path === '/version')
    return send(res, 200, {
      Version: DOCKER_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: '1.24',
      Os: 'linux',
      Arch: 'amd64',
      KernelVersion: 'stand-in',
      Platform: { Name: 'Docker Engine - Community (aip scale stand-in)' },
    })
  if (method === 'GET' && path === '/info')
    return send(res, 200, {
      Name: host,
      ServerVersion: DOCKER_VERSION,
      Containers: readContainers(hostDir).length,
      Images: Object.keys(readImages(hostDir)).length,
      OperatingSystem: 'aip scale stand-in',
      NCPU: 2,
    })
  if (method === 'GET' && path === '/containers/json') {
    const all = ['1', 'true', 'True'].includes(url.searchParams.get('all') ?? '')
    let filters
    try {
      filters = parseFilters(url.searchParams.get('filters'))
    } catch {
      return send(res, 400, { message: 'invalid filter' })
    }
    const now = Date.now()
    const list = readContainers(hostDir)
      .map((c) => ({ c, live: liveState(c, now, diedAt) }))
      .filter(({ c, live }) => (all || live.state === 'running') && matches(c, live, filters))
      .sort((a, b) => Date.parse(b.c.createdAt) - Date.parse(a.c.createdAt))
    return send(
      res,
      200,
      list.map(({ c, live }) => summary(host, c, live)),
    )
  }
  if ((m = /^\/containers\/([^/]+)\/json$/.exec(path)) && method === 'GET') {
    const container = findContainer(readContainers(hostDir), decodeURIComponent(m[1]))
    return container
      ? send(res, 200, inspect(container, liveState(container, Date.now(), diedAt)))
      : notFound(res, `No such container: ${decodeURIComponent(m[1])}`)
  }
  if ((m = /^\/containers\/([^/]+)\/logs$/.exec(path)) && method === 'GET') {
    const container = findContainer(readContainers(hostDir), decodeURIComponent(m[1]))
    if (!container) return notFound(res, `No such container: ${decodeURIComponent(m[1])}`)
    const lines = [
      `stand-in ${container.service} on ${host}: started ${container.startedAt ?? '-'}\n`,
      ...container.ports.map((p) => `serving http on ${p.ip}:${p.port}\n`),
    ]
    res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/vnd.docker.multiplexed-stream' })
    res.write(Buffer.concat(lines.map((l) => frame(1, l))))
    if (['1', 'true'].includes(url.searchParams.get('follow') ?? '')) return // open until the client goes
    return res.end()
  }
  if ((m = /^\/containers\/([^/]+)\/(stop|kill|start|restart)$/.exec(path)) && method === 'POST')
    return changeState(host, hostDir, decodeURIComponent(m[1]), m[2], res)
  if (method === 'GET' && path === '/images/json')
    return send(
      res,
      200,
      Object.entries(readImages(hostDir)).map(([name, info]) => ({
        ...imageJson(name, info),
        Created: Math.floor(Date.parse(info.pulledAt) / 1000),
      })),
    )
  if ((m = /^\/images\/(.+)\/json$/.exec(path)) && method === 'GET') {
    const name = normalizeImage(decodeURIComponent(m[1]))
    const info = readImages(hostDir)[name]
    return info ? send(res, 200, imageJson(name, info)) : notFound(res, `No such image: ${name}`)
  }
  if (method === 'POST' && path === '/images/create') {
    const from = url.searchParams.get('fromImage') ?? ''
    const tag = url.searchParams.get('tag') || 'latest'
    if (!from) return send(res, 400, { message: 'invalid reference format' })
    const name = normalizeImage(
      from.includes(':') &&
        !from.slice(from.lastIndexOf('/')).includes('@') &&
        from.lastIndexOf(':') > from.lastIndexOf('/')
        ? from
        : `${from}:${tag}`,
    )
    const images = readImages(hostDir)
    const had = Boolean(images[name])
    const layer = imageId(name).slice(7, 19)
    const events = had
      ? [
          { status: `Pulling from ${from}`, id: tag },
          { status: `Digest: ${imageId(name)}` },
          { status: `Status: Image is up to date for ${name}` },
        ]
      : [
          { status: `Pulling from ${from}`, id: tag },
          { status: 'Pulling fs layer', progressDetail: {}, id: layer },
          { status: 'Downloading', progressDetail: { current: 5_242_880, total: 10_485_760 }, id: layer },
          { status: 'Download complete', progressDetail: {}, id: layer },
          { status: 'Pull complete', progressDetail: {}, id: layer },
          { status: `Digest: ${imageId(name)}` },
          { status: `Status: Downloaded newer image for ${name}` },
        ]
    if (!had) {
      images[name] = { pulledAt: new Date().toISOString() }
      writeImages(hostDir, images)
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/json' })
    return res.end(events.map((e) => `${JSON.stringify(e)}\r\n`).join(''))
  }
  return notFound(res, 'page not found')
}

// --- one socket per host ------------------------------------------------------------------------
function listen(hostDir) {
  const host = basename(hostDir)
  const socket = join(hostDir, 'docker.sock')
  rmSync(socket, { force: true })
  const server = createServer((req, res) => {
    handle(host, hostDir, req, res).catch((error) => {
      log(`${host} ${req.method} ${req.url}: ${error.stack}`)
      if (!res.headersSent) send(res, 500, { message: String(error.message) })
      else res.destroy()
    })
  })
  // dockerd keeps idle API connections open; so do we (each is one dial-stdio channel).
  server.keepAliveTimeout = 0
  server.listen(socket, () => {
    if (uid) chownSync(socket, Number(uid), Number(gid))
    chmodSync(socket, 0o660)
  })
  server.on('error', (error) => log(`${host}: ${error.message}`))
  servers.set(host, { server, socket })
}

function scan() {
  if (!existsSync(hostsDir)) return
  let added = 0
  for (const name of readdirSync(hostsDir).sort()) {
    const dir = join(hostsDir, name)
    if (!/^s\d{3}$/.test(name) || !existsSync(join(dir, 'runtime'))) continue
    const known = servers.get(name)
    if (known && existsSync(known.socket)) continue
    if (known) known.server.close()
    listen(dir)
    added++
  }
  for (const [name, { server }] of servers) {
    if (!existsSync(join(hostsDir, name, 'runtime'))) {
      server.close()
      servers.delete(name)
    }
  }
  if (added > 0) log(`listening for ${added} more host(s), ${servers.size} in all`)
}

function shutdown() {
  for (const { server, socket } of servers.values()) {
    server.close()
    rmSync(socket, { force: true })
  }
  rmSync(join(stateDir, 'runtime.pid'), { force: true })
  process.exit(0)
}

process.on('SIGHUP', scan)
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
// Alive with no host yet: up.sh starts the runtime first and sends SIGHUP once the hosts exist.
setInterval(() => undefined, 1 << 30)
scan()
writeFileSync(join(stateDir, 'runtime.pid'), `${process.pid}\n`)
log(`started, pid ${process.pid}`)
