// Fault switches round trips (root only): each fault is observed from a client, then undone.
import { connect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { fault, loadFleet } from '../../fleet/fleet.js'
import {
  HAVE_FLEET,
  HostKeyMismatchError,
  IS_ROOT,
  fleetHost,
  fleetOrEmpty,
  onHost,
  sshBinary,
  sshConnect,
  sshExec,
} from './helpers.js'

const fleet = fleetOrEmpty()
const HOST = 'zelus'

function tcpConnect(address: string, port: number, timeoutMs: number): Promise<'open' | 'refused' | 'timeout'> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port })
    const timer = setTimeout(() => {
      s.destroy()
      resolve('timeout')
    }, timeoutMs)
    s.on('connect', () => {
      clearTimeout(timer)
      s.destroy()
      resolve('open')
    })
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'timeout')
    })
  })
}

describe.skipIf(!HAVE_FLEET || !IS_ROOT)('fleet fault switches', () => {
  const host = HAVE_FLEET ? fleetHost(fleet, HOST) : fleet.hosts[0]!

  afterAll(async () => {
    if (!HAVE_FLEET || !IS_ROOT) return
    // leave the host as we found it, whatever failed
    for (const a of ['link-up', 'sshd-start', 'docker-start', 'hostkey-restore'] as const)
      await fault(HOST, a).catch(() => {})
  })

  it('sshd-stop refuses connections, open sessions survive; sshd-start restores logins', async () => {
    const session = await sshConnect(fleet, host)
    try {
      await fault(HOST, 'sshd-stop')
      expect(await tcpConnect(host.address, 22, 3000)).toBe('refused')
      await expect(sshConnect(fleet, host)).rejects.toThrow(/ECONNREFUSED/)
      const still = await sshExec(session, 'hostname')
      expect(still.stdout.trim()).toBe(HOST)
    } finally {
      session.end()
    }
    await fault(HOST, 'sshd-start')
    expect((await onHost(fleet, host, 'hostname')).stdout.trim()).toBe(HOST)
    const pids = fleetHost(loadFleet(), HOST).pids
    expect(pids.sshd).not.toBe(host.pids.sshd) // fleet.json follows the restart
  })

  it('hostkey-rotate makes strict clients refuse the host; hostkey-restore lets them in again', async () => {
    await fault(HOST, 'hostkey-rotate')
    await expect(sshConnect(fleet, host)).rejects.toBeInstanceOf(HostKeyMismatchError)
    const r = await sshBinary(fleet, host, 'true')
    expect(r.code).toBe(255)
    expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/)
    expect(r.stderr).toMatch(/Host key verification failed/)
    await fault(HOST, 'hostkey-restore')
    expect((await sshBinary(fleet, host, 'hostname')).stdout.trim()).toBe(HOST)
  })

  it('link-down makes the host unreachable (timeouts, not refusals); link-up brings it back', async () => {
    await fault(HOST, 'link-down')
    expect(await tcpConnect(host.address, 22, 2000)).toBe('timeout')
    await fault(HOST, 'link-up')
    expect(await tcpConnect(host.address, 22, 5000)).toBe('open')
    expect((await onHost(fleet, host, 'hostname')).stdout.trim()).toBe(HOST)
  })

  it('docker-stop stops the engine and its containers; docker-start brings back restart-policy containers', async () => {
    const start = await onHost(
      fleet,
      host,
      'docker rm -f keeper >/dev/null 2>&1; docker run -d --name keeper --restart unless-stopped aip/busybox:1 sleep 3600 >/dev/null && docker inspect -f "{{.State.Running}}" keeper',
    )
    expect(start.stdout.trim()).toBe('true')
    await fault(HOST, 'docker-stop')
    const down = await onHost(fleet, host, 'docker ps 2>&1; echo "rc=$?"')
    expect(down.stdout).toMatch(/Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock[\s\S]*rc=1/)
    await fault(HOST, 'docker-start')
    const up = await onHost(
      fleet,
      host,
      'for i in $(seq 50); do [ "$(docker inspect -f "{{.State.Running}}" keeper)" = true ] && break; sleep 0.2; done; docker inspect -f "{{.State.Running}}" keeper; docker rm -f keeper >/dev/null',
    )
    expect(up.stdout.trim()).toBe('true')
  })

  it('status reports every switch back in its normal position', async () => {
    expect((await fault(HOST, 'status')).trim()).toBe(
      `${HOST} sshd=up dockerd=up link=up hostkey=original gpu-driver=none gpu-runtime=none`,
    )
  })
})
