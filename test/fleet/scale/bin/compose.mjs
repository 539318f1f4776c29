#!/usr/bin/env node
// `docker compose` on a scale host (bin/docker hands it everything after `compose`). Runs inside the
// host's SSH session, so inside its network namespace: reads the compose file as Compose v2 does
// (interpolation from --env-file and the environment, profiles, the project's labels), records the
// project's containers in the host's state (state.mjs), and stands in for every published TCP port
// with a busybox httpd serving .state/www, bound where Docker would bind it.
//   up [-d] [--remove-orphans] [--force-recreate] [SERVICE...]   down [--remove-orphans] [-v]
//   ps [-a] [--format json] [-q]   stop | start | restart | kill [SERVICE...]   config   pull   version
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import {
  COMPOSE_VERSION,
  httpdAlive,
  liveState,
  newId,
  normalizeImage,
  readContainers,
  readImages,
  writeContainers,
  writeImages,
} from '../state.mjs'

const WWW = join(dirname(fileURLToPath(import.meta.url)), '..', '.state', 'www')

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

// --- arguments: global flags, the subcommand, its flags ---------------------------------------
const GLOBAL_VALUE = new Set([
  '-p',
  '--project-name',
  '--project-directory',
  '-f',
  '--file',
  '--env-file',
  '--profile',
  '--ansi',
  '--progress',
  '--parallel',
])
const global = { files: [], profiles: [], envFiles: [] }
const argv = process.argv.slice(2)
let i = 0
for (; i < argv.length && argv[i].startsWith('-'); i++) {
  let [flag, value] = argv[i].includes('=')
    ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
    : [argv[i], undefined]
  if (!GLOBAL_VALUE.has(flag)) {
    if (flag === '--dry-run' || flag === '--compatibility') continue
    fail(`unknown flag: ${flag}`)
  }
  if (value === undefined) value = argv[++i]
  if (value === undefined) fail(`flag needs an argument: ${flag}`)
  if (flag === '-p' || flag === '--project-name') global.project = value
  else if (flag === '--project-directory') global.directory = value
  else if (flag === '-f' || flag === '--file') global.files.push(value)
  else if (flag === '--env-file') global.envFiles.push(value)
  else if (flag === '--profile') global.profiles.push(value)
}
const command = argv[i]
const rest = argv.slice(i + 1)
const flags = new Set(rest.filter((a) => a.startsWith('-')))
const names = rest.filter((a, j) => !a.startsWith('-') && !['--format', '--timeout', '-t'].includes(rest[j - 1]))
const format = rest[rest.indexOf('--format') + 1]

if (command === 'version') {
  process.stdout.write(flags.has('--short') ? `${COMPOSE_VERSION}\n` : `Docker Compose version v${COMPOSE_VERSION}\n`)
  process.exit(0)
}
if (!command) fail('Usage:  docker compose [OPTIONS] COMMAND')

const hostDir = process.env.AIP_SCALE_DIR
if (!hostDir || !existsSync(join(hostDir, 'runtime')))
  fail("compose stand-in: AIP_SCALE_DIR does not name a scale host (run through the host's sshd)")

// --- the project model ------------------------------------------------------------------------
const directory = resolve(global.directory ?? (global.files[0] ? dirname(global.files[0]) : '.'))
const files = (global.files.length > 0 ? global.files : ['compose.yaml']).map((f) => resolve(directory, f))
const project = (global.project ?? process.env.COMPOSE_PROJECT_NAME ?? basename(directory)).toLowerCase()

function readEnvFile(file) {
  const values = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (!match || line.trimStart().startsWith('#')) continue
    let value = match[2]
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))
      value = value.slice(1, -1)
    values[match[1]] = value
  }
  return values
}

