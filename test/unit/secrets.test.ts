import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { Platform } from '../../src/config/model.js'
import { ConfigError, UserError } from '../../src/errors.js'
import {
  envFileFor,
  generateSecret,
  initSecrets,
  parseSecrets,
  readSecrets,
  redact,
  redactor,
} from '../../src/secrets/secrets.js'

const platform = {
  secrets: {
    A_KEY: { name: 'A_KEY', generate: true, length: 32, prefix: 'sk-', optional: false },
    B_PASS: { name: 'B_PASS', generate: true, length: 20, prefix: '', optional: false },
    CLOUD: { name: 'CLOUD', generate: false, length: 32, prefix: '', optional: false },
    MAYBE: { name: 'MAYBE', generate: false, length: 32, prefix: '', optional: true },
  },
} as unknown as Platform

let dir = ''
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('secrets', () => {
  it('generates strong values with the declared prefix and length', () => {
    const values = new Set(Array.from({ length: 200 }, () => generateSecret({ length: 32, prefix: 'sk-' })))
    expect(values.size).toBe(200)
    for (const v of values) expect(v).toMatch(/^sk-[A-Za-z0-9]{32}$/)
  })

  it('init fills what is missing, never overwrites, writes mode 0600', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aip-secrets-'))
    await writeFile(join(dir, 'secrets.env'), '# mine\nB_PASS=keepme\n', { mode: 0o644 })
    const result = await initSecrets({ dir, platform })
    expect(result).toMatchObject({ created: ['A_KEY'], kept: ['B_PASS'], toSupply: ['CLOUD'] })
    const text = await readFile(join(dir, 'secrets.env'), 'utf8')
    expect(text.startsWith('# mine\nB_PASS=keepme\nA_KEY=sk-')).toBe(true)
    expect((await stat(join(dir, 'secrets.env'))).mode & 0o777).toBe(0o600)
    const again = await initSecrets({ dir, platform })
    expect(again.created).toEqual([])
    expect(await readFile(join(dir, 'secrets.env'), 'utf8')).toBe(text)
  })

  it('takes every printable character as written, refuses control characters by position, without echoing the value', () => {
    const text =
      "A=1111\n# c\n\nB='two2'\nC=\"x/y+z=\"\nD=has space # and a hash\nE=$(rm) ${X} $HOME !&*\nF=\" padded \"\nG='it's'\n"
    expect([...parseSecrets(text, 's').values]).toEqual([
      ['A', '1111'],
      ['B', 'two2'],
      ['C', 'x/y+z='],
      ['D', 'has space # and a hash'],
      ['E', '$(rm) ${X} $HOME !&*'],
      ['F', ' padded '],
      ['G', "it's"],
    ])
    const { issues } = parseSecrets(
      'A=tab\there\nB=bell\u0007\nnot a line\nA=again\nC=42\nD=\nE=ok\u0085no\n',
      'secrets.env',
    )
    expect(issues.map((i) => [i.line, i.message])).toEqual([
      [1, 'the value holds a control character (U+0009) at character 4'],
      [2, 'the value holds a control character (U+0007) at character 5'],
      [3, 'not a NAME=value line'],
      [5, 'the value is too short to be a secret, or to be masked in output'],
      [7, 'the value holds a control character (U+0085) at character 3'],
    ])
    expect(JSON.stringify(issues)).not.toContain('here')
    expect(JSON.stringify(issues)).not.toContain('bell')
  })

  it('a bad secrets file is a located user error', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aip-secrets-'))
    await writeFile(join(dir, 'secrets.env'), 'A_KEY=okay\nB_PASS=bad\tvalue\n', { mode: 0o600 })
    await expect(readSecrets({ dir })).rejects.toBeInstanceOf(ConfigError)
  })

  it('a host .env holds exactly its secrets; a missing one is named with the fix', () => {
    const values = new Map([
      ['A_KEY', 'sk-1'],
      ['B_PASS', 'p'],
    ])
    expect(envFileFor(['A_KEY', 'MAYBE'], values, { platform }, 'h')).toBe("A_KEY='sk-1'\nMAYBE=''\n")
    expect(envFileFor(['A_KEY'], new Map([['A_KEY', "it's $HOME"]]), { platform }, 'h')).toBe(
      "A_KEY='it'\\''s $HOME'\n",
    )
    expect(() => envFileFor(['CLOUD', 'B_PASS'], values, { platform }, 'h')).toThrow(UserError)
    expect(() => envFileFor(['CLOUD', 'B_PASS'], values, { platform }, 'h')).toThrow(
      'host h needs secrets that secrets.env does not define: CLOUD',
    )
  })

  it('redacts every value wherever it stands, longest first', () => {
    expect(redact('pw=abcdef and abcdefgh and abc, and abcx', ['abcdef', 'abcdefgh', 'abc'])).toBe(
      'pw=*** and *** and ***, and ***x',
    )
  })

  it('redacts the encoded forms a value travels in: URL-encoded, JSON-escaped, base64 at any alignment', () => {
    const secret = 'p@ss w/rd"é+1'
    const url = `postgresql://app:${encodeURIComponent(secret)}@db:5432/x`
    expect(redact(url, [secret])).toBe('postgresql://app:***@db:5432/x')
    expect(redact(JSON.stringify({ password: secret }), [secret])).toBe('{"password":"***"}')
    fc.assert(
      fc.property(
        fc.string({ minLength: 6, maxLength: 40 }),
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        (value, before, after) => {
          const mask = redactor([value])
          for (const encoded of [
            Buffer.from(before + value + after).toString('base64'),
            Buffer.from(before + value + after).toString('base64url'),
          ]) {
            expect(mask(encoded)).not.toBe(encoded)
          }
          expect(mask(`${before}${value}${after}`)).not.toContain(value)
        },
      ),
      { numRuns: 2000, seed: 11 },
    )
  })

  it('a secrets file others can read is refused, as ssh refuses such a key; secrets init makes it private', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aip-secrets-'))
    await writeFile(join(dir, 'secrets.env'), 'A_KEY=sk-1\n', { mode: 0o644 })
    await expect(readSecrets({ dir })).rejects.toThrow(
      `${join(dir, 'secrets.env')} can be read by others (mode 0644): secret values must be private to you`,
    )
    await initSecrets({ dir, platform })
    expect((await readSecrets({ dir })).values.get('A_KEY')).toBe('sk-1')
  })
})
