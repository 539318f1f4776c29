// The operator's own ~/.ssh/config against real sshd: each case is compared with what OpenSSH's own
// `ssh` does with the same file. The inventory names no identity file and no known_hosts here: both
// come from the config, as they would for `ssh HOST`.
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { fault, fleetHost } from '../../fleet/fleet.js'
import { HAVE_FLEET, testPlatform, type TestPlatform } from '../helpers/platform.js'

let platform: TestPlatform
let config: string
const run = promisify(execFile)

/** `ssh -F CONFIG ALIAS true` with BatchMode: what OpenSSH makes of the same file. */
async function openssh(alias: string): Promise<{ ok: boolean; stderr: string }> {
  try {
    await run('ssh', ['-F', config, '-o', 'BatchMode=yes', alias, 'true'], { timeout: 30_000 })
    return { ok: true, stderr: '' }
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: string }).stderr ?? error) }
  }
}

/** Rewrites inventory/hosts.yaml: one host's address becomes an alias only the SSH config knows. */
async function setAddress(host: string, address: string): Promise<void> {
  const file = join(platform.dir, 'inventory/hosts.yaml')
  const doc = parse(await readFile(file, 'utf8')) as { hosts: Record<string, { address: string }> }
  doc.hosts[host]!.address = address
  await writeFile(file, stringify(doc))
}

