import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { quoteWord, shellQuote } from '../../../src/remote/quote.js'

describe('shell quoting', () => {
  it.each([
    ['plain', 'plain'],
    ['/opt/ai-platform', '/opt/ai-platform'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$(reboot)', "'$(reboot)'"],
    ['`id`', "'`id`'"],
    ['a;b', "'a;b'"],
    ['line\nbreak', "'line\nbreak'"],
    ['../../etc', '../../etc'],
  ])('quoteWord(%j) = %s', (word, quoted) => {
    expect(quoteWord(word)).toBe(quoted)
  })

  it('a real shell receives exactly the original words, executing nothing', () => {
    const hostile = [
      '$(touch /tmp/aip-pwned)',
      '`touch /tmp/aip-pwned`',
      "'; touch /tmp/aip-pwned; '",
      'a\nb',
      '"$HOME"',
      '*',
      '~',
      '\\',
      '',
    ]
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${shellQuote(hostile)}`])
    expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(hostile)
  })
})
