import { createHash } from 'node:crypto'
import { chmod, chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { issueAt, readYamlFile } from '../../../src/config/source.js'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aip-cache-'))
  process.env.AIP_CACHE_DIR = join(dir, 'cache')
})
afterEach(async () => {
  delete process.env.AIP_CACHE_DIR
  delete process.env.AIP_NO_CACHE
  await rm(dir, { recursive: true, force: true })
})

describe('the parsed-YAML cache', () => {
  it('stores clean parses by content hash and serves them next time, positions parsed on demand', async () => {
    const text = 'hosts:\n  alpha:\n    address: 10.0.0.1\n'
    await writeFile(join(dir, 'f.yaml'), text)
    const first = await readYamlFile(join(dir, 'f.yaml'), 'f.yaml')
    expect(first.ok && first.value).toEqual({ hosts: { alpha: { address: '10.0.0.1' } } })
    const key = createHash('sha256').update(text).digest('hex')
    expect(await readdir(join(dir, 'cache'))).toEqual([`${key}.json`])
    // Prove the second read comes from the cache: change what the cache holds.
    await writeFile(join(dir, 'cache', `${key}.json`), JSON.stringify({ key, value: { from: 'cache' }, warnings: [] }))
    const second = await readYamlFile(join(dir, 'f.yaml'), 'f.yaml')
    expect(second.ok && second.value).toEqual({ from: 'cache' })
    if (second.ok)
      expect(issueAt(second.source, ['hosts', 'alpha', 'address'], 'x')).toMatchObject({
        file: 'f.yaml',
        line: 3,
        col: 14,
      })
  })

  it('keeps nothing for broken files or values JSON cannot carry, and AIP_NO_CACHE=1 turns it off', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'a: [1,\n')
    await writeFile(join(dir, 'inf.yaml'), 'a: .inf\n')
    expect((await readYamlFile(join(dir, 'bad.yaml'), 'bad.yaml')).ok).toBe(false)
    const inf = await readYamlFile(join(dir, 'inf.yaml'), 'inf.yaml')
    expect(inf.ok && inf.value).toEqual({ a: Infinity })
    expect(await readdir(join(dir, 'cache')).catch(() => [])).toEqual([])
    process.env.AIP_NO_CACHE = '1'
    await writeFile(join(dir, 'ok.yaml'), 'a: 1\n')
    await readYamlFile(join(dir, 'ok.yaml'), 'ok.yaml')
    expect(await readdir(join(dir, 'cache')).catch(() => [])).toEqual([])
  })

  it('an entry anyone else could have written is not used: wrong key, wrong shape, writable by others, another owner', async () => {
    const text = 'a: 1\n'
    await writeFile(join(dir, 'f.yaml'), text)
    const key = createHash('sha256').update(text).digest('hex')
    await readYamlFile(join(dir, 'f.yaml'), 'f.yaml')
    const entry = join(dir, 'cache', `${key}.json`)
    const forged = (body: unknown) => writeFile(entry, JSON.stringify(body), { mode: 0o600 })
    const read = async () => {
      const result = await readYamlFile(join(dir, 'f.yaml'), 'f.yaml')
      return result.ok ? result.value : null
    }
    await forged({ key: '0'.repeat(64), value: { forged: 1 }, warnings: [] })
    expect(await read()).toEqual({ a: 1 })
    await forged({ key, value: { forged: 2 }, warnings: [{ message: 5 }] })
    expect(await read()).toEqual({ a: 1 })
    await forged({ key, value: { forged: 3 }, warnings: [] })
    await chmod(entry, 0o666)
    expect(await read()).toEqual({ a: 1 })
    await chmod(entry, 0o600)
    await chmod(join(dir, 'cache'), 0o777)
    expect(await read()).toEqual({ a: 1 })
    await chmod(join(dir, 'cache'), 0o700)
    await forged({ key, value: { forged: 4 }, warnings: [] })
    expect(await read()).toEqual({ forged: 4 }) // the control: a private, well-formed entry is used
    if (process.getuid?.() === 0) {
      await chown(entry, 1, 1)
      expect(await read()).toEqual({ a: 1 })
    }
  })
})
