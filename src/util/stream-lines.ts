// The lines of a stream as they come: UTF-8 decoded across chunk boundaries, `\n` (or `\r\n`) ended;
// a last line without its newline is yielded only when asked (a stream cut mid-line is otherwise the
// caller's to notice: its final message never came). A line past `maxBytes` is refused (LineTooLong) rather
// than buffered: what a host streams is untrusted, and a newline may never come.
import { StringDecoder } from 'node:string_decoder'

export class LineTooLong extends Error {
  constructor(readonly maxBytes: number) {
    super(`a line longer than ${maxBytes / (1024 * 1024)} MiB`)
  }
}

export interface StreamLinesOptions {
  /** Called as each chunk arrives (a stall timer's heartbeat). */
  onChunk?: () => void
  maxBytes?: number
  /** Yield a last line that has no newline (default: drop it). */
  unterminated?: boolean
}

export async function* streamLines(
  stream: AsyncIterable<Buffer | string>,
  options: StreamLinesOptions = {},
): AsyncGenerator<string> {
  const maxBytes = options.maxBytes ?? 1024 * 1024
  const decoder = new StringDecoder('utf8')
  let buffer = ''
  for await (const chunk of stream) {
    options.onChunk?.()
    buffer += typeof chunk === 'string' ? chunk : decoder.write(chunk)
    let newline: number
    while ((newline = buffer.indexOf('\n')) >= 0) {
      yield buffer.slice(0, newline).replace(/\r$/, '')
      buffer = buffer.slice(newline + 1)
    }
    if (buffer.length > maxBytes) throw new LineTooLong(maxBytes)
  }
  buffer += decoder.end()
  if (options.unterminated && buffer !== '') yield buffer
}
