// What a host sends reaches the terminal only through these: no control sequence, no bidi override.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonSafe, printable, quoted, terminalSafe } from '../../../src/util/printable.js'

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/

describe('printable', () => {
  it.each([
    ['set title', '\u001b]0;pwned\u0007', '\\x1b]0;pwned\\x07'],
    ['erase line', 'ok\u001b[2K\rFAILED', 'ok\\x1b[2K\\x0dFAILED'],
    [
      'OSC 8 link',
      '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\',
      '\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\',
    ],
    ['bidi override', 'release \u202eexe.txt', 'release \\u{202e}exe.txt'],
    ['C1 CSI', 'a\u009b2Jb', 'a\\x9b2Jb'],
    ['newlines and tabs kept', 'a\n\tb', 'a\n\tb'],
    ['plain text', 'erebus: deployed 20261130T010203Z-ab', 'erebus: deployed 20261130T010203Z-ab'],
  ])('%s', (_name, input, output) => {
    expect(printable(input)).toBe(output)
  })

  it('leaves nothing a terminal would act on, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(UNSAFE.test(printable(text))).toBe(false)
      }),
      { numRuns: 3000, seed: 8 },
    )
  })
})

describe('terminalSafe', () => {
  it("keeps ai-platform's own colours (SGR) and escapes every other sequence", () => {
    expect(terminalSafe('\u001b[32mok\u001b[39m \u001b]0;t\u0007 \u001b[2J')).toBe(
      '\u001b[32mok\u001b[39m \\x1b]0;t\\x07 \\x1b[2J',
    )
  })

  it('for any text, an ESC survives only as the start of an SGR sequence', () => {
    const unit = fc.oneof(
      fc.constantFrom('\u001b', '[', ']', 'm', ';', '0', '3', '\u0007', '\u202e', 'a', '\n'),
      fc.string({ unit: 'binary', maxLength: 2 }),
    )
    fc.assert(
      fc.property(
        fc.array(unit, { maxLength: 30 }).map((parts) => parts.join('')),
        (text) => {
          const out = terminalSafe(text)
          // eslint-disable-next-line no-control-regex
          expect(UNSAFE.test(out.replace(/\u001b\[[0-9;]*m/g, ''))).toBe(false)
        },
      ),
      { numRuns: 3000, seed: 9 },
    )
  })
})

describe('quoted and jsonSafe', () => {
  it('quotes one line of host text, escaped and cut', () => {
    expect(quoted('a "b"\\c\nd\u001b[1m')).toBe('"a \\"b\\"\\\\c\\nd\\x1b[1m"')
    expect(quoted('x'.repeat(10), 4)).toBe('"xxxx"...')
  })

  it('JSON keeps its value, with C1 and bidi characters written as \\u escapes', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.string({ unit: fc.constantFrom('\u0085', '\u202e', '\u2028', '\u009b', 'a'), maxLength: 8 }),
        (value, extra) => {
          const json = jsonSafe(JSON.stringify({ value, extra }, null, 2))
          expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ value, extra })))
          expect(/[\u007f-\u009f\u202e\u2028]/.test(json)).toBe(false)
        },
      ),
      { numRuns: 1000, seed: 10 },
    )
  })
})