describe.skipIf(!HAVE_FLEET)('the SSH configuration as OpenSSH reads it', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    const fleet = platform.fleet
    // the inventory names the user only: keys and known_hosts come from the config
    const file = join(platform.dir, 'inventory/platform.yaml')
    const doc = parse(await readFile(file, 'utf8')) as { platform: { ssh: Record<string, unknown> } }
    doc.platform.ssh = { user: 'deploy' }
    await writeFile(file, stringify(doc))
    const keys = join(platform.dir, 'keys')
    await mkdir(join(platform.dir, 'ssh.d'), { recursive: true })
    await mkdir(keys, { recursive: true })
    const known = await readFile(fleet.knownHostsFile, 'utf8')
    for (const host of fleet.hosts.filter((h) => h.name !== 'local')) {
      // per-address files, found through %h
      await writeFile(join(keys, `id_${host.address}`), await readFile(fleet.identityFile), { mode: 0o600 })
      await writeFile(join(keys, `known_${host.address}`), known)
    }
    const erebus = fleetHost(fleet, 'erebus')
    const zelus = fleetHost(fleet, 'zelus')
    const thanatos = fleetHost(fleet, 'thanatos')
    config = join(platform.dir, 'ssh_config')
    await writeFile(
      join(platform.dir, 'ssh.d', 'fleet.conf'),
      [
        // reached only through erebus then zelus: zelus's own loopback, known by zelus's key (HostKeyAlias)
        'Host zelus-via-chain',
        '  HostName 127.0.0.1',
        `  ProxyJump deploy@${erebus.address},deploy@${zelus.address}`,
        `  HostKeyAlias ${zelus.address}`,
        `  IdentityFile ${keys}/id_${zelus.address}`,
        `  UserKnownHostsFile ${keys}/known_${zelus.address}`,
        // through a command: OpenSSH's own client relaying the connection from erebus
        'Host thanatos-via-command',
        `  HostName ${thanatos.address}`,
        `  ProxyCommand ssh -F none -o BatchMode=yes -i ${fleet.identityFile} -o UserKnownHostsFile=${fleet.knownHostsFile} -o StrictHostKeyChecking=yes -W %h:%p deploy@${erebus.address}`,
        `  IdentityFile ${keys}/id_%h`,
        `  UserKnownHostsFile ${keys}/known_%h`,
        'Host 10.77.0.*',
        `  IdentityFile ${keys}/id_%h`,
        `  UserKnownHostsFile ${keys}/known_%h`,
        '',
      ].join('\n'),
    )
    await writeFile(
      config,
      [`Include ${platform.dir}/ssh.d/*.conf`, 'Host *', '  User deploy', '  GlobalKnownHostsFile /dev/null', ''].join(
        '\n',
      ),
    )
    platform.env.AIP_SSH_CONFIG = config
  }, 300_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it("Include and %h tokens: the identity and known_hosts files named by the host's address", async () => {
    expect((await openssh(fleetHost(platform.fleet, 'erebus').address)).ok).toBe(true)
    const status = await platform.cli(['status', 'erebus', '--json'])
    expect(status.code, status.stdout + status.stderr).toBe(0)
    expect(status.json.hosts[0]).toMatchObject({ host: 'erebus', reachable: true })
  }, 120_000)

  it('a host reached only through a two-hop ProxyJump chain, each hop checked against known_hosts', async () => {
    expect((await openssh('zelus-via-chain')).ok).toBe(true)
    await setAddress('zelus', 'zelus-via-chain')
    const exec = await platform.cli(['exec', 'zelus', '--', 'sh', '-c', 'echo "$SSH_CONNECTION"'])
    expect(exec.code, exec.stderr).toBe(0)
    // the connection arrives at zelus's loopback from zelus itself: the last hop
    expect(exec.stdout).toMatch(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 22\n$/)
    // a first hop whose key is not known stops the chain, as ssh stops
    const zelusKnown = join(platform.dir, 'keys', `known_${fleetHost(platform.fleet, 'zelus').address}`)
    const erebus = fleetHost(platform.fleet, 'erebus')
    const saved = await readFile(join(platform.dir, 'keys', `known_${erebus.address}`), 'utf8')
    await writeFile(
      join(platform.dir, 'keys', `known_${erebus.address}`),
      saved
        .split('\n')
        .filter((l) => !l.startsWith(`${erebus.address} `))
        .join('\n'),
    )
    try {
      expect((await openssh('zelus-via-chain')).ok).toBe(false)
      const refused = await platform.cli(['exec', 'zelus', '--', 'true'])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(`zelus (jump ${erebus.address}): the host key of ${erebus.address} is not known`)
    } finally {
      await writeFile(join(platform.dir, 'keys', `known_${erebus.address}`), saved)
    }
    expect(await readFile(zelusKnown, 'utf8')).not.toContain('127.0.0.1')
  }, 120_000)

  it("a host reached through ProxyCommand: the command's stdin and stdout are the connection", async () => {
    expect((await openssh('thanatos-via-command')).ok).toBe(true)
    await setAddress('thanatos', 'thanatos-via-command')
    const exec = await platform.cli(['exec', 'thanatos', '--', 'sh', '-c', 'echo "$SSH_CONNECTION"'])
    expect(exec.code, exec.stderr).toBe(0)
    // relayed by erebus: thanatos sees the connection come from erebus's address
    expect(exec.stdout.split(' ')[0]).toBe(fleetHost(platform.fleet, 'erebus').address)
  }, 120_000)

  it('a host key listed under RevokedHostKeys is refused, as ssh refuses it', async () => {
    const hades = fleetHost(platform.fleet, 'hades')
    const revoked = join(platform.dir, 'revoked_keys')
    await writeFile(
      revoked,
      await readFile(join(platform.fleet.stateDir, 'hosts', 'hades', 'ssh', 'ssh_host_ed25519_key.pub')),
    )
    const original = await readFile(config, 'utf8')
    await writeFile(config, original.replace('Host *\n', `Host *\n  RevokedHostKeys ${revoked}\n`))
    try {
      const ssh = await openssh(hades.address)
      expect(ssh.ok).toBe(false)
      expect(ssh.stderr).toMatch(/revoked/i)
      const status = await platform.cli(['status', 'hades', '--json'])
      expect(status.code).toBe(1)
      expect(status.json.hosts[0].error).toMatch(
        /^hades: the host key of 10\.77\.0\.18 \(ssh-ed25519 key SHA256:\S+\) is revoked \((\S+):1\)\. Nothing was sent to this host\.$/,
      )
      // the file that revokes it is named, not known_hosts
      expect(/is revoked \((\S+):1\)/.exec(status.json.hosts[0].error)?.[1]).toBe(revoked)
    } finally {
      await writeFile(config, original)
    }
  }, 120_000)

  it('StrictHostKeyChecking no is refused with why; accept-new records a first-seen key as --accept-new does', async () => {
    const moros = fleetHost(platform.fleet, 'moros')
    const original = await readFile(config, 'utf8')
    const known = join(platform.dir, 'keys', `known_${moros.address}`)
    const saved = await readFile(known, 'utf8')
    try {
      await writeFile(
        config,
        original.replace('Host *\n', `Host ${moros.address}\n  StrictHostKeyChecking no\nHost *\n`),
      )
      const careless = await platform.cli(['status', 'moros', '--json'])
      expect(careless.code).toBe(1)
      expect(careless.json.hosts[0].error).toBe(
        `moros: the SSH configuration says StrictHostKeyChecking no for ${moros.address}: ai-platform checks host keys always`,
      )
      await writeFile(
        known,
        saved
          .split('\n')
          .filter((l) => !l.startsWith(`${moros.address} `))
          .join('\n'),
      )
      await writeFile(
        config,
        original.replace('Host *\n', `Host ${moros.address}\n  StrictHostKeyChecking accept-new\nHost *\n`),
      )
      const first = await platform.cli(['status', 'moros', '--json'])
      expect(first.code, first.stdout + first.stderr).toBe(0)
      expect((await readFile(known, 'utf8')).split('\n').filter((l) => l.startsWith('|1|'))).toHaveLength(1)
    } finally {
      await writeFile(config, original)
      await writeFile(known, saved)
    }
  }, 120_000)

  it('a host whose key a host CA signed: accepted by its @cert-authority line, refused once the line is gone, as ssh does', async () => {
    const kratos = fleetHost(platform.fleet, 'kratos')
    const ca = join(platform.dir, 'host_ca')
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleet host CA', '-f', ca])
    const known = join(platform.dir, 'keys', `known_${kratos.address}`)
    const saved = await readFile(known, 'utf8')
    await fault('kratos', 'hostcert-on', ca)
    try {
      // known_hosts trusts the CA for the fleet's addresses and holds no key of kratos itself
      await writeFile(known, `@cert-authority 10.77.0.* ${(await readFile(`${ca}.pub`, 'utf8')).trim()}\n`)
      expect((await openssh(kratos.address)).ok).toBe(true)
      const status = await platform.cli(['status', 'kratos', '--json'])
      expect(status.code, status.stdout + status.stderr).toBe(0)
      expect(status.json.hosts[0]).toMatchObject({ host: 'kratos', reachable: true })
      // nothing recorded: the CA vouched for the key
      expect((await readFile(known, 'utf8')).trim().split('\n')).toHaveLength(1)
      await writeFile(known, '')
      expect((await openssh(kratos.address)).ok).toBe(false)
      const refused = await platform.cli(['status', 'kratos', '--json'])
      expect(refused.code).toBe(1)
      expect(refused.json.hosts[0].error).toMatch(/^kratos: the host key of 10\.77\.0\.16 is not known/)
      // a CA that did not sign it: refused, saying why
      const other = join(platform.dir, 'other_ca')
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other])
      await writeFile(known, `@cert-authority 10.77.0.* ${(await readFile(`${other}.pub`, 'utf8')).trim()}\n`)
      const untrusted = await platform.cli(['status', 'kratos', '--json'])
      expect(untrusted.code).toBe(1)
      expect(untrusted.json.hosts[0].error).toContain(
        'no certificate vouches for it: no @cert-authority line trusts the CA that signed it',
      )
    } finally {
      await writeFile(known, saved)
      await fault('kratos', 'hostcert-off')
    }
  }, 180_000)
})
