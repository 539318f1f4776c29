// A host resolved as OpenSSH resolves it: the real `ssh -G` reads a config split with Include, Host
// patterns, Match blocks and tokens; the inventory's explicit values win (as `ssh -l USER -p PORT`);
// ProxyJump chains keep every hop; where no ssh is installed, the ssh-config library reads the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { expandTokens, parseSshG, sshConfigFrom } from '../../../src/remote/ssh-config.js'
import { resolveSshTarget, type SshTarget } from '../../../src/remote/ssh-target.js'
import { readRevokedKeys, checkHostKey } from '../../../src/remote/known-hosts.js'

const dir = mkdtempSync(join(tmpdir(), 'aip-ssh-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const key = join(dir, 'id_box_10.9.9.9_alice')
writeFileSync(key, 'not a real key\n')
writeFileSync(
  join(dir, 'hosts.conf'),
  [
    'Host box',
    '  HostName 10.9.9.9',
    '  User alice',
    '  Port 2222',
    `  IdentityFile ${dir}/id_%n_%h_%r`,
    `  UserKnownHostsFile ${dir}/kh_%h`,
    '  ProxyJump bastion1,bob@bastion2:2200',
    'Host bastion1',
    '  HostName 10.8.0.1',
    'Host bastion2',
    '  HostName 10.8.0.2',
    'Host aliased',
    '  HostKeyAlias cluster-key',
    '  ProxyCommand nc %h %p',
    'Host careless',
    '  StrictHostKeyChecking no',
    '',
  ].join('\n'),
)
writeFileSync(
  join(dir, 'config'),
  [
    `Include ${dir}/hosts.conf`,
    'Host *',
    '  StrictHostKeyChecking accept-new',
    `  GlobalKnownHostsFile ${dir}/global_known_hosts`,
    '',
  ].join('\n'),
)
writeFileSync(join(dir, 'broken'), ['Host x', '  HostName 1.2.3.4', '  Bogus yes', ''].join('\n'))
for (const file of ['id_carol', 'id_deploy', 'id_certified', 'id_certified-cert.pub', 'cert_deploy_10.5.0.5.pub'])
  writeFileSync(join(dir, file), 'not a real key\n')
writeFileSync(
  join(dir, 'match.conf'),
  [
    'Host matched',
    '  HostName 10.7.0.7',
    // Match host sees the name after HostName; Match user the user so far, or the one given with -l
    'Match host 10.7.0.7',
    '  User carol',
    '  Port 2207',
    'Match user carol',
    `  IdentityFile ${dir}/id_carol`,
    'Match user deploy',
    `  IdentityFile ${dir}/id_deploy`,
    '  IdentitiesOnly yes',
    'Host agent-box',
    '  HostName 10.6.0.6',
    `  IdentityAgent ${dir}/agent_%h_%r.sock`,
    'Host only-files',
    '  IdentitiesOnly yes',
    `  IdentityAgent ${dir}/agent.sock`,
    'Host no-agent',
    '  IdentityAgent none',
    'Host env-agent',
    '  IdentityAgent SSH_AUTH_SOCK',
    'Host certified',
    '  HostName 10.5.0.5',
    '  User deploy',
    `  IdentityFile ${dir}/id_certified`,
    `  CertificateFile ${dir}/cert_%r_%h.pub`,
    `  CertificateFile ${dir}/missing-cert.pub`,
    // a file that does not exist (skipped), so that no host gets ssh's default identity files, which
    // differ between OpenSSH versions (the library's are one version's)
    'Host *',
    `  IdentityFile ${dir}/id_none`,
    '',
  ].join('\n'),
)

const resolve = (
  address: string,
  ssh: Record<string, unknown> = {},
  configFile = join(dir, 'config'),
  probe?: null,
): Promise<SshTarget> =>
  resolveSshTarget({ name: 'h', address, ssh }, { configFile, ...(probe === null ? { probe } : {}) })
const hops = (t: SshTarget | null): string[] => (t ? [...hops(t.proxyJump), `${t.user}@${t.hostname}:${t.port}`] : [])

describe('ssh -G, as ssh reads the config', () => {
  it('Include, tokens in IdentityFile and UserKnownHostsFile, a two-hop ProxyJump in order', async () => {
    const t = await resolve('box')
    expect({ hostname: t.hostname, user: t.user, port: t.port, identityFiles: t.identityFiles }).toEqual({
      hostname: '10.9.9.9',
      user: 'alice',
      port: 2222,
      identityFiles: [key],
    })
    expect(t.knownHostsFiles).toEqual([`${dir}/kh_10.9.9.9`, `${dir}/global_known_hosts`])
    expect(t.strictHostKeyChecking).toBe('accept-new')
    const me = userInfo().username
    expect(hops(t.proxyJump)).toEqual([`${me}@10.8.0.1:22`, 'bob@10.8.0.2:2200'])
  })

  it("the inventory's explicit values win", async () => {
    const t = await resolve('box', { user: 'deploy', port: 22, proxyJump: 'bastion2' })
    expect([t.user, t.port]).toEqual(['deploy', 22])
    expect(hops(t.proxyJump)).toEqual([`${userInfo().username}@10.8.0.2:22`])
  })

  it('HostKeyAlias and ProxyCommand, tokens expanded', async () => {
    const t = await resolve('aliased')
    expect(t.hostKeyAlias).toBe('cluster-key')
    expect(t.proxyCommand).toBe('nc aliased 22')
  })

  it('StrictHostKeyChecking no is refused with why; a config ssh refuses is a located error', async () => {
    await expect(resolve('careless')).rejects.toThrow(
      'h: the SSH configuration says StrictHostKeyChecking no for careless: ai-platform checks host keys always',
    )
    await expect(resolve('x', {}, join(dir, 'broken'))).rejects.toThrow(
      `h: the SSH configuration does not read: ${dir}/broken:3: Bad configuration option: bogus`,
    )
  })
})

describe('ssh -G: Match, the agent, user certificates', () => {
  afterEach(() => vi.unstubAllEnvs())
  const match = join(dir, 'match.conf')
  const login = (t: SshTarget) => ({ user: t.user, hostname: t.hostname, port: t.port, identityFiles: t.identityFiles })

  it("Match host applies to the name after HostName; Match user to the config's user, or the inventory's as ssh -l", async () => {
    const carol = { user: 'carol', hostname: '10.7.0.7', port: 2207, identityFiles: [`${dir}/id_carol`] }
    expect(login(await resolve('matched', {}, match))).toEqual(carol)
    expect(login(await resolve('10.7.0.7', {}, match))).toEqual(carol)
    // the inventory's user is ssh's -l: `Match user deploy` applies, `User carol` does not
    const deploy = await resolve('matched', { user: 'deploy', port: 22 }, match)
    expect(login(deploy)).toEqual({
      user: 'deploy',
      hostname: '10.7.0.7',
      port: 22,
      identityFiles: [`${dir}/id_deploy`],
    })
    expect(deploy.agent).toBeNull()
    expect(login(await resolve('elsewhere', {}, match))).toMatchObject({ user: userInfo().username, port: 22 })
  })

  it('IdentityAgent (tokens expanded, none, SSH_AUTH_SOCK) is the agent tried; IdentitiesOnly yes: no agent at all', async () => {
    vi.stubEnv('SSH_AUTH_SOCK', '/run/user/agent.sock')
    expect((await resolve('agent-box', {}, match)).agent).toBe(`${dir}/agent_10.6.0.6_${userInfo().username}.sock`)
    expect((await resolve('agent-box', { user: 'ops' }, match)).agent).toBe(`${dir}/agent_10.6.0.6_ops.sock`)
    expect((await resolve('only-files', {}, match)).agent).toBeNull()
    expect((await resolve('no-agent', {}, match)).agent).toBeNull()
    expect((await resolve('env-agent', {}, match)).agent).toBe('/run/user/agent.sock')
    expect((await resolve('elsewhere', {}, match)).agent).toBe('/run/user/agent.sock')
    vi.stubEnv('SSH_AUTH_SOCK', undefined)
    expect((await resolve('elsewhere', {}, match)).agent).toBeNull()
  })

  it('CertificateFile (tokens expanded, missing files skipped) and IDENTITY-cert.pub are the certificates ssh would offer', async () => {
    const t = await resolve('certified', {}, match)
    expect(t.certificateFiles).toEqual([`${dir}/cert_deploy_10.5.0.5.pub`, `${dir}/id_certified-cert.pub`])
    expect((await resolve('matched', {}, match)).certificateFiles).toEqual([])
    // an explicit identity file brings its own certificate, as ssh -i does
    const explicit = await resolve('matched', { identityFile: `${dir}/id_certified` }, match)
    expect(explicit.certificateFiles).toEqual([`${dir}/id_certified-cert.pub`])
  })
})

describe('without an ssh client: the ssh-config library', () => {
  afterEach(() => vi.unstubAllEnvs())
  const match = join(dir, 'match.conf')

  it('reads Host and Match blocks as ssh -G does, tokens expanded', async () => {
    vi.stubEnv('SSH_AUTH_SOCK', '/run/user/agent.sock')
    for (const [address, ssh] of [
      ['matched', {}],
      ['10.7.0.7', {}],
      ['matched', { user: 'deploy', port: 22 }],
      ['agent-box', {}],
      ['only-files', {}],
      ['no-agent', {}],
      ['env-agent', {}],
      ['certified', {}],
      ['elsewhere', {}],
    ] as const) {
      expect(await resolve(address, ssh, match, null), address).toEqual(await resolve(address, ssh, match))
    }
  })

  it('does not follow Include (ssh -G does)', async () => {
    const t = await resolve('box', {}, join(dir, 'config'), null)
    expect([t.hostname, t.user, t.port, t.strictHostKeyChecking]).toEqual([
      'box',
      userInfo().username,
      22,
      'accept-new',
    ])
    expect(t.proxyJump).toBeNull()
  })
})

describe('ssh -G output and tokens', () => {
  it('keeps every identityfile line, reads none as unset', () => {
    const config = sshConfigFrom(
      parseSshG(
        'hostname 10.0.0.1\nuser u\nport 2200\nidentityfile ~/.ssh/a\nidentityfile %d/b_%p\nproxyjump none\nidentityagent none\nstricthostkeychecking false\n',
      ),
      'web',
    )
    expect(config).toMatchObject({
      hostname: '10.0.0.1',
      user: 'u',
      port: 2200,
      identityFiles: [`${homedir()}/.ssh/a`, `${homedir()}/b_2200`],
      proxyJump: [],
      identityAgent: null,
      strictHostKeyChecking: 'no',
    })
  })

  it('expands %% %h %n %p %r %u and a leading ~, leaves unknown tokens', () => {
    expect(expandTokens('~/k_%h_%n_%p_%r_%u_%%_%Z', { hostname: 'h.example', alias: 'web', port: 22, user: 'r' })).toBe(
      `${homedir()}/k_h.example_web_22_r_${userInfo().username}_%_%Z`,
    )
  })

  it('RevokedHostKeys: every key listed is refused whatever the host, naming the file that revokes it', async () => {
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 1, 7])])
    const file = join(dir, 'revoked_keys')
    writeFileSync(file, `# revoked\nssh-ed25519 ${blob.toString('base64')} old key\n`)
    const entries = await readRevokedKeys(file)
    expect(checkHostKey(entries, ['any-host'], blob)).toEqual({ status: 'revoked', line: 2, at: `${file}:2` })
  })
})
