// Host certificates made by ssh-keygen itself (CAs of each key type), checked as ssh checks them.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkHostCertificate, parseCertificate, parseKeyscan } from '../../../src/remote/host-cert.js'

const dir = mkdtempSync(join(tmpdir(), 'aip-host-cert-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const keygen = (...args: string[]) => execFileSync('ssh-keygen', ['-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
const blob = (file: string): Buffer => Buffer.from(readFileSync(file, 'utf8').split(' ')[1]!, 'base64')

function make(name: string, caType: string, hostType: string, sign: string[] = []) {
  const ca = join(dir, `${name}-ca`)
  const host = join(dir, `${name}-host`)
  keygen('-t', caType, '-N', '', '-f', ca)
  keygen('-t', hostType, '-N', '', '-f', host)
  keygen('-s', ca, '-I', `${name}-id`, '-h', ...sign, `${host}.pub`)
  return { ca: blob(`${ca}.pub`), host: blob(`${host}.pub`), cert: parseCertificate(blob(`${host}-cert.pub`))! }
}

describe('host certificates', () => {
  for (const [caType, hostType] of [
    ['ed25519', 'ed25519'],
    ['ecdsa', 'ecdsa'],
    ['rsa', 'ed25519'],
    ['ed25519', 'rsa'],
  ] as const) {
    it(`a ${hostType} host key signed by a ${caType} CA, for its name`, () => {
      const m = make(`${caType}-${hostType}`, caType, hostType, ['-n', 'db.lab,10.0.0.5'])
      expect(m.cert.principals).toEqual(['db.lab', '10.0.0.5'])
      expect(m.cert.key.equals(m.host)).toBe(true)
      expect(checkHostCertificate(m.cert, { trusted: [m.ca], name: '10.0.0.5', presented: m.host })).toEqual({
        ok: true,
        ca: m.ca,
      })
      expect(checkHostCertificate(m.cert, { trusted: [m.ca], name: 'web.lab', presented: m.host })).toEqual({
        ok: false,
        reason: 'it is for db.lab, 10.0.0.5, not web.lab',
      })
    })
  }

  it('refused: another CA, another key, a tampered signature, outside its validity, a user certificate', () => {
    const m = make('refused', 'ed25519', 'ed25519', ['-n', 'db.lab'])
    const other = make('other', 'ed25519', 'ed25519', ['-n', 'db.lab'])
    expect(checkHostCertificate(m.cert, { trusted: [other.ca], name: 'db.lab', presented: m.host })).toEqual({
      ok: false,
      reason: 'no @cert-authority line trusts the CA that signed it',
    })
    expect(checkHostCertificate(m.cert, { trusted: [m.ca], name: 'db.lab', presented: other.host })).toEqual({
      ok: false,
      reason: 'it certifies another key than the one the host presented',
    })
    const tampered = {
      ...m.cert,
      signed: Buffer.concat([m.cert.signed.subarray(0, -1), Buffer.from([m.cert.signed.at(-1)! ^ 1])]),
    }
    expect(checkHostCertificate(tampered, { trusted: [m.ca], name: 'db.lab', presented: m.host })).toEqual({
      ok: false,
      reason: 'its signature does not verify',
    })
    const later = make('later', 'ed25519', 'ed25519', ['-n', 'db.lab', '-V', '+1d:+2d'])
    expect(checkHostCertificate(later.cert, { trusted: [later.ca], name: 'db.lab', presented: later.host })).toEqual({
      ok: false,
      reason: 'it is outside its validity period',
    })
    expect(
      checkHostCertificate({ ...m.cert, type: 1 }, { trusted: [m.ca], name: 'db.lab', presented: m.host }),
    ).toEqual({ ok: false, reason: 'it is not a host certificate' })
  })

  it('a blob that is not a certificate, or a truncated one, is null', () => {
    const m = make('trunc', 'ed25519', 'ed25519')
    expect(parseCertificate(m.host)).toBeNull()
    expect(parseCertificate(Buffer.concat([m.cert.signed]))).toBeNull()
    expect(parseCertificate(Buffer.alloc(3))).toBeNull()
    // no principals: any host, as ssh accepts
    expect(checkHostCertificate(m.cert, { trusted: [m.ca], name: 'anything', presented: m.host }).ok).toBe(true)
  })
})

describe('ssh-keyscan -c output', () => {
  it('finds the certificates with or without the host in front, skips comments and plain keys', () => {
    const m = make('scan', 'ed25519', 'ed25519', ['-n', 'db.lab'])
    const cert = readFileSync(join(dir, 'scan-host-cert.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    const plain = readFileSync(join(dir, 'scan-host.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    const found = parseKeyscan(`# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2p1\n${cert}\n10.0.0.5 ${cert}\n10.0.0.5 ${plain}\n`)
    expect(found.map((c) => c.key.equals(m.host))).toEqual([true, true])
  })
})
