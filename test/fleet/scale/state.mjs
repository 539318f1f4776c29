// A scale host's stand-in container state, shared by bin/compose.mjs (which writes it, inside the
// host's SSH session) and runtime.mjs (which serves it as the Docker Engine API). One JSON file per
// host: <host dir>/runtime/containers.json; images the host "has": runtime/images.json.
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const DOCKER_VERSION = '26.1.5'
export const API_VERSION = '1.45'
export const COMPOSE_VERSION = '2.26.1'

export const containersFile = (hostDir) => join(hostDir, 'runtime', 'containers.json')
export const imagesFile = (hostDir) => join(hostDir, 'runtime', 'images.json')

export function readJson(file, fallback) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return fallback
  }
}

/** Written aside, then renamed: a reader never sees half a file. */
export function writeJson(file, data) {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(data, null, 1)}\n`)
  renameSync(tmp, file)
}

export const readContainers = (hostDir) => readJson(containersFile(hostDir), { containers: [] }).containers
export const writeContainers = (hostDir, containers) => writeJson(containersFile(hostDir), { containers })
export const readImages = (hostDir) => readJson(imagesFile(hostDir), { images: {} }).images
export const writeImages = (hostDir, images) => writeJson(imagesFile(hostDir), { images })

export const newId = () => randomBytes(32).toString('hex')
export const imageId = (name) =>
  `sha256:${createHash('sha256')
    .update(`aip-scale-image:${normalizeImage(name)}`)
    .digest('hex')}`

/** `prom/node-exporter` -> `prom/node-exporter:latest`; digests and tags kept. */
export function normalizeImage(name) {
  const last = name.slice(name.lastIndexOf('/') + 1)
  return name.includes('@') || last.includes(':') ? name : `${name}:latest`
}

/** The stand-in's processes are busybox httpd; a recorded pid that runs something else is gone. */
export function httpdAlive(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('httpd')
  } catch {
    return false
  }
}

/** Docker's units.HumanDuration (go-units/duration.go), as `docker ps` prints it. */
export function humanDuration(seconds) {
  if (seconds < 1) return 'Less than a second'
  if (seconds < 2) return '1 second'
  if (seconds < 60) return `${Math.floor(seconds)} seconds`
  const minutes = Math.floor(seconds / 60)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.round(seconds / 3600)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`
  return `${Math.floor(hours / 24 / 365)} years`
}

/**
 * What the container is now: a running container whose process died is exited (137), as Docker
 * reports a container whose main process was killed. `diedAt` (ms) remembers when that was seen.
 */
export function liveState(container, now = Date.now(), diedAt = () => now) {
  let { state, exitCode } = container
  let finishedAt = container.finishedAt ? Date.parse(container.finishedAt) : null
  if (state === 'running' && container.pids.length > 0 && !container.pids.every(httpdAlive)) {
    state = 'exited'
    exitCode = 137
    finishedAt = diedAt(container.id)
  }
  const startedAt = container.startedAt ? Date.parse(container.startedAt) : Date.parse(container.createdAt)
  let status
  let health = 'none'
  if (state === 'running') {
    health = container.healthcheck ? 'healthy' : 'none'
    status = `Up ${humanDuration((now - startedAt) / 1000)}${container.healthcheck ? ' (healthy)' : ''}`
  } else if (state === 'exited') {
    status = `Exited (${exitCode}) ${humanDuration((now - (finishedAt ?? now)) / 1000)} ago`
  } else {
    status = 'Created'
  }
  return {
    state,
    exitCode: exitCode ?? 0,
    status,
    health,
    finishedAt: finishedAt === null ? null : new Date(finishedAt).toISOString(),
  }
}
