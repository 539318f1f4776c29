// Reading the user's YAML with positions, so every problem can say file:line:col.
import { readFile, stat } from 'node:fs/promises'
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { Issue } from '../errors.js'

/** Larger files are refused before they are read: no inventory or stack is anywhere near this. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024

export type PathSegment = string | number

export interface SourceFile {
  /** Path as shown to the user (relative to the project directory). */
  display: string
  text: string
  doc: Document
  lines: LineCounter
}

export type ReadResult = { ok: true; source: SourceFile; value: unknown } | { ok: false; issues: Issue[] }

export async function readYamlFile(absPath: string, display: string): Promise<ReadResult> {
  let size: number
  try {
    size = (await stat(absPath)).size
  } catch (error) {
    return { ok: false, issues: [fileIssue(display, `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)] }
  }
  if (size > MAX_FILE_BYTES) {
    return {
      ok: false,
      issues: [fileIssue(display, 'file is too large', `at most ${formatBytes(MAX_FILE_BYTES)}`, formatBytes(size))],
    }
  }
  const bytes = await readFile(absPath)
  return parseYamlText(bytes, display)
}

export function parseYamlText(bytes: Uint8Array, display: string): ReadResult {
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
      issues: [{ file: display, line: pos.line, col: pos.col, path: '', message: 'file is not valid UTF-8', allowed: 'UTF-8 text', got: 'an invalid byte sequence', severity: 'error' }],
    }
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true })
  const issues: Issue[] = []
  for (const error of doc.errors) {
    const pos = lines.linePos(error.pos[0])
    issues.push({ file: display, line: pos.line, col: pos.col, path: '', message: `invalid YAML: ${firstLine(error.message)}`, severity: 'error' })
  }
  if (issues.length > 0) return { ok: false, issues }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 1000 })
  } catch (error) {
    return { ok: false, issues: [fileIssue(display, `invalid YAML: ${firstLine((error as Error).message)}`)] }
  }
  const source: SourceFile = { display, text, doc, lines }
  for (const warning of doc.warnings) {
    const pos = lines.linePos(warning.pos[0])
    issues.push({ file: display, line: pos.line, col: pos.col, path: '', message: firstLine(warning.message), severity: 'warning' })
  }
  return { ok: true, source, value }
}

/** Position of the node at `path` (or of its key when `key` is set); falls back to the nearest existing parent. */
export function locate(source: SourceFile, path: readonly PathSegment[], key = false): { line: number; col: number } {
  let node: unknown = source.doc.contents
  let best: Node | null = (node as Node | null) ?? null
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment))
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
  extra: { allowed?: string; got?: string; key?: boolean; severity?: 'error' | 'warning'; display?: readonly PathSegment[] } = {},
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

export function formatPath(path: readonly PathSegment[]): string {
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
  return String(value)
}

function fileIssue(display: string, message: string, allowed?: string, got?: string): Issue {
  const issue: Issue = { file: display, line: 1, col: 1, path: '', message, severity: 'error' }
  if (allowed !== undefined) issue.allowed = allowed
  if (got !== undefined) issue.got = got
  return issue
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim()
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} B`
}
