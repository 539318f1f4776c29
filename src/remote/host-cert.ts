// OpenSSH host certificates (`ssh-keygen -s CA -h`), checked against `@cert-authority` lines of
// known_hosts as ssh does: signed by a CA the file trusts for this host, a host certificate, the name
// among its principals, within its validity, and certifying the very key the host presented in the
// handshake. The format is OpenSSH's PROTOCOL.certkeys; signatures are verified with node:crypto.
import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { execa } from 'execa'

export interface HostCertificate {
  /** The certified key as a plain public key blob (what a handshake presents). */
  key: Buffer
  serial: bigint
  /** 1 user, 2 host. */
  type: number
  keyId: string
  principals: string[]
  validAfter: bigint
  validBefore: bigint
  /** The CA's public key blob. */
  signatureKey: Buffer
  /** The certificate up to its signature: what the CA signed. */
  signed: Buffer
  signature: Buffer
}

class Reader {
  private at = 0
  constructor(private readonly buf: Buffer) {}
  string(): Buffer {
    if (this.at + 4 > this.buf.length) throw new Error('truncated')
    const length = this.buf.readUInt32BE(this.at)
    if (this.at + 4 + length > this.buf.length) throw new Error('truncated')
    const out = this.buf.subarray(this.at + 4, this.at + 4 + length)
    this.at += 4 + length
    return out
  }
  uint32(): number {
    if (this.at + 4 > this.buf.length) throw new Error('truncated')
    const v = this.buf.readUInt32BE(this.at)
    this.at += 4
    return v
  }
  uint64(): bigint {
    if (this.at + 8 > this.buf.length) throw new Error('truncated')
    const v = this.buf.readBigUInt64BE(this.at)
    this.at += 8
    return v
  }
  get offset(): number {
    return this.at
  }
  get done(): boolean {
    return this.at === this.buf.length
  }
}

const sshString = (data: Buffer | string): Buffer => {
  const body = typeof data === 'string' ? Buffer.from(data) : data
  const length = Buffer.alloc(4)
  length.writeUInt32BE(body.length)
  return Buffer.concat([length, body])
}

/** The public fields of each certified key type, read as SSH strings (mpints are strings on the wire). */
const CERT_TYPES: Record<string, { plain: string; fields: number }> = {
  'ssh-ed25519-cert-v01@openssh.com': { plain: 'ssh-ed25519', fields: 1 },
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp256', fields: 2 },
  'ecdsa-sha2-nistp384-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp384', fields: 2 },
  'ecdsa-sha2-nistp521-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp521', fields: 2 },
  'ssh-rsa-cert-v01@openssh.com': { plain: 'ssh-rsa', fields: 2 },
}

/** A certificate blob (the base64 of a `-cert.pub` line, decoded), or null when it is not one. */
export function parseCertificate(blob: Buffer): HostCertificate | null {
  try {
    const r = new Reader(blob)
    const type = r.string().toString()
    const spec = CERT_TYPES[type]
    if (!spec) return null
    r.string() // nonce
    const fields: Buffer[] = []
    for (let i = 0; i < spec.fields; i++) fields.push(r.string())
    const serial = r.uint64()
    const certType = r.uint32()
    const keyId = r.string().toString()
    const principalsBlob = new Reader(r.string())
    const principals: string[] = []
    while (!principalsBlob.done) principals.push(principalsBlob.string().toString())
    const validAfter = r.uint64()
    const validBefore = r.uint64()
    r.string() // critical options
    r.string() // extensions
    r.string() // reserved
    const signatureKey = r.string()
    const signedLength = r.offset
    const signature = r.string()
    if (!r.done) return null
    return {
      key: Buffer.concat([sshString(spec.plain), ...fields.map(sshString)]),
      serial,
      type: certType,
      keyId,
      principals,
      validAfter,
      validBefore,
      signatureKey,
      signed: blob.subarray(0, signedLength),
      signature,
    }
  } catch {
    return null
  }
}

const b64url = (b: Buffer): string => b.toString('base64url')
/** An mpint's magnitude, without the sign byte OpenSSH adds when the top bit is set. */
const unsigned = (b: Buffer): Buffer => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b)

const CURVES: Record<string, { crv: string; size: number; hash: string }> = {
  nistp256: { crv: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { crv: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { crv: 'P-521', size: 66, hash: 'sha512' },
}

/** A CA's public key blob as a node:crypto key, with how it signs; null for a type we do not verify. */
function caKey(blob: Buffer): { key: KeyObject; type: string; curve?: (typeof CURVES)[string] } | null {
  const r = new Reader(blob)
  const type = r.string().toString()
  if (type === 'ssh-ed25519')
    return { type, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(r.string()) }, format: 'jwk' }) }
  if (type.startsWith('ecdsa-sha2-')) {
    const curve = CURVES[r.string().toString()]
    const q = r.string()
    if (!curve || q[0] !== 4 || q.length !== 1 + 2 * curve.size) return null
    return {
      type,
      curve,
      key: createPublicKey({
        key: {
          kty: 'EC',
          crv: curve.crv,
          x: b64url(q.subarray(1, 1 + curve.size)),
          y: b64url(q.subarray(1 + curve.size)),
        },
        format: 'jwk',
      }),
    }
  }
  if (type === 'ssh-rsa') {
    const e = unsigned(r.string())
    const n = unsigned(r.string())
    return { type, key: createPublicKey({ key: { kty: 'RSA', e: b64url(e), n: b64url(n) }, format: 'jwk' }) }
  }
  return null
}

