// OpenSSH known_hosts: plain and hashed (|1|salt|hash) entries, [host]:port forms, @revoked markers.
// Strict by default: an unknown key is refused unless --accept-new, a changed key always.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'

export interface KnownHostEntry {
  line: number
  patterns: string[] | null
  hashed: { salt: Buffer; hash: Buffer } | null
  keyType: string
  key: Buffer
  revoked: boolean
  /** `@cert-authority`: the key is a CA's, trusted to sign host certificates for these hosts (see host-cert.ts). */
  certAuthority?: boolean
  /** The file the entry was read from (set by the readers below), for messages. */
  file?: string
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    let fields = line.split(/\s+/)
    let revoked = false
    let certAuthority = false
    if (fields[0]!.startsWith('@')) {
      if (fields[0] === '@revoked') revoked = true
      else if (fields[0] === '@cert-authority') certAuthority = true
      else return
      fields = fields.slice(1)
    }
    if (fields.length < 3) return
    const [hosts, keyType, keyData] = fields as [string, string, string]
    let key: Buffer
    try {
      key = Buffer.from(keyData, 'base64')
    } catch {
      return
    }
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|')
      if (!salt || !hash) return
      entries.push({
        line: index + 1,
        patterns: null,
        hashed: { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') },
        keyType,
        key,
        revoked,
        ...(certAuthority ? { certAuthority } : {}),
      })
    } else {
      entries.push({
        line: index + 1,
        patterns: hosts.split(','),
        hashed: null,
        keyType,
        key,
        revoked,
        ...(certAuthority ? { certAuthority } : {}),
      })
    }
  })
  return entries
}

/** The name OpenSSH looks up: `host`, or `[host]:port` when the port is not 22. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/**
 * OpenSSH's match_pattern: `*` is any run of characters, `?` any one character, everything else
 * (`[`, `]`, `.`, a backslash) stands for itself. Iterative with one backtrack point, so no pattern costs
 * more than length x length steps (a regex built from the pattern would treat `[...]` as a class).
 */
export function matchPattern(text: string, pattern: string): boolean {
  let t = 0
  let p = 0
  let star = -1
  let resume = 0
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === text[t]))) {
      t++
      p++
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++
      resume = t
    } else if (star >= 0) {
      p = star + 1
      t = ++resume
    } else return false
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

/**
 * OpenSSH's match_hostname over a comma-separated list: a negated pattern (`!pat`) that matches
 * rejects the host whatever else matches; otherwise any positive pattern that matches accepts it.
 * Host names compare in lower case, as ssh lowercases the name it looks up.
 */
function matchHostPatterns(host: string, patterns: readonly string[]): boolean {
  const name = host.toLowerCase()
  let matched = false
  for (const raw of patterns) {
    const negated = raw.startsWith('!')
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase()
    if (!matchPattern(name, pattern)) continue
    if (negated) return false
    matched = true
  }
  return matched
}

export function entryMatches(entry: KnownHostEntry, token: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(token.toLowerCase()).digest()
    return digest.equals(entry.hashed.hash)
  }
  return matchHostPatterns(token, entry.patterns ?? [])
}

export type HostKeyVerdict =
  | { status: 'known'; line: number }
  | { status: 'unknown' }
  | { status: 'changed'; lines: number[]; at: string[] }
  | { status: 'revoked'; line: number; at: string }

/** Keys are compared as raw SSH wire blobs, as OpenSSH does. */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  tokens: readonly string[],
  key: Buffer,
): HostKeyVerdict {
  const keyType = key.subarray(4, 4 + key.readUInt32BE(0)).toString()
  const revoked = entries.find((e) => e.revoked && e.key.equals(key))
  if (revoked) return { status: 'revoked', line: revoked.line, at: located(revoked) }
  const forHost = entries.filter((e) => !e.revoked && !e.certAuthority && tokens.some((t) => entryMatches(e, t)))
  const same = forHost.find((e) => e.key.equals(key))
  if (same) return { status: 'known', line: same.line }
  const sameType = forHost.filter((e) => e.keyType === keyType)
  if (sameType.length > 0) return { status: 'changed', lines: sameType.map((e) => e.line), at: sameType.map(located) }
  // A host known only under other key types: OpenSSH treats a new type as unknown too.
  return { status: 'unknown' }
}

/** The host-key algorithms this client offers, in ssh2's order of preference. */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const

/** The algorithms a key type can sign with: an `ssh-rsa` key serves the SHA-2 RSA signatures too. */
function algorithmsOf(keyType: string): readonly string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType]
}

/**
 * What to offer a host, as OpenSSH orders it (order_hostkeyalgs): the algorithms of the keys
 * known_hosts holds for it first, then the rest. Offered in ssh2's own order, a host known only by
 * its ECDSA or RSA key would present its Ed25519 key and be taken for unknown.
 */
export function orderHostKeyAlgorithms(
  entries: readonly KnownHostEntry[],
  tokens: readonly string[],
  supported: readonly string[] = HOST_KEY_ALGORITHMS,
): string[] {
  const known = new Set(
    entries
      .filter((e) => !e.revoked && !e.certAuthority && tokens.some((t) => entryMatches(e, t)))
      .flatMap((e) => algorithmsOf(e.keyType)),
  )
  return [...supported.filter((a) => known.has(a)), ...supported.filter((a) => !known.has(a))]
}

/** The CA keys `@cert-authority` lines trust for this host. */
export function trustedAuthorities(entries: readonly KnownHostEntry[], tokens: readonly string[]): KnownHostEntry[] {
  return entries.filter((e) => e.certAuthority && !e.revoked && tokens.some((t) => entryMatches(e, t)))
}

/** `FILE:LINE` of an entry, or `line N` for one parsed from text. */
function located(entry: KnownHostEntry): string {
  return entry.file ? `${entry.file}:${entry.line}` : `line ${entry.line}`
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
}

export function keyTypeOf(key: Buffer): string {
  return key.subarray(4, 4 + key.readUInt32BE(0)).toString()
}

/** A file that does not exist holds no entries, as for ssh. */
async function readEntries(path: string, parse: (text: string) => KnownHostEntry[]): Promise<KnownHostEntry[]> {
  try {
    return parse(await readFile(path, 'utf8')).map((entry) => ({ ...entry, file: path }))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

export function readKnownHosts(path: string): Promise<KnownHostEntry[]> {
  return readEntries(path, parseKnownHosts)
}

/** RevokedHostKeys: public keys (`type base64 [comment]` lines), each refused whatever known_hosts says. */
function parseRevokedKeys(text: string): KnownHostEntry[] {
  const lines = text.split('\n').map((l) => l.trim())
  return parseKnownHosts(lines.map((l) => (l === '' || l.startsWith('#') ? '' : `@revoked * ${l}`)).join('\n'))
}

export function readRevokedKeys(path: string): Promise<KnownHostEntry[]> {
  return readEntries(path, parseRevokedKeys)
}

/** Records a first-seen key as OpenSSH's accept-new does, hashed like HashKnownHosts yes. */
export async function appendKnownHost(path: string, token: string, key: Buffer): Promise<void> {
  const salt = randomBytes(20)
  const hash = createHmac('sha1', salt).update(token.toLowerCase()).digest()
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  await appendFile(
    path,
    `|1|${salt.toString('base64')}|${hash.toString('base64')} ${keyTypeOf(key)} ${key.toString('base64')}\n`,
    { mode: 0o600 },
  )
}
