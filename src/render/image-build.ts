// Images built from source: what a build sends (the context's files, less those .dockerignore
// excludes), the digest of it, and the ref the render pins. Reads the context like templates/ are
// read; writes nothing. The images service sends the same file list it hashes.
import { createHash } from 'node:crypto'
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Project, Service } from '../config/model.js'

export interface ContextEntry {
  /** Relative to the context, '/'-separated. */
  path: string
  kind: 'file' | 'symlink'
  /** Permission bits (mode & 0o7777). */
  mode: number
  /** A file's sha256; a link's target text. */
  content: string
}

export interface ImageBuild {
  /** `<image_registry>/<name>:src-<first 16 hex of digest>`. */
  ref: string
  repository: string
  tag: string
  /** sha256 over the entries, the Dockerfile's path and the args. */
  digest: string
  /** Absolute. */
  context: string
  /** Relative to the context. */
  dockerfile: string
  args: Record<string, string>
  entries: ContextEntry[]
  /** The services that run this image, sorted. */
  services: string[]
}

const DIGEST_VERSION = 'ai-platform-build-1'

/**
 * One build per distinct ref: services with the same context, Dockerfile, args and name share it.
 * Each context is read once per call. Throws on an unreadable context (validation checked it exists).
 */
export function imageBuilds(project: Project, serviceNames?: readonly string[]): ImageBuild[] {
  const registry = project.platform.imageRegistry
  const contexts = new Map<string, ContextEntry[]>()
  const builds = new Map<string, ImageBuild>()
  const services = Object.values(project.services)
    .filter((s): s is Service & { build: NonNullable<Service['build']> } => s.build !== undefined)
    .filter((s) => !serviceNames || serviceNames.includes(s.name))
    .sort((a, b) => a.name.localeCompare(b.name))
  for (const service of services) {
    if (registry === undefined) throw new Error(`bug: ${service.name} builds from source with no image_registry`)
    const { build } = service
    const context = resolve(project.dir, build.context)
    const key = `${context}\0${build.dockerfile}`
    let entries = contexts.get(key)
    if (!entries) {
      entries = contextEntries(context, build.dockerfile)
      contexts.set(key, entries)
    }
    const digest = buildDigest(entries, build.dockerfile, build.args)
    const repository = `${registry}/${build.name}`
    const tag = `src-${digest.slice(0, 16)}`
    const ref = `${repository}:${tag}`
    const known = builds.get(ref)
    if (known) known.services.push(service.name)
    else
      builds.set(ref, {
        ref,
        repository,
        tag,
        digest,
        context,
        dockerfile: build.dockerfile,
        args: { ...build.args },
        entries,
        services: [service.name],
      })
  }
  return [...builds.values()]
}

/** Service name -> the ref the render pins as its image. */
export function pinnedImages(builds: readonly ImageBuild[]): Map<string, string> {
  return new Map(builds.flatMap((b) => b.services.map((s) => [s, b.ref] as const)))
}

/**
 * sha256 over each entry (path, kind, mode, content), the Dockerfile's path and the args, sorted. A
 * file's mtime, owner and the files .dockerignore excludes are not part of it.
 */
export function buildDigest(
  entries: readonly ContextEntry[],
  dockerfile: string,
  args: Readonly<Record<string, string>>,
): string {
  const hash = createHash('sha256').update(`${DIGEST_VERSION}\n`)
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    hash.update(`${e.kind}\0${e.path}\0${e.mode.toString(8)}\0${e.content}\n`)
  hash.update(`dockerfile\0${dockerfile}\n`)
  for (const name of Object.keys(args).sort()) hash.update(`arg\0${name}\0${args[name]}\n`)
  return hash.digest('hex')
}

/**
 * The files and symbolic links under `context` that a build sends: all but those its .dockerignore
 * excludes, and always the Dockerfile (Docker sends it whatever .dockerignore says). Directories
 * themselves, sockets and fifos are not entries.
 */
export function contextEntries(context: string, dockerfile: string): ContextEntry[] {
  let ignore: IgnoreRule[] = []
  try {
    ignore = parseDockerignore(readFileSync(join(context, '.dockerignore'), 'utf8'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const dockerfilePath = dockerfile
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/')
  const entries: ContextEntry[] = []
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = prefix === '' ? name : `${prefix}/${name}`
      const abs = join(dir, name)
      const info = lstatSync(abs)
      if (info.isDirectory()) {
        walk(abs, path)
        continue
      }
      if (path !== dockerfilePath && isIgnored(path, ignore)) continue
      const mode = info.mode & 0o7777
      if (info.isSymbolicLink()) entries.push({ path, kind: 'symlink', mode, content: readlinkSync(abs) })
      else if (info.isFile())
        entries.push({
          path,
          kind: 'file',
          mode,
          content: createHash('sha256').update(readFileSync(abs)).digest('hex'),
        })
    }
  }
  walk(context, '')
  return entries
}

export interface IgnoreRule {
  exclude: boolean
  pattern: RegExp
}

/**
 * .dockerignore as Docker reads its common forms: one pattern a line, `#` comments, `!` re-includes,
 * `*` and `?` within one path component, `**` across components; a pattern naming a directory
 * excludes everything under it. The last matching line decides.
 */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = []
  for (const raw of text.split('\n')) {
    let line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const exclude = !line.startsWith('!')
    if (!exclude) line = line.slice(1).trim()
    const clean = line
      .split('/')
      .filter((p) => p !== '' && p !== '.')
      .join('/')
    if (clean === '') continue
    rules.push({ exclude, pattern: new RegExp(`^${globToRegex(clean)}(?:/.*)?$`) })
  }
  return rules
}

function globToRegex(glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/'
      out += slash ? '(?:.*/)?' : '.*'
      i += slash ? 2 : 1
    } else if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return out
}

export function isIgnored(path: string, rules: readonly IgnoreRule[]): boolean {
  let ignored = false
  for (const rule of rules) if (rule.pattern.test(path)) ignored = rule.exclude
  return ignored
}
