// A host's SSH settings exactly as OpenSSH reads them: `ssh -G` evaluates ~/.ssh/config (Include,
// Match, Host patterns, defaults) the way `ssh HOST` would; its answer is a probe, parsed here. Tokens
// (%h, %r, ~ ...) in the keys ssh -G prints unexpanded are expanded as ssh_config(5) documents them.
import { homedir, hostname as localHostname, userInfo } from 'node:os'
import { execa } from 'execa'
import { UserError } from '../errors.js'

/** The keys ai-platform reads, as ssh -G names them (lower case); several keep every line. */
export interface SshConfig {
  hostname: string
  user: string
  port: number
  identityFiles: string[]
  /** User certificates (CertificateFile): ssh2 cannot offer them, but an authentication failure says so. */
  certificateFiles: string[]
  identitiesOnly: boolean
  /** A socket path, `SSH_AUTH_SOCK` (the environment's), or null for none. */
  identityAgent: string | null
  userKnownHostsFiles: string[]
  globalKnownHostsFiles: string[]
  /** Hops in the order they are reached: `a,b` connects to a, then from a to b, then to the host. */
  proxyJump: string[]
  proxyCommand: string | null
  hostKeyAlias: string | null
  strictHostKeyChecking: 'yes' | 'accept-new' | 'no' | 'ask'
  revokedHostKeys: string[]
}

/** `ssh -G` output: `key value` lines; repeated keys (identityfile, certificatefile) keep every value. */
export function parseSshG(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of stdout.split('\n')) {
    const at = line.indexOf(' ')
    if (at <= 0) continue
    const key = line.slice(0, at).toLowerCase()
    out.set(key, [...(out.get(key) ?? []), line.slice(at + 1)])
  }
  return out
}

export interface TokenValues {
  /** The host name after HostName (%h). */
  hostname: string
  /** The name given on the command line, here the inventory's address (%n). */
  alias: string
  port: number
  /** The remote user (%r). */
  user: string
}

/** ssh_config TOKENS: %% %C? no: %d %h %i %L %l %n %p %r %u, and a leading ~ (for the keys ssh -G leaves as written). */
export function expandTokens(text: string, values: TokenValues): string {
  const local = userInfo()
  const full = localHostname()
  const map: Record<string, string> = {
    '%': '%',
    d: homedir(),
    h: values.hostname,
    i: String(local.uid),
    L: full.split('.')[0]!,
    l: full,
    n: values.alias,
    p: String(values.port),
    r: values.user,
    u: local.username,
  }
  const expanded = text.replace(/%(.)/g, (whole, token: string) => map[token] ?? whole)
  if (expanded === '~') return homedir()
  return expanded.startsWith('~/') ? `${homedir()}${expanded.slice(1)}` : expanded
}

/** What ssh -G printed, as settings; `none` means unset, as in ssh_config. */
export function sshConfigFrom(values: Map<string, string[]>, alias: string): SshConfig {
  const one = (key: string): string | null => {
    const v = values.get(key)?.[0]?.trim()
    return v === undefined || v === '' || v.toLowerCase() === 'none' ? null : v
  }
  const words = (key: string): string[] =>
    (values.get(key) ?? []).flatMap((v) => v.trim().split(/\s+/)).filter((v) => v !== '' && v.toLowerCase() !== 'none')
  const hostname = one('hostname') ?? alias
  const user = one('user') ?? userInfo().username
  const port = Number(one('port') ?? 22)
  const tokens = { hostname, alias, port: Number.isInteger(port) ? port : 22, user }
  const expand = (v: string) => expandTokens(v, tokens)
  const strict = (one('stricthostkeychecking') ?? 'ask').toLowerCase()
  const agent = one('identityagent')
  return {
    hostname,
    user,
    port: tokens.port,
    identityFiles: (values.get('identityfile') ?? []).map((v) => expand(v.trim())),
    certificateFiles: (values.get('certificatefile') ?? []).map((v) => expand(v.trim())),
    identitiesOnly: one('identitiesonly')?.toLowerCase() === 'yes',
    identityAgent:
      agent === null
        ? values.has('identityagent')
          ? null
          : 'SSH_AUTH_SOCK'
        : agent === 'SSH_AUTH_SOCK'
          ? 'SSH_AUTH_SOCK'
          : expand(agent),
    userKnownHostsFiles: words('userknownhostsfile').map(expand),
    globalKnownHostsFiles: words('globalknownhostsfile').map(expand),
    proxyJump: (one('proxyjump') ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    proxyCommand: one('proxycommand'),
    hostKeyAlias: one('hostkeyalias'),
    strictHostKeyChecking:
      strict === 'yes' || strict === 'true'
        ? 'yes'
        : strict === 'accept-new'
          ? 'accept-new'
          : strict === 'no' || strict === 'off' || strict === 'false'
            ? 'no'
            : 'ask',
    revokedHostKeys: words('revokedhostkeys').map(expand),
  }
}

/**
 * ssh -G's complaint about a config file, located: `/home/u/.ssh/config line 3: Bad configuration
 * option: bogus` becomes `/home/u/.ssh/config:3: Bad configuration option: bogus`.
 */
function configError(stderr: string, host: string): UserError {
  const line = stderr.split('\n').find((l) => / line \d+: /.test(l)) ?? stderr.trim().split('\n')[0] ?? 'ssh -G failed'
  const located = /^(.*?):? line (\d+): (.*)$/.exec(line.trim())
  const message = located ? `${located[1]}:${located[2]}: ${located[3]}` : line.trim()
  return new UserError(
    `${host}: the SSH configuration does not read: ${message}`,
    'ssh(1) refuses the same file: fix it there (`ssh -G HOST` shows what ssh reads).',
  )
}

/** Whether an `ssh` client is installed (the connector asks once per run). */
export function sshClientInstalled(): Promise<boolean> {
  return execa('ssh', ['-V'], { reject: false, timeout: 5000 }).then(
    (r) => r.exitCode === 0 || /OpenSSH/.test(r.stderr),
    () => false,
  )
}

/** The inventory's own user and port for a host: given to ssh as `-l` and `-p`, which `Match user` and tokens see. */
export interface ExplicitLogin {
  user?: string
  port?: number
}

/**
 * Runs `ssh -G [-F file] [-l user] [-p port] -- ALIAS`: what ssh would use to reach the host, without
 * connecting.
 */
export async function probeSshConfig(
  alias: string,
  options: { configFile?: string; host: string } & ExplicitLogin,
): Promise<SshConfig> {
  const args = [
    '-G',
    ...(options.configFile ? ['-F', options.configFile] : []),
    ...(options.user !== undefined ? ['-l', options.user] : []),
    ...(options.port !== undefined ? ['-p', String(options.port)] : []),
    '--',
    alias,
  ]
  const result = await execa('ssh', args, {
    reject: false,
    timeout: 10_000,
    stdin: 'ignore',
    env: { ...process.env, LC_ALL: 'C' },
  })
  if (result.exitCode !== 0) throw configError(result.stderr, options.host)
  return sshConfigFrom(parseSshG(result.stdout), alias)
}