function loadModel() {
  const envFiles =
    global.envFiles.length > 0 ? global.envFiles : existsSync(join(directory, '.env')) ? [join(directory, '.env')] : []
  const env = {}
  for (const f of envFiles) {
    if (!existsSync(f)) fail(`env file ${resolve(f)} not found: stat ${resolve(f)}: no such file or directory`)
    Object.assign(env, readEnvFile(f))
  }
  Object.assign(env, process.env) // the shell's environment wins, as in Compose
  const interpolate = (value) => {
    if (typeof value === 'string') {
      return value.replace(
        /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
        (all, name, op, arg, bare) => {
          if (all === '$$') return '$'
          const key = name ?? bare
          const set = env[key] !== undefined && (op?.startsWith(':') ? env[key] !== '' : true)
          if (op === ':-' || op === '-') return set ? env[key] : arg
          if (op === ':?' || op === '?')
            return set ? env[key] : fail(`required variable ${key} is missing a value: ${arg}`)
          return env[key] ?? ''
        },
      )
    }
    if (Array.isArray(value)) return value.map(interpolate)
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]))
    return value
  }
  const services = {}
  for (const file of files) {
    if (!existsSync(file)) fail(`open ${file}: no such file or directory`)
    let doc
    try {
      doc = parse(readFileSync(file, 'utf8'))
    } catch (error) {
      fail(`yaml: ${error.message.split('\n')[0]}`, 15)
    }
    for (const [name, definition] of Object.entries(interpolate(doc?.services ?? {})))
      services[name] = { ...(services[name] ?? {}), ...definition }
  }
  const active = new Set([...global.profiles, ...(process.env.COMPOSE_PROFILES ?? '').split(',').filter(Boolean)])
  for (const [name, s] of Object.entries(services)) {
    if (
      Array.isArray(s.profiles) &&
      s.profiles.length > 0 &&
      !s.profiles.some((p) => active.has(p) || p === '*') &&
      !names.includes(name)
    )
      delete services[name]
    else if (!s.image)
      fail(`service "${name}" has neither an image nor a build context specified: invalid compose project`, 15)
  }
  return services
}

const labelsOf = (service) =>
  Array.isArray(service.labels)
    ? Object.fromEntries(service.labels.map((l) => String(l).split(/=(.*)/s).slice(0, 2)))
    : { ...(service.labels ?? {}) }

/** Published TCP ports: short ([IP:]HOST:CONTAINER[/tcp], ranges) and long syntax. */
function publishedPorts(service) {
  const out = []
  for (const p of service.ports ?? []) {
    if (typeof p === 'object' && p !== null) {
      if ((p.protocol ?? 'tcp') === 'tcp' && p.published !== undefined)
        out.push({ ip: p.host_ip ?? '0.0.0.0', port: Number(p.published), target: Number(p.target) })
      continue
    }
    const [spec, protocol = 'tcp'] = String(p).split('/')
    if (protocol !== 'tcp') continue
    const parts = spec.split(':')
    if (parts.length < 2) continue // container port only: Docker would pick an ephemeral host port
    const target = parts.pop()
    const host = parts.pop()
    const ip = parts.join(':') || '0.0.0.0'
    const [from, to = from] = host.split('-').map(Number)
    const [targetFrom] = target.split('-').map(Number)
    for (let port = from; port <= to; port++) out.push({ ip, port, target: targetFrom + (port - from) })
  }
  return out
}

const configHash = (service) =>
  createHash('sha256')
    .update(JSON.stringify(sortKeys(service)))
    .digest('hex')
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    )
  return value
}
const hasHealthcheck = (service) =>
  Boolean(
    service.healthcheck &&
    !service.healthcheck.disable &&
    !(Array.isArray(service.healthcheck.test) && service.healthcheck.test[0] === 'NONE'),
  )

// --- processes --------------------------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function listening(ip, port) {
  return new Promise((ok) => {
    const socket = connect({ host: ip === '0.0.0.0' ? '127.0.0.1' : ip, port })
    socket.once('connect', () => {
      socket.destroy()
      ok(true)
    })
    socket.once('error', () => ok(false))
  })
}

/** One httpd per published port, in its own session (outlives this SSH channel); resolves once listening. */
async function startPorts(container) {
  const started = []
  try {
    for (const p of container.ports) {
      if (await listening(p.ip, p.port)) throw new Error(`Bind for ${p.ip}:${p.port} failed: port is already allocated`)
      const child = spawn('busybox', ['httpd', '-f', '-p', `${p.ip}:${p.port}`, '-h', WWW], {
        detached: true,
        stdio: 'ignore',
      })
      let exited = false
      child.once('exit', () => (exited = true))
      child.unref()
      started.push(child.pid)
      for (let t = 0; !(await listening(p.ip, p.port)); t++) {
        if (exited || t > 200)
          throw new Error(
            `Bind for ${p.ip}:${p.port} failed: ${exited ? 'the stand-in process exited' : 'not listening after 2 s'}`,
          )
        await sleep(10)
      }
    }
    return started
  } catch (error) {
    await stopPids(started, 'SIGKILL')
    throw error
  }
}

