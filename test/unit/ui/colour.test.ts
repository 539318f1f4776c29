import { describe, expect, it } from 'vitest'
import { colourLevel } from '../../../src/ui/colour.js'

describe('colourLevel', () => {
  it('NO_COLOR set and non-empty turns colour off, even with FORCE_COLOR', () => {
    expect(colourLevel({ NO_COLOR: '1' }, 3)).toBe(0)
    expect(colourLevel({ NO_COLOR: 'false', FORCE_COLOR: '1' }, 1)).toBe(0)
  })

  it("an empty or missing NO_COLOR leaves chalk's choice (FORCE_COLOR, the terminal)", () => {
    expect(colourLevel({ NO_COLOR: '' }, 2)).toBe(2)
    expect(colourLevel({}, 1)).toBe(1)
    expect(colourLevel({}, 0)).toBe(0)
  })
})
