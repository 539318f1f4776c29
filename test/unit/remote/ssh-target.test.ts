// A host resolved as OpenSSH resolves it: the real `ssh -G` reads a config split with Include, Host
// patterns and tokens; the inventory's explicit values win; ProxyJump chains keep every hop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
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

const resolve = (
  address: string,
  ssh: Record<string, unknown> = {},
  configFile = join(dir, 'config'),
): Promise<SshTarget> => resolveSshTarget({ name: 'h', address, ssh }, { configFile })
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
