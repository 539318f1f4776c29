// Every fleet host takes key-only logins from `deploy`, with strict host key checking, over ssh2
// and over the real OpenSSH client, and serves sftp.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { HAVE_FLEET, fleetOrEmpty, sftp, sshBinary, sshConnect, sshExec } from './helpers.js'

const fleet = fleetOrEmpty()

describe.skipIf(!HAVE_FLEET)('fleet ssh', () => {
  it('has all ten hosts, each on its own address of the bridge subnet', () => {
    expect(fleet.hosts.map((h) => h.name)).toEqual([
      'erebus',
      'hephaestus',
      'thanatos',
      'zelus',
      'orpheus',
      'kratos',
      'nyx',
      'hades',
      'moros',
      'local',
    ])
    expect(new Set(fleet.hosts.map((h) => h.address)).size).toBe(10)
    for (const h of fleet.hosts) expect(h.address).toMatch(/^10\.77\.0\.\d+$/)
  })

  for (const host of fleet.hosts) {
    it(`${host.name}: ssh2 login as deploy with a verified host key, then sftp put/get`, async () => {
      const client = await sshConnect(fleet, host)
      try {
        const who = await sshExec(client, 'id -un; hostname; id -nG; test -w /opt/ai-platform && echo writable')
        expect(who.code).toBe(0)
        expect(who.stdout.split('\n')).toEqual(['deploy', host.name, expect.stringContaining('docker'), 'writable', ''])

        const s = await sftp(client)
        const payload = randomBytes(64 * 1024)
        const remote = `/opt/ai-platform/sftp-${randomBytes(4).toString('hex')}.bin`
        await new Promise<void>((resolve, reject) => s.writeFile(remote, payload, (e) => (e ? reject(e) : resolve())))
        const back = await new Promise<Buffer>((resolve, reject) =>
          s.readFile(remote, (e, b) => (e ? reject(e) : resolve(b))),
        )
        expect(back.equals(payload)).toBe(true)
        const size = await sshExec(client, `stat -c %s ${remote} && rm ${remote}`)
        expect(size.stdout.trim()).toBe(String(payload.length))
      } finally {
        client.end()
      }
    })

    it(`${host.name}: OpenSSH client with StrictHostKeyChecking=yes`, async () => {
      const r = await sshBinary(fleet, host, 'echo "$(id -un)@$(hostname)"')
      expect(r.stderr).not.toMatch(/Permanently added|WARNING/)
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe(`deploy@${host.name}`)
    })
  }

  it('refuses passwords and root: only the deploy key gets in', async () => {
    const host = fleet.hosts[0]!
    const r = await sshBinary(fleet, { ...host, user: 'root' }, 'true')
    expect(r.code).toBe(255)
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/)
  })
})
