// The loader's input types come from schemas/ (tools/schema-types.ts): a schema changed without
// regenerating fails here, and so does an emitter that drops a form the schemas use.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { emitSchemaTypes, GENERATED_PATH, readSchemas } from '../../../tools/schema-types.js'
import { REPO } from '../../helpers/project.js'

describe('types generated from the JSON Schemas', () => {
  it(`${GENERATED_PATH} is what tools/schema-types.ts writes from schemas/`, () => {
    expect(readFileSync(join(REPO, GENERATED_PATH), 'utf8')).toBe(emitSchemaTypes(readSchemas(REPO)))
  })

  it('emits each form the schemas use, and the defaults they declare', () => {
    const schema = {
      title: 'mini',
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      patternProperties: { '^x-': {} },
      properties: {
        name: { $ref: '#/definitions/name', description: 'What it is called.' },
        mode: { enum: ['ro', 'rw'], default: 'ro' },
        count: { oneOf: [{ type: 'integer' }, { const: 'all' }], default: 1 },
        ports: { type: 'array', items: { type: ['string', 'integer'] } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object' },
        'x-meta': {
          type: 'object',
          additionalProperties: false,
          properties: { on: { $ref: 'other.schema.json#/definitions/selector' } },
        },
        keep: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, properties: { days: { type: 'integer', default: 7 } } },
        },
      },
      definitions: { name: { type: 'string', pattern: '^[a-z]+$' } },
    }
    const other = {
      definitions: {
        selector: { type: 'object', additionalProperties: false, properties: { all: { type: 'boolean' } } },
      },
    }
    const text = emitSchemaTypes([
      { file: 'mini.schema.json', prefix: 'Mini', schema },
      { file: 'other.schema.json', prefix: 'Other', schema: other },
    ])
    expect(text).toContain(
      [
        'export interface MiniDocument {',
        '  /** What it is called. */',
        '  name: MiniName',
        '  /** @default "ro" */',
        "  mode?: 'ro' | 'rw'",
        '  /** @default 1 */',
        "  count?: number | 'all'",
        '  ports?: (string | number)[]',
        '  labels?: Record<string, string>',
        '  extra?: Record<string, unknown>',
        "  'x-meta'?: {",
        '    on?: OtherSelector',
        '  }',
        '  keep?: {',
        '    /** @default 7 */',
        '    days?: number',
        '  }[]',
        '  [key: `x-${string}`]: unknown',
        '}',
        '',
        'export type MiniName = string',
      ].join('\n'),
    )
    expect(text).toContain(
      "export const MINI_DEFAULTS = {\n  'mode': 'ro',\n  'count': 1,\n  'keep[].days': 7,\n} as const",
    )
    expect(text).toContain('export interface OtherSelector {\n  all?: boolean\n}')
  })
})
