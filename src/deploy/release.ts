// A release on a host: releases/<id>/{compose.yaml,.env,release.json}, config files in the shared
// content-addressed files/ store, and `current` pointing at the live release. Pure builders here;
// the engine runs them.
import { createHash } from 'node:crypto'
import { hostname, userInfo } from 'node:os'
import { pack } from 'tar-stream'
import type { HealthCheck } from '../config/model.js'
import type { HostRender } from '../render/render.js'
import { COMPOSE_FILE, ENV_FILE } from '../render/render.js'

const RELEASE_FILE = 'release.json'
/** In each release: `sha256sum -c` lines for its config files, checked after unpacking. */
const SUMS_FILE = 'files.sha256'
/**
 * In each release: the `sha256sum -c` line for its .env, 0600 as the .env itself (whoever can read
 * it can read the .env, so the digest tells nobody anything new), for `drift` to find an edited .env.
 */
const ENV_SUM_FILE = '.env.sha256'

/**
 * What release.json (0644 on the host) holds. No digest of .env: an unsalted sha256 of a short secret
 * can be guessed offline by anyone who reads the file; "unchanged" compares the host's own sha256sum
 * of its 0600 .env instead.
 */
export interface ReleaseRecord {
  id: string
  host: string
  platform: string
  composeProject: string
  /** The rendered bundle's hash: equal hashes mean nothing to deploy. */
  hash: string
  createdAt: string
  by: { user: string; machine: string }
  services: RecordedService[]
  files: string[]
  previous: string | null
  tool: string
}

export interface RecordedService {
  name: string
  image: string
  tier: string
  oneshot: boolean
  /** How many containers the release runs (absent in records written before replicas were kept: 1). */
  replicas?: number
  hasHealthcheck: boolean
  /** The declared checks this release was deployed with (absent in records written before they were kept). */
  health?: HealthCheck[]
  loopbackPorts?: number[]
}

/** What releaseId() makes: a release directory name, nothing that could climb out of releases/. */
export const RELEASE_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/
const COMPOSE_PROJECT = /^[a-z0-9][a-z0-9_-]{0,62}$/
const STORE_PATH = /^files\/[0-9a-f]{16}\/(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/

/**
 * A release.json as a host holds it, checked before any of it is used: the id and the files name
 * paths on the host (a rollback switches `current` to the id), the services decide what is waited
 * for. null for anything that is not a record buildRecord() could have written.
 */
export function parseReleaseRecord(text: string): ReleaseRecord | null {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return null
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null
  const r = data as Record<string, unknown>
  const str = (v: unknown): v is string => typeof v === 'string' && v.length <= 1024
  const by = r.by as Record<string, unknown> | null | undefined
  const services = r.services
  const ok =
    str(r.id) &&
    RELEASE_ID.test(r.id) &&
    str(r.hash) &&
    /^[0-9a-f]{64}$/.test(r.hash) &&
    str(r.composeProject) &&
    COMPOSE_PROJECT.test(r.composeProject) &&
    (r.previous === null || (str(r.previous) && RELEASE_ID.test(r.previous))) &&
    str(r.createdAt) &&
    str(r.host) &&
    str(r.platform) &&
    str(r.tool) &&
    by !== null &&
    typeof by === 'object' &&
    str(by.user) &&
    str(by.machine) &&
    Array.isArray(r.files) &&
    r.files.every((f) => str(f) && STORE_PATH.test(f)) &&
    Array.isArray(services) &&
    services.every((s: unknown) => {
      const v = s as Record<string, unknown> | null
      return (
        v !== null &&
        typeof v === 'object' &&
        str(v.name) &&
        /^[a-z0-9][a-z0-9_-]*$/.test(v.name) &&
        str(v.image) &&
        str(v.tier) &&
        typeof v.oneshot === 'boolean' &&
        typeof v.hasHealthcheck === 'boolean' &&
        (v.replicas === undefined || isReplicas(v.replicas))
      )
    })
  if (!ok) return null
  // Checks that do not read as checks are dropped, not the record: the release is then judged by its
  // containers alone, as one written before checks were recorded.
  for (const service of services as Record<string, unknown>[]) {
    const checks = Array.isArray(service.health) && service.health.length <= 1024 && service.health.every(isHealthCheck)
    const ports =
      Array.isArray(service.loopbackPorts) &&
      service.loopbackPorts.length <= 65535 &&
      service.loopbackPorts.every(isPort)
    if (!checks || !ports) {
      delete service.health
      delete service.loopbackPorts
    }
  }
  return r as unknown as ReleaseRecord
}

/** Compose accepts any count; a record claiming more than this was not written by buildRecord(). */
const isReplicas = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100_000

/** The replica count a release runs for a service (1 in records written before counts were kept). */
export function recordedReplicas(service: Pick<RecordedService, 'replicas'>): number {
  return service.replicas ?? 1
}

const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535

/**
 * A check as a release record holds it: it decides whether a rollback succeeded, and a command check
 * runs on the host, so each field is checked like the stack file's own (see the stack schema).
 */
function isHealthCheck(value: unknown): value is HealthCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const c = value as Record<string, unknown>
  const known = ['name', 'required', 'http', 'tcp', 'command', 'ollama']
  if (Object.keys(c).some((k) => !known.includes(k))) return false
  if (typeof c.required !== 'boolean') return false
  const object = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
  const text = (v: unknown): boolean => typeof v === 'string' && v.length <= 1024 * 1024
  const h = c.http
  const ok =
    (h === undefined ||
      (object(h) &&
        isPort(h.port) &&
        text(h.path) &&
        (h.path as string).startsWith('/') &&
        Number.isInteger(h.status) &&
        (h.status as number) >= 100 &&
        (h.status as number) <= 599 &&
        (h.body === undefined || text(h.body)) &&
        (h.scheme === 'http' || h.scheme === 'https'))) &&
    (c.tcp === undefined || (object(c.tcp) && isPort(c.tcp.port))) &&
    (c.ollama === undefined || (object(c.ollama) && isPort(c.ollama.port))) &&
    (c.command === undefined ||
      (Array.isArray(c.command) && c.command.length >= 1 && c.command.length <= 65536 && c.command.every(text)))
  return (
    ok && (c.name === undefined || text(c.name)) && ['http', 'tcp', 'command', 'ollama'].some((k) => c[k] !== undefined)
  )
}

