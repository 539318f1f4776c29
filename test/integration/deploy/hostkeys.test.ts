// Strict host key checking against real sshd: an unknown key is refused (nothing reaches the host)
// unless --accept-new; a changed key is always refused, with guidance.
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer, connect, type AddressInfo, type Server } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fault, fleetHost } from '../../fleet/fleet.js'
import { ensureDeployed, HAVE_FLEET, hostState, testPlatform, type TestPlatform } from '../helpers/platform.js'

let platform: TestPlatform

describe.skipIf(!HAVE_FLEET)('host keys', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('an unknown host key is refused and nothing is sent; --accept-new records it as hashed', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const knownHosts = join(platform.dir, 'known_hosts')
    const all = await readFile(platform.fleet.knownHostsFile, 'utf8')
    await writeFile(
      knownHosts,
      all
        .split('\n')
        .filter((l) => !l.includes(`${erebus.address} `) && !l.startsWith(`${erebus.address},`))
        .join('\n'),
    )
    await platform.edit('inventory/platform.yaml', (t) => t.replace(platform.fleet.knownHostsFile, knownHosts))
    const before = await hostState(erebus)
    const refused = await platform.cli(['deploy', 'erebus', '--force', '--json'])
    expect(refused.code).toBe(1)
    const report = refused.json.hosts[0]
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(
      /^erebus: the host key of 10\.77\.0\.11 is not known \(ssh-ed25519 key SHA256:[A-Za-z0-9+/]{43} is in none of .*known_hosts\)\. Nothing was sent to this host\.$/,
    )
    const after = await hostState(erebus)
    expect(after.current).toBe(before.current)
    expect(after.history).toEqual(before.history)
    const human = await platform.cli(['deploy', 'erebus', '--force'])
    expect(human.stderr).toContain('then run again with --accept-new (or AIP_ACCEPT_NEW=1) to record it')
    const accepted = await platform.cli(['deploy', 'erebus', '--accept-new', '--json'])
    expect(accepted.code, accepted.stderr).toBe(0)
    const recorded = (await readFile(knownHosts, 'utf8')).trim().split('\n').at(-1)!
    expect(recorded).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 AAAA/)
    const again = await platform.cli(['deploy', 'erebus', '--json'])
    expect(again.code).toBe(0)
    await platform.edit('inventory/platform.yaml', (t) => t.replace(knownHosts, platform.fleet.knownHostsFile))
  }, 180_000)

  it('a changed host key is refused even with --accept-new, naming the offending line', async () => {
    const zelus = fleetHost(platform.fleet, 'zelus')
    const before = await hostState(zelus)
    await fault('zelus', 'hostkey-rotate')
    try {
      for (const extra of [[], ['--accept-new']]) {
        const run = await platform.cli(['deploy', 'zelus', '--force', '--json', ...extra])
        expect(run.code).toBe(1)
        expect(run.json.hosts[0].error).toMatch(
          /^zelus: REMOTE HOST IDENTIFICATION HAS CHANGED for 10\.77\.0\.14: it offers ssh-ed25519 key SHA256:\S+, which does not match .*known_hosts:\d+\. Someone could be eavesdropping \(man-in-the-middle\), or the host was reinstalled\. Nothing was sent to this host\.$/,
        )
      }
      const human = await platform.cli(['health', 'zelus'])
      expect(human.code).toBe(1)
      expect(human.stdout).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED')
      expect((await hostState(zelus)).history).toEqual(before.history)
    } finally {
      await fault('zelus', 'hostkey-restore')
    }
  }, 180_000)

  it('an unhashed [addr]:port entry written by `ssh -p` itself: a changed key there is refused even with --accept-new', async () => {
    // A port other than 22 through a forwarder on the machine, so that OpenSSH writes the bracketed form.
    const zelus = fleetHost(platform.fleet, 'zelus')
    const forwarder = await tcpForwarder(zelus.address, zelus.port)
    const port = (forwarder.address() as AddressInfo).port
    const knownHosts = join(platform.dir, 'known_hosts_port')
    const sshConfig = join(platform.dir, 'ssh_config')
    await writeFile(knownHosts, '')
    await writeFile(sshConfig, `Host ${zelus.address}\n  HostName 127.0.0.1\n  Port ${port}\n`)
    await platform.edit('inventory/platform.yaml', (t) => t.replace(platform.fleet.knownHostsFile, knownHosts))
    try {
      const ssh = [
        '-p',
        String(port),
        '-i',
        zelus.identityFile,
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'HashKnownHosts=no',
        '-o',
        'StrictHostKeyChecking=accept-new',
        `${zelus.user}@127.0.0.1`,
        'true',
      ]
      await promisify(execFile)('ssh', ssh)
      const written = await readFile(knownHosts, 'utf8')
      expect(written).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} ssh-ed25519 AAAA\\S+\\n$`))
      const env = { AIP_SSH_CONFIG: sshConfig }
      const known = await platform.cli(['preflight', 'zelus', '--json'], env)
      expect(known.code, known.stdout + known.stderr).toBe(0)
      const before = await hostState(zelus)
      await fault('zelus', 'hostkey-rotate')
      try {
        const run = await platform.cli(['deploy', 'zelus', '--force', '--accept-new', '--json'], env)
        expect(run.code).toBe(1)
        expect(run.json.hosts[0].error).toMatch(
          new RegExp(
            `^zelus: REMOTE HOST IDENTIFICATION HAS CHANGED for 127\\.0\\.0\\.1:${port}: it offers ssh-ed25519 key SHA256:\\S+, which does not match \\S+known_hosts_port:1\\.`,
          ),
        )
        // Nothing recorded: the attacker's key did not join the file.
        expect(await readFile(knownHosts, 'utf8')).toBe(written)
        expect((await hostState(zelus)).history).toEqual(before.history)
      } finally {
        await fault('zelus', 'hostkey-restore')
      }
    } finally {
      await platform.edit('inventory/platform.yaml', (t) => t.replace(knownHosts, platform.fleet.knownHostsFile))
      await new Promise((resolve) => forwarder.close(resolve))
    }
  }, 180_000)

  it('a host known only by its ECDSA key: that algorithm is offered first and the host connects without --accept-new, as ssh does', async () => {
    const nyx = fleetHost(platform.fleet, 'nyx')
    const knownHosts = join(platform.dir, 'known_hosts_ecdsa')
    const ecdsa = (
      await readFile(join(platform.fleet.stateDir, 'hosts', 'nyx', 'ssh', 'ssh_host_ecdsa_key.pub'), 'utf8')
    )
      .split(' ')
      .slice(0, 2)
      .join(' ')
    const others = (await readFile(platform.fleet.knownHostsFile, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith(`${nyx.address} `))
    await writeFile(knownHosts, [...others, `${nyx.address} ${ecdsa}`].join('\n') + '\n')
    // OpenSSH's own client, strict, with only that key
    const ssh = await promisify(execFile)('ssh', [
      '-F',
      'none',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-i',
      platform.fleet.identityFile,
      `${nyx.user}@${nyx.address}`,
      'true',
    ])
    expect(ssh.stderr).not.toContain('Host key verification failed')
    await platform.edit('inventory/platform.yaml', (t) => t.replace(platform.fleet.knownHostsFile, knownHosts))
    try {
      const status = await platform.cli(['status', 'nyx', '--json'])
      expect(status.code, status.stdout + status.stderr).toBe(0)
      expect(status.json.hosts[0]).toMatchObject({ host: 'nyx', reachable: true })
      // nothing was added: the ECDSA key was the one checked
      expect((await readFile(knownHosts, 'utf8')).trim().split('\n')).toHaveLength(others.length + 1)
    } finally {
      await platform.edit('inventory/platform.yaml', (t) => t.replace(knownHosts, platform.fleet.knownHostsFile))
    }
  }, 120_000)
})

/** 127.0.0.1:<random port> -> address:port, for as long as the test runs. */
async function tcpForwarder(address: string, port: number): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(port, address)
    client.pipe(upstream).pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}
