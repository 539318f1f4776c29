// Where and how to reach a host: the inventory's explicit values first, then what OpenSSH reads for the
// address (`ssh -G`: ~/.ssh/config with Include, Match, Host patterns and tokens, then its defaults),
// so ai-platform reaches a host the way `ssh <address>` does. Without an ssh client, the ssh-config
// library reads ~/.ssh/config (Host blocks only).
import { existsSync, readFileSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import SSHConfig from 'ssh-config'
import type { Host } from '../config/model.js'
import { UserError } from '../errors.js'
import { expandTokens, probeSshConfig, type SshConfig } from './ssh-config.js'

export interface SshTarget {
  /** Inventory name, for messages. */
  name: string
  hostname: string
  port: number
  user: string
  identityFiles: string[]
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
  probe?: ((alias: string, configFile: string | undefined) => Promise<SshConfig>) | null
}

type Explicit = Host['ssh'] & { knownHosts?: string }

/** How deep a ProxyJump chain may go (OpenSSH has no limit, but a loop must end). */
const MAX_HOPS = 8

export async function resolveSshTarget(
  host: Pick<Host, 'name' | 'address' | 'ssh'>,
  source: SshSettingsSource = {},
): Promise<SshTarget> {
  const configFile = source.configFile ?? process.env.AIP_SSH_CONFIG
  const probe =
    source.probe === undefined
      ? (alias: string, file: string | undefined) => probeSshConfig(alias, { configFile: file, host: host.name })
      : source.probe
  const read = probe
    ? (alias: string) => probe(alias, configFile ? expandHome(configFile) : undefined)
    : libraryReader(configFile)
  return resolveWith(host.name, host.address, host.ssh, read, source, 0)
}

async function resolveWith(
  name: string,
  alias: string,
  explicit: Explicit,
  read: (alias: string) => Promise<SshConfig>,
  source: SshSettingsSource,
  depth: number,
): Promise<SshTarget> {
  const config = await read(alias)
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
  return {
    name,
    alias,
    hostname: config.hostname,
    port,
    user,
    identityFiles: explicit.identityFile
      ? [rel(explicit.identityFile)]
      : config.identityFiles.map((f) => expandTokens(f, tokens)).filter((f) => existsSync(f)),
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
  read: (alias: string) => Promise<SshConfig>,
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

/** Without an ssh client: ~/.ssh/config read by the ssh-config library (Host blocks; no Include or Match). */
function libraryReader(configFile: string | undefined): (alias: string) => Promise<SshConfig> {
  const file = expandHome(configFile ?? join(homedir(), '.ssh', 'config'))
  let config: SSHConfig | null = null
  if (existsSync(file)) {
    try {
      config = SSHConfig.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new UserError(`the SSH configuration ${file} does not read: ${(error as Error).message}`)
    }
  }
  const compute = (alias: string): SshConfig => {
    const computed = config?.compute(alias) ?? {}
    const first = (key: string): string | undefined => {
      const v = computed[key]
      return Array.isArray(v) ? v[0] : v
    }
    const list = (key: string): string[] => {
      const v = computed[key]
      return v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(/\s+/)).filter(Boolean)
    }
    const identities = list('IdentityFile')
    const strict = (first('StrictHostKeyChecking') ?? 'ask').toLowerCase()
    return {
      hostname: first('HostName') ?? alias,
      user: first('User') ?? userInfo().username,
      port: first('Port') ? Number(first('Port')) : 22,
      identityFiles: identities.length > 0 ? identities : ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ed25519'],
      identitiesOnly: first('IdentitiesOnly')?.toLowerCase() === 'yes',
      identityAgent: 'SSH_AUTH_SOCK',
      userKnownHostsFiles:
        list('UserKnownHostsFile').length > 0
          ? list('UserKnownHostsFile').map(expandHome)
          : [join(homedir(), '.ssh', 'known_hosts')],
      globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts'],
      proxyJump: (first('ProxyJump') ?? '')
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== '' && h !== 'none'),
      proxyCommand: first('ProxyCommand') ?? null,
      hostKeyAlias: first('HostKeyAlias') ?? null,
      strictHostKeyChecking:
        strict === 'yes' ? 'yes' : strict === 'accept-new' ? 'accept-new' : strict === 'no' ? 'no' : 'ask',
      revokedHostKeys: list('RevokedHostKeys'),
    }
  }
  return (alias) => Promise.resolve(compute(alias))
}
