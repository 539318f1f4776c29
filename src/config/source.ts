// Reading the user's YAML with positions, so every problem can say file:line:col.
import { createHash, randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { Issue } from '../errors.js'
import { fileIssue, withCode, type ConfigIssue, type IssueCode } from './issues.js'

/** Larger files are refused before they are read: no inventory or stack is anywhere near this. */
const MAX_FILE_BYTES = 4 * 1024 * 1024

export type PathSegment = string | number

export interface SourceFile {
  /** Path as shown to the user (relative to the project directory). */
  display: string
  text: string
  /** The parsed document with positions; built on first use when the value came from the cache. */
  readonly doc: Document
  readonly lines: LineCounter
}

export type ReadResult =
  { ok: true; source: SourceFile; value: unknown; warnings: ConfigIssue[] } | { ok: false; issues: ConfigIssue[] }

const PARSE_OPTIONS = { merge: true, prettyErrors: false, uniqueKeys: true } as const

function lazySource(display: string, text: string): SourceFile {
  let parsed: { doc: Document; lines: LineCounter } | undefined
  const parse = () => {
    if (!parsed) {
      const lines = new LineCounter()
      parsed = { doc: parseDocument(text, { ...PARSE_OPTIONS, lineCounter: lines }), lines }
    }
    return parsed
  }
  return {
    display,
    text,
    get doc() {
      return parse().doc
    },
    get lines() {
      return parse().lines
    },
  }
}

/**
 * Parsed values of files that parsed cleanly, keyed by a hash of their text: YAML parsing is the
 * largest cost of a cold start. Positions are parsed again only when a problem must be located.
 * $AIP_CACHE_DIR (default $XDG_CACHE_HOME/ai-platform); AIP_NO_CACHE=1 turns it off.
 */
function cacheDir(): string | null {
  if (process.env.AIP_NO_CACHE === '1') return null
  return (
    process.env.AIP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ai-platform', 'yaml-v1')
  )
}

/**
 * Only a cache no one else can write is used: what it holds becomes the platform's configuration. The
 * directory and the entry must be ours and not group- or world-writable, and the entry must name the
 * text it was parsed from and have the shape writeCache() gives it.
 */
function ours(info: { uid: number; mode: number }): boolean {
  const uid = process.getuid?.()
  return (uid === undefined || info.uid === uid) && (info.mode & 0o022) === 0
}

async function trustedCacheDir(): Promise<string | null> {
  const dir = cacheDir()
  if (!dir) return null
  try {
    const info = await lstat(dir)
    return info.isDirectory() && ours(info) ? dir : null
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? dir : null
  }
}

// Warnings are the parser's only (code yaml-warning): the entry keeps neither file nor code.
type CacheEntry = { key: string; value: unknown; warnings: Omit<Issue, 'file'>[] }

function isEntry(data: unknown, key: string): data is CacheEntry {
  if (data === null || typeof data !== 'object') return false
  const entry = data as Partial<CacheEntry>
  return (
    entry.key === key &&
    'value' in entry &&
    Array.isArray(entry.warnings) &&
    entry.warnings.every(
      (w) =>
        w !== null &&
        typeof w === 'object' &&
        typeof w.message === 'string' &&
        Number.isInteger(w.line) &&
        Number.isInteger(w.col),
    )
  )
}

async function readCache(text: string): Promise<{ key: string; dir: string; hit: CacheEntry | null } | null> {
  const dir = await trustedCacheDir()
  if (!dir) return null
  const key = createHash('sha256').update(text).digest('hex')
  try {
    const handle = await open(join(dir, `${key}.json`), constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      const info = await handle.stat()
      if (!info.isFile() || !ours(info)) return { key, dir, hit: null }
      const data: unknown = JSON.parse(await handle.readFile('utf8'))
      return { key, dir, hit: isEntry(data, key) ? data : null }
    } finally {
      await handle.close()
    }
  } catch {
    return { key, dir, hit: null }
  }
}

async function writeCache(dir: string, key: string, value: unknown, warnings: ConfigIssue[]): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    let exact = true
    const json = JSON.stringify(
      { key, value, warnings: warnings.map(({ file: _file, code: _code, ...rest }) => rest) },
      (_key, v: unknown) => {
        if (typeof v === 'number' && !Number.isFinite(v)) exact = false // .inf and .nan do not survive JSON
        return v
      },
    )
    if (!exact) return
    const temp = join(dir, `.${key}.${randomBytes(4).toString('hex')}`)
    await writeFile(temp, json, { mode: 0o600 })
    await rename(temp, join(dir, `${key}.json`))
  } catch {
    // A cache that cannot be written only costs time.
  }
}

