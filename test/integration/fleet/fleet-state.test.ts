// fleet.json describes the machine as it is: namespaces, processes, keys, sockets and paths.
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { knownHostKeys } from '../../fleet/fleet.js'
import { HAVE_FLEET, IS_ROOT, fleetHost, fleetOrEmpty } from './helpers.js'

const fleet = fleetOrEmpty()

describe.skipIf(!HAVE_FLEET || !IS_ROOT)('fleet.json matches the running fleet', () => {
  it('has the documented top-level fields', () => {
    expect(fleet).toMatchObject({ bridge: 'aipfleet0', bridgeAddress: '10.77.0.1', subnet: '10.77.0.0/24' })
    for (const f of [fleet.knownHostsFile, fleet.identityFile, fleet.composeV2Plugin]) expect(existsSync(f)).toBe(true)
    expect(statSync(fleet.identityFile).mode & 0o077).toBe(0)
    expect(fleet.images).toEqual(['aip/busybox:1', 'aip/node:20', 'aip/ollama-standin:1', 'aip/standin:1'])
    expect(readFileSync(`/sys/class/net/${fleet.bridge}/operstate`, 'utf8').trim()).toBe('up')
  })

  for (const host of fleet.hosts) {
    it(`${host.name}: holder, sshd and dockerd run in the host's network namespace`, () => {
      expect(host).toMatchObject({
        port: 22,
        user: 'deploy',
        identityFile: fleet.identityFile,
        netns: `aip-${host.name}`,
      })
      const netns = statSync(host.netnsPath).ino
      for (const pid of [host.pids.holder, host.pids.sshd, host.pids.dockerd]) {
        expect(pid).toBeTypeOf('number')
        expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(`net:[${netns}]`)
      }
      // sshd and dockerd share the holder's mount namespace, which is not the machine's
      const mnt = readlinkSync(`/proc/${host.pids.holder}/ns/mnt`)
      expect(readlinkSync(`/proc/${host.pids.sshd}/ns/mnt`)).toBe(mnt)
      expect(readlinkSync(`/proc/${host.pids.dockerd}/ns/mnt`)).toBe(mnt)
      expect(readlinkSync('/proc/self/ns/mnt')).not.toBe(mnt)
    })

    it(`${host.name}: known_hosts trusts exactly the host's key; paths exist`, () => {
      const recorded = readFileSync(`${host.outside.root}/ssh/ssh_host_ed25519_key.pub`, 'utf8').split(' ')[1]!
      expect(
        knownHostKeys(fleet)
          .get(host.address)
          ?.map((k) => k.toString('base64')),
      ).toEqual([recorded])
      expect(statSync(host.outside.dockerSocket).isSocket()).toBe(true)
      expect(statSync(host.outside.baseDir).isDirectory()).toBe(true)
      if (host.name === 'local') {
        expect(host.baseDir).toBe(host.outside.baseDir)
        expect(statSync(host.dockerSocket).isSocket()).toBe(true)
      } else {
        expect(host.baseDir).toBe('/opt/ai-platform')
        expect(host.dockerSocket).toBe('/var/run/docker.sock')
      }
    })
  }

  it('GPU hosts: orpheus, kratos, nyx one 12 GiB NVIDIA GPU each; hades two 24 GiB AMD GPUs', () => {
    const gpus = Object.fromEntries(fleet.hosts.filter((h) => h.gpu).map((h) => [h.name, h.gpu]))
    expect(gpus).toEqual({
      orpheus: { vendor: 'nvidia', count: 1, vramGb: 12, vramGbPerGpu: 12 },
      kratos: { vendor: 'nvidia', count: 1, vramGb: 12, vramGbPerGpu: 12 },
      nyx: { vendor: 'nvidia', count: 1, vramGb: 12, vramGbPerGpu: 12 },
      hades: { vendor: 'amd', count: 2, vramGb: 48, vramGbPerGpu: 24 },
    })
    expect(fleet.hosts.filter((h) => h.compose === 'v2').map((h) => h.name)).toEqual([
      'erebus',
      'orpheus',
      'nyx',
      'moros',
      'local',
    ])
    expect(fleetHost(fleet, 'local').env?.DOCKER_HOST).toMatch(/^unix:\/\//)
  })
})
