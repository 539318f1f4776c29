// What a build and a push print, from the engine (JSON lines) or the CLI (text): untrusted host output,
// reduced to printable lines; an `error` is the failure's own words.
import { printable } from '../util/printable.js'

/** One line of output for the terminal: escape sequences dropped, other control characters escaped, cut to 300. */
export function outputLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- dropping terminal escape sequences is the point
  const plain = text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]|\r/g, '').trimEnd()
  const line = printable(plain)
  return line.length > 300 ? `${line.slice(0, 300)}...` : line
}

export interface EngineMessage {
  /** Lines to show. */
  lines: string[]
  /** The failure, when the engine reports one. */
  error?: string
}

/**
 * One JSON line of the engine's build or push stream: {stream}, {status, id, progress}, {error,
 * errorDetail}, {aux}. A line that is not a JSON object is shown as text, never trusted as a result.
 */
export function engineMessage(line: string): EngineMessage {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { lines: [outputLine(line)].filter((l) => l !== '') }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { lines: [] }
  const event = value as Record<string, unknown>
  const detail = event.errorDetail as { message?: unknown } | undefined
  const error =
    typeof event.error === 'string' ? event.error : typeof detail?.message === 'string' ? detail.message : undefined
  if (error !== undefined) return { lines: [], error: outputLine(error) }
  const text =
    typeof event.stream === 'string'
      ? event.stream
      : typeof event.status === 'string'
        ? `${typeof event.id === 'string' ? `${event.id}: ` : ''}${event.status}`
        : ''
  return {
    lines: text
      .split('\n')
      .map(outputLine)
      .filter((l) => l !== ''),
  }
}
