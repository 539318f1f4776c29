import { execFileSync } from 'node:child_process'
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  checkHostKey,
  entryMatches,
  fingerprint,
  HOST_KEY_ALGORITHMS,
  hostToken,
  matchPattern,
  orderHostKeyAlgorithms,
  parseKnownHosts,
  trustedAuthorities,
} from '../../../src/remote/known-hosts.js'

/** An ssh-ed25519 public key blob in SSH wire format. */
function ed25519Blob(): Buffer {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  const type = Buffer.from('ssh-ed25519')
  const out = Buffer.alloc(4 + type.length + 4 + raw.length)
  out.writeUInt32BE(type.length, 0)
  type.copy(out, 4)
  out.writeUInt32BE(raw.length, 4 + type.length)
  raw.copy(out, 8 + type.length)
  return out
}

function hashed(token: string, blob: Buffer): string {
  const salt = Buffer.from('0123456789abcdefghij')
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(token).digest('base64')} ssh-ed25519 ${blob.toString('base64')}`
}

describe('known_hosts', () => {
  const a = ed25519Blob()
  const b = ed25519Blob()
  const text = [
    '# comment',
    `erebus.home.arpa,192.168.10.11 ssh-ed25519 ${a.toString('base64')}`,
    hashed('[10.77.0.12]:2222', a),
    `*.lab ssh-ed25519 ${b.toString('base64')}`,
    `@revoked * ssh-ed25519 ${b.toString('base64')}`,
    `!bad.lab,*.lab ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==`,
  ].join('\n')
  const entries = parseKnownHosts(text)

  it('reads plain, hashed, wildcard and revoked entries', () => {
    expect(entries.map((e) => [e.line, e.hashed !== null, e.revoked])).toEqual([
      [2, false, false],
      [3, true, false],
      [4, false, false],
      [5, false, true],
      [6, false, false],
    ])
  })

  it('accepts the recorded key, by name, by address, hashed and with a port', () => {
    expect(checkHostKey(entries, ['erebus.home.arpa'], a)).toEqual({ status: 'known', line: 2 })
    expect(checkHostKey(entries, ['192.168.10.11'], a)).toEqual({ status: 'known', line: 2 })
    expect(checkHostKey(entries, [hostToken('10.77.0.12', 2222)], a)).toEqual({ status: 'known', line: 3 })
    expect(checkHostKey(entries, [hostToken('10.77.0.12', 22)], a)).toEqual({ status: 'unknown' })
  })

  it('a different key of the same type is a changed key, naming the offending lines', () => {
    expect(checkHostKey(entries, ['erebus.home.arpa'], ed25519Blob())).toEqual({
      status: 'changed',
      lines: [2],
      at: ['line 2'],
    })
  })

  it('revoked keys are refused even where a pattern would accept them', () => {
    expect(checkHostKey(entries, ['x.lab'], b)).toEqual({ status: 'revoked', line: 5, at: 'line 5' })
  })

  it('prints fingerprints as OpenSSH does', () => {
    expect(fingerprint(a)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
  })
})

describe('known_hosts patterns as OpenSSH matches them', () => {
  const a = ed25519Blob()
  const b = ed25519Blob()
  const line = (hosts: string, key: Buffer) => `${hosts} ssh-ed25519 ${key.toString('base64')}`

  it('an unhashed [addr]:port entry (what `ssh -p` writes without HashKnownHosts) matches its host: a new key there is changed, not unknown', () => {
    const entries = parseKnownHosts([line('[10.1.2.3]:2222', a), line('[build-box]:2200', a)].join('\n'))
    expect(checkHostKey(entries, [hostToken('10.1.2.3', 2222)], a)).toEqual({ status: 'known', line: 1 })
    expect(checkHostKey(entries, [hostToken('10.1.2.3', 2222)], b)).toEqual({
      status: 'changed',
      lines: [1],
      at: ['line 1'],
    })
    // "[build-box]" as a regex class is a range out of order: it threw, and every connection of the run failed.
    expect(checkHostKey(entries, [hostToken('build-box', 2200)], b)).toEqual({
      status: 'changed',
      lines: [2],
      at: ['line 2'],
    })
    expect(checkHostKey(entries, [hostToken('10.1.2.3', 22)], a)).toEqual({ status: 'unknown' })
  })

  it.each([
    ['*', 'anything', true],
    ['*.lab', 'x.lab', true],
    ['*.lab', 'xlab', false],
    ['web?.example.com', 'web1.example.com', true],
    ['web?.example.com', 'web12.example.com', false],
    ['[10.1.2.3]:2222', '[10.1.2.3]:2222', true],
    ['[10.1.2.3]:2222', '1', false],
    ['[*.corp]:2222', '[a.corp]:2222', true],
    ['a.b', 'axb', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['**', '', true],
    ['', '', true],
    ['?', '', false],
  ])('matchPattern(%j, %j) = %s', (pattern, text, expected) => {
    expect(matchPattern(text, pattern)).toBe(expected)
  })

  /** OpenSSH's match_pattern (match.c), transcribed as the reference for the property below. */
  function reference(s: string, p: string): boolean {
    for (;;) {
      if (p === '') return s === ''
      if (p[0] === '*') {
        while (p[0] === '*') p = p.slice(1)
        if (p === '') return true
        for (let i = 0; i < s.length; i++)
          if ((p[0] === '?' || s[i] === p[0]) && reference(s.slice(i + 1), p.slice(1))) return true
        return false
      }
      if (s === '') return false
      if (p[0] !== '?' && p[0] !== s[0]) return false
      s = s.slice(1)
      p = p.slice(1)
    }
  }

  it("agrees with OpenSSH's match_pattern on generated patterns and names", () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '*', '?', '[', ']', ':', '1')
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 10 }),
        fc.string({ unit: alphabet, maxLength: 12 }),
        (pattern, text) => {
          expect(matchPattern(text, pattern)).toBe(reference(text, pattern))
        },
      ),
      { numRuns: 3000, seed: 13 },
    )
  })

  it('no known_hosts line makes parsing or matching throw', () => {
    const token = fc.string({
      unit: fc.constantFrom('a', '[', ']', '!', '*', '?', ',', '|', '1', ':', '@', ' ', '\\', '(', '+'),
      maxLength: 24,
    })
    fc.assert(
      fc.property(token, token, (hosts, query) => {
        const entries = parseKnownHosts(
          `${hosts} ssh-ed25519 ${a.toString('base64')}\n@revoked ${hosts} ssh-ed25519 x\n${hosts}`,
        )
        for (const entry of entries) entryMatches(entry, query)
        checkHostKey(entries, [query], b)
      }),
      { numRuns: 2000, seed: 7 },
    )
  })
})

// The same file read by OpenSSH's own code: `ssh-keygen -F NAME` prints the lines that match NAME,
// and `ssh-keygen -H` hashes the file as HashKnownHosts does.
const keygen = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
  }
  return true
})()

describe.skipIf(!keygen && process.env.CI !== 'true')('known_hosts matching against ssh-keygen -F', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aip-known-hosts-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const key = ed25519Blob()
  const patterns = [
    '[10.1.2.3]:2222',
    '[build-box]:2200',
    '*.lab',
    '!bad.lab,*.lab',
    'Mixed.Case.Host',
    'web?.example.com',
    '[*.corp]:2222',
    'erebus.home.arpa,192.168.10.11',
    '10.77.0.14',
    '!*.corp,*',
  ]
  const queries = [
    '[10.1.2.3]:2222',
    '10.1.2.3',
    '[build-box]:2200',
    'build-box',
    'x.lab',
    'bad.lab',
    'mixed.case.host',
    'web1.example.com',
    'web12.example.com',
    '[a.corp]:2222',
    'a.corp',
    '192.168.10.11',
    '10.77.0.14',
    '[10.77.0.14]:2200',
    'elsewhere',
  ]
  const text = `${patterns.map((p) => `${p} ssh-ed25519 ${key.toString('base64')}`).join('\n')}\n`

  function sshKeygenLines(file: string, query: string): number[] {
    let out = ''
    try {
      out = execFileSync('ssh-keygen', ['-F', query, '-f', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
    } catch (error) {
      out = String((error as { stdout?: string }).stdout ?? '') // exit 1: nothing found
    }
    return [...out.matchAll(/^# Host .* found: line (\d+)/gm)].map((m) => Number(m[1]))
  }

  it.each([
    ['plain', false],
    ['hashed by ssh-keygen -H', true],
  ])('%s entries: the same lines match every name', (_name, hash) => {
    const file = join(dir, hash ? 'hashed' : 'plain')
    writeFileSync(file, text)
    if (hash) execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' })
    const entries = parseKnownHosts(readFileSync(file, 'utf8'))
    if (hash) expect(entries.filter((e) => e.hashed).length).toBeGreaterThan(4)
    for (const query of queries) {
      const ours = entries.filter((e) => entryMatches(e, query)).map((e) => e.line)
      expect({ query, lines: ours }).toEqual({ query, lines: sshKeygenLines(file, query) })
    }
  })
})

describe('host-key algorithms offered, as OpenSSH orders them', () => {
  const key = ed25519Blob().toString('base64')
  const entries = parseKnownHosts(
    [
      `[db]:2222 ecdsa-sha2-nistp256 ${key}`,
      `web ssh-rsa ${key}`,
      `both ssh-ed25519 ${key}`,
      `both ecdsa-sha2-nistp384 ${key}`,
      `@revoked db ssh-ed25519 ${key}`,
    ].join('\n'),
  )
  it("the algorithms of the keys known for the host first, then the rest in the client's order", () => {
    expect(orderHostKeyAlgorithms(entries, ['[db]:2222'])).toEqual([
      'ecdsa-sha2-nistp256',
      'ssh-ed25519',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ])
    // an RSA key signs with the SHA-2 algorithms too
    expect(orderHostKeyAlgorithms(entries, ['web']).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'])
    expect(orderHostKeyAlgorithms(entries, ['both']).slice(0, 2)).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp384'])
    // unknown host (or only a revoked key): the client's own order
    expect(orderHostKeyAlgorithms(entries, ['db'])).toEqual([...HOST_KEY_ALGORITHMS])
  })
})

describe('@cert-authority lines', () => {
  const ca = ed25519Blob()
  const host = ed25519Blob()
  const entries = parseKnownHosts(
    [
      `@cert-authority *.lab,10.0.0.* ssh-ed25519 ${ca.toString('base64')}`,
      `@cert-authority other ssh-ed25519 ${ed25519Blob().toString('base64')}`,
    ].join('\n'),
  )
  it('trust a CA for the hosts they name, and never stand for a host key themselves', () => {
    expect(trustedAuthorities(entries, ['db.lab']).map((e) => e.key)).toEqual([ca])
    expect(trustedAuthorities(entries, ['[10.0.0.5]:2222', '10.0.0.5'])).toHaveLength(1)
    expect(trustedAuthorities(entries, ['web.example'])).toEqual([])
    // the CA's own key presented as a host key is not "known"
    expect(checkHostKey(entries, ['db.lab'], ca)).toEqual({ status: 'unknown' })
    expect(checkHostKey(entries, ['db.lab'], host)).toEqual({ status: 'unknown' })
  })
})