export async function readYamlFile(absPath: string, display: string): Promise<ReadResult> {
  const unreadable = (error: unknown): ReadResult => ({
    ok: false,
    issues: [
      fileIssue(
        'file-unreadable',
        display,
        `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      ),
    ],
  })
  let size: number
  try {
    size = (await stat(absPath)).size
  } catch (error) {
    return unreadable(error)
  }
  if (size > MAX_FILE_BYTES) {
    return {
      ok: false,
      issues: [
        fileIssue('file-too-large', display, 'file is too large', {
          allowed: `at most ${formatBytes(MAX_FILE_BYTES)}`,
          got: formatBytes(size),
        }),
      ],
    }
  }
  let bytes: Buffer
  try {
    bytes = await readFile(absPath)
  } catch (error) {
    // A directory named like a YAML file, or a file that went away since stat.
    return unreadable(error)
  }
  let text: string | null = null
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    // parseYamlText reports where the bad bytes are.
  }
  const cached = text !== null ? await readCache(text) : null
  if (text !== null && cached?.hit) {
    return {
      ok: true,
      source: lazySource(display, text),
      value: cached.hit.value,
      warnings: cached.hit.warnings.map((w) => withCode({ ...w, file: display }, 'yaml-warning')),
    }
  }
  const result = parseYamlText(bytes, display)
  if (result.ok && cached) await writeCache(cached.dir, cached.key, result.value, result.warnings)
  return result
}

function parseYamlText(bytes: Uint8Array, display: string): ReadResult {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes)
    const at = lossy.indexOf('\uFFFD')
    const lines = new LineCounter()
    let offset = 0
    for (const line of lossy.split('\n')) {
      lines.addNewLine(offset)
      offset += line.length + 1
    }
    const pos = lines.linePos(Math.max(at, 0))
    return {
      ok: false,
      issues: [
        {
          code: 'not-utf8',
          file: display,
          line: pos.line,
          col: pos.col,
          path: '',
          message: 'file is not valid UTF-8',
          allowed: 'UTF-8 text',
          got: 'an invalid byte sequence',
          severity: 'error',
        },
      ],
    }
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter: lines })
  const issues: ConfigIssue[] = []
  for (const error of doc.errors) {
    const pos = lines.linePos(error.pos[0])
    issues.push({
      code: 'invalid-yaml',
      file: display,
      line: pos.line,
      col: pos.col,
      path: '',
      message: `invalid YAML: ${firstLine(error.message)}`,
      severity: 'error',
    })
  }
  if (issues.length > 0) return { ok: false, issues }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 1000 })
  } catch (error) {
    return {
      ok: false,
      issues: [fileIssue('invalid-yaml', display, `invalid YAML: ${firstLine((error as Error).message)}`)],
    }
  }
  const source: SourceFile = { display, text, doc, lines }
  const warnings: ConfigIssue[] = doc.warnings.map((warning) => {
    const pos = lines.linePos(warning.pos[0])
    return {
      code: 'yaml-warning',
      file: display,
      line: pos.line,
      col: pos.col,
      path: '',
      message: firstLine(warning.message),
      severity: 'warning' as const,
    }
  })
  return { ok: true, source, value, warnings }
}

/** Position of the node at `path` (or of its key when `key` is set); falls back to the nearest existing parent. */
function locate(source: SourceFile, path: readonly PathSegment[], key = false): { line: number; col: number } {
  let node: unknown = source.doc.contents
  let best: Node | null = (node as Node | null) ?? null
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      )
      if (!pair) break
      if (last && key && pair.key) {
        best = pair.key as Node
        break
      }
      node = pair.value
      if (node) best = node as Node
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment]
      if (!node) break
      best = node as Node
    } else {
      break
    }
  }
  const offset = best?.range?.[0] ?? 0
  return source.lines.linePos(offset)
}

export function issueAt(
  source: SourceFile,
  path: readonly PathSegment[],
  message: string,
  extra: {
    allowed?: string
    got?: string
    key?: boolean
    severity?: 'error' | 'warning'
    display?: readonly PathSegment[]
  } = {},
): Issue {
  const pos = locate(source, path, extra.key ?? false)
  const issue: Issue = {
    file: source.display,
    line: pos.line,
    col: pos.col,
    path: formatPath(extra.display ?? path),
    message,
    severity: extra.severity ?? 'error',
  }
  if (extra.allowed !== undefined) issue.allowed = extra.allowed
  if (extra.got !== undefined) issue.got = extra.got
  return issue
}

/** issueAt for the loader's own rules: the issue carries the code of the rule that found it. */
export function configIssueAt(
  code: IssueCode,
  source: SourceFile,
  path: readonly PathSegment[],
  message: string,
  extra: Parameters<typeof issueAt>[3] = {},
): ConfigIssue {
  return withCode(issueAt(source, path, message, extra), code)
}

function formatPath(path: readonly PathSegment[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`
    else out += `[${JSON.stringify(segment)}]`
  }
  return out
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return typeof value
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim()
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} B`
}
