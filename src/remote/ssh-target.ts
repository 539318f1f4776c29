// Where and how to reach a host: the inventory first, then ~/.ssh/config (Host, HostName, User, Port,
// IdentityFile, ProxyJump, UserKnownHostsFile), then OpenSSH's defaults: what `ssh <address>` would do.
import { existsSync, readFileSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import SSHConfig from 'ssh-config'
import type { Host } from '../config/model.js'

export interface SshTarget {
  /** Inventory name, for messages. */
  name: string
  hostname: string
  port: number
  user: string
  identityFiles: string[]
  knownHostsFiles: string[]
  proxyJump: SshTarget | null
  /** The address as written, which ~/.ssh/config Host patterns match. */
  alias: string
}

export interface SshSettingsSource {
  configFile?: string
  knownHostsFile?: string
  projectDir?: string
}

function expandHome(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return path
}

function loadConfig(file: string): SSHConfig | null {
  if (!existsSync(file)) return null
  try {
    return SSHConfig.parse(readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/\s+/)).filter(Boolean)
}

export function resolveSshTarget(host: Pick<Host, 'name' | 'address' | 'ssh'>, source: SshSettingsSource = {}): SshTarget {
  const configFile = source.configFile ?? process.env.AIP_SSH_CONFIG ?? join(homedir(), '.ssh', 'config')
  const config = loadConfig(expandHome(configFile))
  return resolveWith(host.name, host.address, host.ssh, config, source, 0)
}

function resolveWith(
  name: string,
  alias: string,
  explicit: Host['ssh'] & { knownHosts?: string },
  config: SSHConfig | null,
  source: SshSettingsSource,
  depth: number,
): SshTarget {
  const computed = (config?.compute(alias) ?? {}) as Record<string, string | string[]>
  const rel = (p: string): string => {
    const expanded = expandHome(p)
    return isAbsolute(expanded) ? expanded : resolve(source.projectDir ?? process.cwd(), expanded)
  }
  const identityFiles = explicit.identityFile
    ? [rel(explicit.identityFile)]
    : list(computed.IdentityFile).length > 0
      ? list(computed.IdentityFile).map(expandHome)
      : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).filter((f) => existsSync(f))
  const knownHosts = explicit.knownHosts ?? source.knownHostsFile ?? process.env.AIP_KNOWN_HOSTS
  const knownHostsFiles = knownHosts ? [rel(knownHosts)] : list(computed.UserKnownHostsFile).length > 0 ? list(computed.UserKnownHostsFile).map(expandHome) : [join(homedir(), '.ssh', 'known_hosts')]
  const jump = explicit.proxyJump ?? first(computed.ProxyJump)
  let proxyJump: SshTarget | null = null
  if (jump && jump !== 'none' && depth < 4) {
    const match = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(jump.split(',')[0]!)
    if (match) {
      const jumpExplicit: Host['ssh'] & { knownHosts?: string } = {}
      if (match[1]) jumpExplicit.user = match[1]
      if (match[3]) jumpExplicit.port = Number(match[3])
      if (explicit.knownHosts) jumpExplicit.knownHosts = explicit.knownHosts
      proxyJump = resolveWith(`${name} (jump ${match[2]})`, match[2]!, jumpExplicit, config, source, depth + 1)
    }
  }
  return {
    name,
    alias,
    hostname: first(computed.HostName) ?? alias,
    port: explicit.port ?? (first(computed.Port) ? Number(first(computed.Port)) : 22),
    user: explicit.user ?? first(computed.User) ?? userInfo().username,
    identityFiles,
    knownHostsFiles,
    proxyJump,
  }
}
