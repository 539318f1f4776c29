import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { emitYaml } from '../../../src/render/yaml-emit.js'

describe('the compose YAML emitter', () => {
  it('writes sorted block YAML, quoting what YAML 1.1 would misread', () => {
    expect(
      emitYaml({
        services: {
          web: {
            ports: ['22:22', '8080:80'],
            restart: 'no',
            environment: { B: 'on', A: '${SECRET}', C: '0644', D: 3 },
            command: [],
          },
        },
        volumes: {},
      }),
    ).toBe(
      [
        'services:',
        '  web:',
        '    command: []',
        '    environment:',
        '      A: "${SECRET}"',
        '      B: "on"',
        '      C: "0644"',
        '      D: 3',
        '    ports:',
        '      - "22:22"',
        '      - "8080:80"',
        '    restart: "no"',
        'volumes: {}',
        '',
      ].join('\n'),
    )
  })

  it('lists of mappings and literal blocks for scripts', () => {
    const text = emitYaml({
      d: [{ driver: 'nvidia', capabilities: ['gpu'], count: 'all' }],
      script: 'set -e\nexec postgres\n',
    })
    expect(text).toBe(
      [
        'd:',
        '  - capabilities:',
        '      - gpu',
        '    count: all',
        '    driver: nvidia',
        'script: |',
        '  set -e',
        '  exec postgres',
        '',
      ].join('\n'),
    )
  })

  it('round-trips any plain data under YAML 1.2 and 1.1', () => {
    const key = fc.string({ minLength: 1, maxLength: 8 })
    const leaf = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'yes',
        'No',
        'on',
        '~',
        'null',
        '1:30',
        '0o17',
        '1e3',
        '.5',
        '-',
        '- a',
        ': x',
        '#c',
        'a #b',
        'multi\nline\n',
        'x\n',
        ' lead',
        'trail ',
        '\ttab',
        '${X}',
        '{{a}}',
        "'q'",
        '"d"',
      ),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    )
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 5 }), (doc) => {
        const text = emitYaml(doc)
        const normalized = JSON.parse(JSON.stringify(doc, (_k, v) => (Object.is(v, -0) ? 0 : v)))
        expect(parse(text)).toEqual(normalized)
        expect(parse(text, { version: '1.1' })).toEqual(normalized)
      }),
      { numRuns: 2000, seed: 42 },
    )
  })
})