export function releaseId(now: Date, hash: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${hash.slice(0, 8)}`
}

export function envDigest(env: string): string {
  return createHash('sha256').update(env).digest('hex')
}

export function whoAmI(): { user: string; machine: string } {
  let user = process.env.USER ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return { user, machine: hostname() }
}

export function buildRecord(
  render: HostRender,
  options: { id: string; platform: string; now: Date; previous: string | null; tool: string },
): ReleaseRecord {
  return {
    id: options.id,
    host: render.host,
    platform: options.platform,
    composeProject: render.composeProject,
    hash: render.hash,
    createdAt: options.now.toISOString(),
    by: whoAmI(),
    services: render.services.map((s) => ({
      name: s.name,
      image: s.image,
      tier: s.tier,
      oneshot: s.oneshot,
      replicas: s.replicas,
      hasHealthcheck: s.hasHealthcheck,
      health: s.health,
      loopbackPorts: s.loopbackPorts,
    })),
    files: render.files.map((f) => f.path),
    previous: options.previous,
    tool: options.tool,
  }
}

/** `<sha256>  files/<key>/<path>` per config file, as sha256sum -c reads them (paths are plain: see the stack schema). */
function fileSums(render: Pick<HostRender, 'files'>): string {
  return render.files.map((f) => `${f.sha256}  ${f.path}\n`).join('')
}

/** The release as one tar stream: `release/` (compose, .env 0600, release.json) and `files/`. */
export async function releaseTarball(render: HostRender, env: string, record: ReleaseRecord): Promise<Buffer> {
  const archive = pack()
  const chunks: Buffer[] = []
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve)
    archive.on('error', reject)
  })
  const mtime = new Date(record.createdAt)
  const add = (name: string, content: string, mode: number): void => {
    archive.entry({ name, mode, mtime, uid: 0, gid: 0 }, content)
  }
  add(`release/${COMPOSE_FILE}`, render.compose.content, 0o644)
  add(`release/${ENV_FILE}`, env, 0o600)
  add(`release/${ENV_SUM_FILE}`, `${envDigest(env)}  ${ENV_FILE}\n`, 0o600)
  add(`release/${RELEASE_FILE}`, `${JSON.stringify(record, null, 2)}\n`, 0o644)
  add(`release/${SUMS_FILE}`, fileSums(render), 0o644)
  for (const file of render.files) add(file.path, file.content, parseInt(file.mode, 8))
  archive.finalize()
  await done
  return Buffer.concat(chunks)
}
