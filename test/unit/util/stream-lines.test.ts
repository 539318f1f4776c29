// The one line splitter for streams a host sends (image pulls and builds, Ollama pulls).
import { describe, expect, it } from 'vitest'
import { LineTooLong, streamLines } from '../../../src/util/stream-lines.js'

async function lines(chunks: (Buffer | string)[], options = {}): Promise<string[]> {
  const out: string[] = []
  for await (const line of streamLines(
    (async function* () {
      yield* chunks
    })(),
    options,
  ))
    out.push(line)
  return out
}

describe('streamLines', () => {
  it('keeps a UTF-8 character split across chunks whole, and ends lines at \\n or \\r\\n', async () => {
    const text = Buffer.from('{"status":"pulling ü"}\r\n{"b":2}\n', 'utf8')
    const at = text.indexOf(0xc3) + 1 // between the two bytes of ü
    expect(await lines([text.subarray(0, at), text.subarray(at)])).toEqual(['{"status":"pulling ü"}', '{"b":2}'])
  })

  it('a last line without its newline only when asked', async () => {
    expect(await lines(['a\nb'])).toEqual(['a'])
    expect(await lines(['a\nb'], { unterminated: true })).toEqual(['a', 'b'])
  })

  it('refuses a line longer than the bound instead of buffering it, and counts chunks', async () => {
    let chunks = 0
    await expect(lines(['x'.repeat(10), 'y'.repeat(10)], { maxBytes: 15, onChunk: () => chunks++ })).rejects.toThrow(
      LineTooLong,
    )
    expect(chunks).toBe(2)
    expect(await lines(['x'.repeat(10) + '\n', 'y'.repeat(10) + '\n'], { maxBytes: 15 })).toHaveLength(2)
  })
})
