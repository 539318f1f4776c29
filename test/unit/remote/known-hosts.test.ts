import { createHmac, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkHostKey, fingerprint, hostToken, parseKnownHosts } from '../../../src/remote/known-hosts.js'

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
    expect(checkHostKey(entries, ['erebus.home.arpa'], ed25519Blob())).toEqual({ status: 'changed', lines: [2] })
  })

  it('revoked keys are refused even where a pattern would accept them', () => {
    expect(checkHostKey(entries, ['x.lab'], b)).toEqual({ status: 'revoked', line: 5 })
  })

  it('prints fingerprints as OpenSSH does', () => {
    expect(fingerprint(a)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
  })
})
