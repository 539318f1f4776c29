// Where and how to reach a host: the inventory's explicit values first, then what OpenSSH reads for the
// address (`ssh -G`: ~/.ssh/config with Include, Match, Host patterns and tokens, then its defaults),
// so ai-platform reaches a host the way `ssh <address>` does. Without an ssh client, the ssh-config
// library reads ~/.ssh/config (Host and Match blocks; no Include).
import { existsSync, readFileSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import SSHConfig from 'ssh-config'
import type { Host } from '../config/model.js'
import { UserError } from '../errors.js'
import { expandTokens, probeSshConfig, type ExplicitLogin, type SshConfig } from './ssh-config.js'

export interface SshTarget {
  /** Inventory name, for messages. */
  name: string
  hostname: string
  port: number
  user: string
  identityFiles: string[]
  /**
   * User certificates ssh would offer (CertificateFile, and IDENTITY-cert.pub beside an identity file).
   * ssh2 has no certificate authentication: they are not offered, only named when authentication fails.
   */
  certificateFiles?: string[]
  /** The files known_hosts entries are read from: the user's first (new keys are recorded there), then the global ones. */
  knownHostsFiles: string[]
  /** The hop before this host (itself reached through its own hop, for a chain `a,b`), or null. */
  proxyJump: SshTarget | null
  /** The address as written, which ~/.ssh/config Host patterns match. */
  alias: string
  /** A command whose stdin and stdout are the connection (ProxyCommand), tokens expanded. */
  proxyCommand?: string | null
  /** The name known_hosts entries are looked up and recorded under instead of the host's (HostKeyAlias). */
  hostKeyAlias?: string | null
  /** accept-new: a first-seen key is recorded, as --accept-new does; yes: never. */
  strictHostKeyChecking?: 'yes' | 'accept-new' | 'ask'
  /** Files of keys refused whatever known_hosts says (RevokedHostKeys). */
  revokedHostKeysFiles?: string[]
  /** The agent socket to try first (null: none, as IdentityAgent none or IdentitiesOnly without one). */
  agent?: string | null
}

export interface SshSettingsSource {
  configFile?: string
  knownHostsFile?: string
  projectDir?: string
  /** Runs `ssh -G`; null when no ssh client is installed (the ssh-config library reads the file then). */
  probe?: ((alias: string, configFile: string | undefined, login: ExplicitLogin) => Promise<SshConfig>) | null
}

type Explicit = Host['ssh'] & { knownHosts?: string }
/** Reads the settings for an address, given the inventory's user and port as `ssh -l USER -p PORT` would be. */
type Reader = (alias: string, login: ExplicitLogin) => Promise<SshConfig>

/** How deep a ProxyJump chain may go (OpenSSH has no limit, but a loop must end). */
const MAX_HOPS = 8

export async function resolveSshTarget(
  host: Pick<Host, 'name' | 'address' | 'ssh'>,
  source: SshSettingsSource = {},
): Promise<SshTarget> {
  const configFile = source.configFile ?? process.env.AIP_SSH_CONFIG
  const probe =
    source.probe === undefined
      ? (alias: string, file: string | undefined, login: ExplicitLogin) =>
          probeSshConfig(alias, { configFile: file, host: host.name, ...login })
      : source.probe
  const read: Reader = probe
    ? (alias, login) => probe(alias, configFile ? expandHome(configFile) : undefined, login)
    : libraryReader(configFile)
  return resolveWith(host.name, host.address, host.ssh, read, source, 0)
}

async function resolveWith(
  name: string,
  alias: string,
  explicit: Explicit,
  read: Reader,
  source: SshSettingsSource,
  depth: number,
): Promise<SshTarget> {
  // the explicit user and port go to ssh as -l and -p: `Match user` and the tokens see them, as with `ssh -l`
  const config = await read(alias, {
    ...(explicit.user !== undefined ? { user: explicit.user } : {}),
    ...(explicit.port !== undefined ? { port: explicit.port } : {}),
  })
  if (config.strictHostKeyChecking === 'no') {
    throw new UserError(
      `${name}: the SSH configuration says StrictHostKeyChecking no for ${alias}: ai-platform checks host keys always`,
      'Record the host key once with --accept-new (or StrictHostKeyChecking accept-new in ~/.ssh/config), as ssh would.',
    )
  }
  const rel = (p: string): string => {
    const expanded = expandHome(p)
    return isAbsolute(expanded) ? expanded : resolve(source.projectDir ?? process.cwd(), expanded)
  }
  const user = explicit.user ?? config.user
  const port = explicit.port ?? config.port
  const tokens = { hostname: config.hostname, alias, port, user }
  const knownHosts = explicit.knownHosts ?? source.knownHostsFile ?? process.env.AIP_KNOWN_HOSTS
  const hops = explicit.proxyJump
    ? explicit.proxyJump
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)
    : config.proxyJump
  const proxyJump = hops.length > 0 ? await chain(name, hops, explicit, read, source, depth) : null
  // the reader expanded the tokens in IdentityFile and CertificateFile
  const identityFiles = explicit.identityFile
    ? [rel(explicit.identityFile)]
    : config.identityFiles.filter((f) => existsSync(f))
  const certificates = [...config.certificateFiles, ...identityFiles.map((f) => `${f}-cert.pub`)]
  return {
    name,
    alias,
    hostname: config.hostname,
    port,
    user,
    identityFiles,
    certificateFiles: [...new Set(certificates)].filter((f) => existsSync(f)),
    // an explicit known_hosts is the only one: the inventory pins what is trusted
    knownHostsFiles: knownHosts ? [rel(knownHosts)] : [...config.userKnownHostsFiles, ...config.globalKnownHostsFiles],
    proxyJump,
    proxyCommand: proxyJump === null && config.proxyCommand ? expandTokens(config.proxyCommand, tokens) : null,
    hostKeyAlias: config.hostKeyAlias,
    strictHostKeyChecking: config.strictHostKeyChecking,
    revokedHostKeysFiles: config.revokedHostKeys,
    // IdentitiesOnly: the identity files only (ssh would still use an agent's copy of one of them)
    agent: config.identitiesOnly
      ? null
      : config.identityAgent === 'SSH_AUTH_SOCK'
        ? (process.env.SSH_AUTH_SOCK ?? null)
        : config.identityAgent,
  }
}