/** Whether the CA's signature over the certificate holds. */
function signatureHolds(cert: HostCertificate): boolean {
  try {
    const ca = caKey(cert.signatureKey)
    if (!ca) return false
    const sig = new Reader(cert.signature)
    const algorithm = sig.string().toString()
    const value = sig.string()
    if (ca.type === 'ssh-ed25519') return algorithm === 'ssh-ed25519' && verify(null, cert.signed, ca.key, value)
    if (ca.curve) {
      // (mpint r, mpint s) -> r || s, each padded to the curve's size
      const parts = new Reader(value)
      const pad = (b: Buffer) =>
        Buffer.concat([Buffer.alloc(Math.max(0, ca.curve!.size - unsigned(b).length)), unsigned(b)])
      const raw = Buffer.concat([pad(parts.string()), pad(parts.string())])
      return (
        algorithm === ca.type && verify(ca.curve.hash, cert.signed, { key: ca.key, dsaEncoding: 'ieee-p1363' }, raw)
      )
    }
    // RSA: SHA-2 signatures only (OpenSSH no longer accepts ssh-rsa SHA-1 certificate signatures)
    const hash = algorithm === 'rsa-sha2-512' ? 'sha512' : algorithm === 'rsa-sha2-256' ? 'sha256' : null
    return hash !== null && verify(hash, cert.signed, ca.key, value)
  } catch {
    return false
  }
}

export type CertificateVerdict = { ok: true; ca: Buffer } | { ok: false; reason: string }

/**
 * Whether a certificate vouches for the key a host presented, under the name it is looked up by:
 * signed by one of the trusted CA keys, a host certificate, the name among its principals (an empty
 * list names any host, as OpenSSH accepts), valid now, and certifying `presented`.
 */
export function checkHostCertificate(
  cert: HostCertificate,
  options: { trusted: readonly Buffer[]; name: string; presented: Buffer; now?: Date },
): CertificateVerdict {
  if (cert.type !== 2) return { ok: false, reason: 'it is not a host certificate' }
  const ca = options.trusted.find((k) => k.equals(cert.signatureKey))
  if (!ca) return { ok: false, reason: 'no @cert-authority line trusts the CA that signed it' }
  if (!signatureHolds(cert)) return { ok: false, reason: 'its signature does not verify' }
  const now = BigInt(Math.floor((options.now ?? new Date()).getTime() / 1000))
  if (now < cert.validAfter || now >= cert.validBefore)
    return { ok: false, reason: 'it is outside its validity period' }
  if (cert.principals.length > 0 && !cert.principals.includes(options.name))
    return { ok: false, reason: `it is for ${cert.principals.join(', ')}, not ${options.name}` }
  if (!cert.key.equals(options.presented))
    return { ok: false, reason: 'it certifies another key than the one the host presented' }
  return { ok: true, ca }
}

/**
 * The certificates a host offers, asked with `ssh-keyscan -c` (OpenSSH's own client): ssh2 cannot
 * negotiate certificate host keys, so the handshake sees the plain key and this says whether a CA
 * vouches for it. Only for hosts reached directly: ssh-keyscan does not follow ProxyJump.
 */
export async function scanHostCertificates(hostname: string, port: number, timeoutS = 5): Promise<HostCertificate[]> {
  const result = await execa('ssh-keyscan', ['-c', '-T', String(timeoutS), '-p', String(port), '--', hostname], {
    reject: false,
    timeout: (timeoutS + 5) * 1000,
    stdin: 'ignore',
  })
  return parseKeyscan(result.stdout)
}

/** `ssh-keyscan -c` lines, `[host] TYPE BASE64` (OpenSSH 9 leaves the host out with -c): the certificates among them. */
export function parseKeyscan(stdout: string): HostCertificate[] {
  return stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      const fields = l.trim().split(/\s+/)
      const at = fields.findIndex((f) => f.endsWith('-cert-v01@openssh.com'))
      return at < 0 ? undefined : fields[at + 1]
    })
    .filter((b): b is string => b !== undefined && /^[A-Za-z0-9+/=]{20,65536}$/.test(b))
    .map((b) => parseCertificate(Buffer.from(b, 'base64')))
    .filter((c): c is HostCertificate => c !== null)
}