async function stopPids(pids, signal = 'SIGTERM') {
  for (const pid of pids) {
    if (!httpdAlive(pid)) continue
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
  for (let t = 0; t < 100 && pids.some(httpdAlive); t++) await sleep(10)
}

const say = (name, what) => process.stderr.write(` Container ${name}  ${what}\n`)

// --- commands ---------------------------------------------------------------------------------
async function up() {
  const services = loadModel()
  const wanted = names.length > 0 ? names : Object.keys(services)
  for (const n of wanted) if (!services[n]) fail(`no such service: ${n}`)
  let containers = readContainers(hostDir)
  const images = readImages(hostDir)
  const mine = (c) => c.project === project
  const orphans = containers.filter((c) => mine(c) && !services[c.service])
  if (orphans.length > 0 && flags.has('--remove-orphans')) {
    for (const o of orphans) {
      await stopPids(o.pids)
      say(o.name, 'Removed')
    }
    containers = containers.filter((c) => !orphans.includes(c))
  } else if (orphans.length > 0) {
    process.stderr.write(
      `WARN[0000] Found orphan containers ([${orphans.map((o) => o.name).join(' ')}]) for this project.\n`,
    )
  }
  let failure = null
  for (const name of wanted) {
    const service = services[name]
    const hash = configHash(service)
    const image = normalizeImage(service.image)
    if (!images[image]) {
      process.stderr.write(` ${name} Pulling\n ${name} Pulled\n`)
      images[image] = { pulledAt: new Date().toISOString() }
    }
    const existing = containers.find((c) => mine(c) && c.service === name)
    const now = liveState(existing ?? { state: 'created', pids: [], createdAt: new Date().toISOString() })
    const oneshot = service.restart === 'no' || service.restart === false
    if (
      existing &&
      existing.configHash === hash &&
      !flags.has('--force-recreate') &&
      (now.state === 'running' || (oneshot && now.state === 'exited' && now.exitCode === 0))
    ) {
      say(existing.name, 'Running')
      continue
    }
    if (existing) {
      await stopPids(existing.pids)
      containers = containers.filter((c) => c !== existing)
      say(existing.name, 'Recreate')
    }
    const containerName = service.container_name ?? `${project}-${name}-1`
    const labels = {
      ...labelsOf(service),
      'com.docker.compose.config-hash': hash,
      'com.docker.compose.container-number': '1',
      'com.docker.compose.depends_on': Object.entries(
        Array.isArray(service.depends_on)
          ? Object.fromEntries(service.depends_on.map((d) => [d, { condition: 'service_started' }]))
          : (service.depends_on ?? {}),
      )
        .map(([d, v]) => `${d}:${v.condition ?? 'service_started'}:${v.restart ?? false}`)
        .join(','),
      'com.docker.compose.image': `sha256:${createHash('sha256').update(image).digest('hex')}`,
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.project': project,
      'com.docker.compose.project.config_files': files.join(','),
      'com.docker.compose.project.working_dir': directory,
      'com.docker.compose.service': name,
      'com.docker.compose.version': COMPOSE_VERSION,
      ...(global.envFiles.length > 0
        ? { 'com.docker.compose.project.environment_file': global.envFiles.map((f) => resolve(f)).join(',') }
        : {}),
    }
    const container = {
      id: newId(),
      name: containerName,
      project,
      service: name,
      image: service.image,
      command: Array.isArray(service.command)
        ? service.command
        : service.command
          ? String(service.command).split(/\s+/)
          : [],
      labels,
      healthcheck: hasHealthcheck(service),
      oneshot,
      configHash: hash,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      state: 'created',
      exitCode: 0,
      pids: [],
      ports: oneshot ? [] : publishedPorts(service),
    }
    containers.push(container)
    say(containerName, 'Created')
    try {
      container.pids = await startPorts(container)
      container.startedAt = new Date().toISOString()
      if (oneshot) {
        container.state = 'exited'
        container.finishedAt = container.startedAt
      } else container.state = 'running'
      say(containerName, 'Started')
    } catch (error) {
      failure = `Error response from daemon: driver failed programming external connectivity on endpoint ${containerName} (${container.id}): ${error.message}`
      break
    }
  }
  writeImages(hostDir, images)
  writeContainers(hostDir, containers)
  if (failure) fail(failure)
}

async function down() {
  const containers = readContainers(hostDir)
  const mine = containers.filter((c) => c.project === project)
  for (const c of mine) {
    await stopPids(c.pids)
    say(c.name, 'Removed')
  }
  writeContainers(
    hostDir,
    containers.filter((c) => c.project !== project),
  )
}

async function setState(action) {
  const containers = readContainers(hostDir)
  for (const c of containers.filter(
    (c) => c.project === project && (names.length === 0 || names.includes(c.service)),
  )) {
    if (action !== 'start') {
      await stopPids(c.pids, action === 'kill' ? 'SIGKILL' : 'SIGTERM')
      if (c.state === 'running')
        Object.assign(c, {
          state: 'exited',
          exitCode: action === 'kill' ? 137 : 143,
          finishedAt: new Date().toISOString(),
          pids: [],
        })
      say(c.name, action === 'kill' ? 'Killed' : 'Stopped')
    }
    if (action === 'start' || action === 'restart') {
      if (liveState(c).state === 'running') continue
      c.pids = await startPorts(c)
      Object.assign(c, {
        state: c.oneshot ? 'exited' : 'running',
        exitCode: 0,
        startedAt: new Date().toISOString(),
        finishedAt: c.oneshot ? new Date().toISOString() : null,
      })
      say(c.name, 'Started')
    }
  }
  writeContainers(hostDir, containers)
}

function ps() {
  const now = Date.now()
  const rows = readContainers(hostDir)
    .filter((c) => c.project === project && (names.length === 0 || names.includes(c.service)))
    .map((c) => ({ c, live: liveState(c, now) }))
    .filter(({ live }) => flags.has('-a') || flags.has('--all') || live.state === 'running')
  if (flags.has('-q') || flags.has('--quiet')) return rows.forEach(({ c }) => process.stdout.write(`${c.id}\n`))
  if (format === 'json') {
    for (const { c, live } of rows) {
      const ports = c.ports.map((p) => `${p.ip}:${p.port}->${p.target}/tcp`).join(', ')
      process.stdout.write(
        `${JSON.stringify({
          Command: JSON.stringify(c.command.join(' ')),
          CreatedAt: c.createdAt,
          ExitCode: live.exitCode,
          Health: live.health === 'none' ? '' : live.health,
          ID: c.id.slice(0, 12),
          Image: c.image,
          Labels: Object.entries(c.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
          Name: c.name,
          Names: c.name,
          Project: c.project,
          Publishers: c.ports.map((p) => ({ URL: p.ip, TargetPort: p.target, PublishedPort: p.port, Protocol: 'tcp' })),
          Service: c.service,
          State: live.state,
          Status: live.status,
          Ports: ports,
        })}\n`,
      )
    }
    return
  }
  const table = [
    ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'],
    ...rows.map(({ c, live }) => [
      c.name,
      c.image,
      `"${c.command.join(' ').slice(0, 20)}"`,
      c.service,
      'a while ago',
      live.status,
      c.ports.map((p) => `${p.ip}:${p.port}->${p.target}/tcp`).join(', '),
    ]),
  ]
  const widths = table[0].map((_, k) => Math.max(...table.map((r) => r[k].length)))
  for (const r of table)
    process.stdout.write(`${r.map((v, k) => (k === r.length - 1 ? v : v.padEnd(widths[k] + 3))).join('')}\n`)
}

switch (command) {
  case 'up':
    await up()
    break
  case 'down':
    await down()
    break
  case 'stop':
  case 'start':
  case 'restart':
  case 'kill':
    await setState(command)
    break
  case 'ps':
    ps()
    break
  case 'config':
    process.stdout.write(`${JSON.stringify({ name: project, services: loadModel() }, null, 2)}\n`)
    break
  case 'pull': {
    const images = readImages(hostDir)
    for (const [name, s] of Object.entries(loadModel())) {
      images[normalizeImage(s.image)] = { pulledAt: new Date().toISOString() }
      process.stderr.write(` ${name} Pulled\n`)
    }
    writeImages(hostDir, images)
    break
  }
  default:
    fail(`unknown docker command: "compose ${command}"`)
}