/** `a,b`: the host is reached from b, b from a; each hop resolved as ssh resolves it, checked against known_hosts. */
async function chain(
  name: string,
  hops: string[],
  explicit: Explicit,
  read: Reader,
  source: SshSettingsSource,
  depth: number,
): Promise<SshTarget | null> {
  let previous: SshTarget | null = null
  for (const hop of hops) {
    if (depth + 1 > MAX_HOPS)
      throw new UserError(`${name}: ProxyJump goes more than ${MAX_HOPS} hops deep (a loop in the SSH configuration?)`)
    const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop)
    if (!match) throw new UserError(`${name}: ProxyJump hop ${JSON.stringify(hop)} is not [user@]host[:port]`)
    const hopExplicit: Explicit = {}
    if (match[1]) hopExplicit.user = match[1]
    if (match[3]) hopExplicit.port = Number(match[3])
    if (explicit.knownHosts) hopExplicit.knownHosts = explicit.knownHosts
    const address = match[2]!.replace(/^\[|\]$/g, '')
    const target: SshTarget = await resolveWith(
      `${name} (jump ${address})`,
      address,
      hopExplicit,
      read,
      source,
      depth + 1,
    )
    // a hop's own ProxyJump is ignored inside a chain, as ssh does with -J a,b
    previous = { ...target, proxyJump: previous ?? target.proxyJump }
  }
  return previous
}

function expandHome(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return path
}

/**
 * Without an ssh client: ~/.ssh/config read by the ssh-config library (Host and Match blocks, keys in
 * any case, the first value winning as in ssh; no Include), with ssh's defaults for what it leaves unset.
 */
function libraryReader(configFile: string | undefined): Reader {
  const file = expandHome(configFile ?? join(homedir(), '.ssh', 'config'))
  let config: SSHConfig | null = null
  if (existsSync(file)) {
    try {
      config = SSHConfig.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new UserError(`the SSH configuration ${file} does not read: ${(error as Error).message}`)
    }
  }
  const compute = (alias: string, login: ExplicitLogin): SshConfig => {
    // the explicit user is the query's, as `ssh -l` makes it: `Match user` sees it
    const query = login.user !== undefined ? { Host: alias, User: login.user } : { Host: alias }
    const computed = config?.compute(query, { ignoreCase: true }) ?? {}
    const first = (key: string): string | undefined => {
      const v = computed[key]
      const value = Array.isArray(v) ? v[0] : v
      return value === undefined || value.toLowerCase() === 'none' ? undefined : value
    }
    const list = (key: string): string[] => {
      const v = computed[key]
      return v === undefined
        ? []
        : (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(/\s+/)).filter((x) => x !== '' && x !== 'none')
    }
    const hostname = first('hostname') ?? alias
    const user = login.user ?? first('user') ?? userInfo().username
    const port = login.port ?? (first('port') ? Number(first('port')) : 22)
    const expand = (v: string) => expandTokens(v, { hostname, alias, port, user })
    const identities = list('identityfile')
    const agent = computed.identityagent === undefined ? 'SSH_AUTH_SOCK' : (first('identityagent') ?? null)
    const strict = (first('stricthostkeychecking') ?? 'ask').toLowerCase()
    return {
      hostname,
      user,
      port,
      identityFiles: (identities.length > 0
        ? identities
        : ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk']
      ).map(expand),
      certificateFiles: list('certificatefile').map(expand),
      identitiesOnly: first('identitiesonly')?.toLowerCase() === 'yes',
      identityAgent: agent === null || agent === 'SSH_AUTH_SOCK' ? agent : expand(agent),
      userKnownHostsFiles:
        list('userknownhostsfile').length > 0
          ? list('userknownhostsfile').map(expand)
          : [join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')],
      globalKnownHostsFiles:
        list('globalknownhostsfile').length > 0
          ? list('globalknownhostsfile').map(expand)
          : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      proxyJump: (first('proxyjump') ?? '')
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
      proxyCommand: first('proxycommand') ?? null,
      hostKeyAlias: first('hostkeyalias') ?? null,
      strictHostKeyChecking:
        strict === 'yes' ? 'yes' : strict === 'accept-new' ? 'accept-new' : strict === 'no' ? 'no' : 'ask',
      revokedHostKeys: list('revokedhostkeys').map(expand),
    }
  }
  return (alias, login) => Promise.resolve(compute(alias, login))
}
