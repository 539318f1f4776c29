// `health all` against the fleet, with real faults: a stopped service, an unhealthy container, an
// unreachable host (sshd stopped, link cut), a missing GPU driver, a missing model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fault, fleetHost } from '../../fleet/fleet.js'
import {
  ensureDeployed,
  HAVE_FLEET,
  serviceContainer,
  testPlatform,
  waitFor,
  type TestPlatform,
} from '../helpers/platform.js'

let platform: TestPlatform

/** Back to healthy as Docker sees it, before the next test looks at the whole fleet. */
async function healthyAgain(host: string, service: string): Promise<void> {
  await waitFor(
    `${host} ${service} healthy again`,
    async () => {
      const status = (await serviceContainer(fleetHost(platform.fleet, host), service)).info.Status
      return status.startsWith('Up ') && !/\((unhealthy|health: starting)\)/.test(status)
    },
    90_000,
  )
}

/** Checks that did not pass: not ok, and not an on-demand service stopped by design. */
const failing = (report: any) =>
  report.hosts.flatMap((h: any) =>
    h.checks
      .filter((c: any) => c.status !== 'ok' && c.status !== 'stopped')
      .map((c: any) => `${c.host} ${c.service ?? '-'} ${c.check}: ${c.detail}`),
  )

describe.skipIf(!HAVE_FLEET)('health all on the fleet', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
    const pulled = await platform.cli(['models', 'pull', '--yes', '--json'])
    expect(pulled.code, pulled.stderr).toBe(0)
  }, 600_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('all healthy: every host, container, endpoint, GPU and model; exit 0', async () => {
    const run = await platform.cli(['health', 'all', '--json'])
    expect(failing(run.json)).toEqual([])
    expect(run.code).toBe(0)
    expect(run.json.summary).toMatchObject({ hosts: 10, unreachable: 0, failed: 0 })
    const checks = run.json.hosts.flatMap((h: any) => h.checks)
    // the reference's on-demand services, never started: stopped by design, apart from the failures
    expect(
      checks
        .filter((c: any) => c.status === 'stopped')
        .map((c: any) => `${c.host} ${c.service}`)
        .sort(),
    ).toEqual([
      'hephaestus ddns-updater',
      'kratos automatic1111',
      'kratos comfyui',
      'local ollama-local',
      'moros tempo',
    ])
    expect(
      checks
        .filter((c: any) => c.check.startsWith('gpu'))
        .map((c: any) => c.host)
        .sort(),
    ).toEqual(['hades', 'kratos', 'nyx', 'orpheus'])
    expect(checks.find((c: any) => c.host === 'hades' && c.check.startsWith('gpu')).detail).toMatch(
      /^2 GPUs, 24 GiB \+ 24 GiB/,
    )
    expect(checks.find((c: any) => c.host === 'kratos' && c.check.startsWith('ollama')).detail).toBe(
      '6 models, all 6 expected present',
    )
    const table = await platform.cli(['health', 'all'])
    expect(table.stdout).toMatch(/^HOST +SERVICE +CHECK +STATUS +LATENCY +DETAIL$/m)
    expect(table.stdout).toMatch(/^healthy: \d+\/\d+ checks ok on 10\/10 hosts, 5 stopped on demand in \d+ ms$/m)
  }, 120_000)

  it('a stopped service fails its container and endpoint checks, and only those', async () => {
    const { container } = await serviceContainer(fleetHost(platform.fleet, 'erebus'), 'redis-exporter')
    await container.stop()
    try {
      const run = await platform.cli(['health', 'all', '--json'])
      expect(run.code).toBe(1)
      expect(failing(run.json)).toEqual([
        'erebus redis-exporter container: exited',
        'erebus redis-exporter http :9121/metrics: connection refused',
      ])
    } finally {
      await container.start()
      await healthyAgain('erebus', 'redis-exporter')
    }
  }, 120_000)

  it('a container Docker marks unhealthy is reported unhealthy', async () => {
    const { name } = await serviceContainer(fleetHost(platform.fleet, 'hephaestus'), 'uptime-kuma')
    await fault('hephaestus', 'service-unhealthy', name)
    try {
      await waitFor(
        'uptime-kuma unhealthy',
        async () =>
          (await serviceContainer(fleetHost(platform.fleet, 'hephaestus'), 'uptime-kuma')).info.Status.includes(
            '(unhealthy)',
          ),
        90_000,
      )
      const run = await platform.cli(['health', 'hephaestus', '--json'])
      expect(run.code).toBe(1)
      // Its declared check is `/`, which the stand-in still serves: only Docker's verdict fails.
      expect(failing(run.json)).toEqual(['hephaestus uptime-kuma container: running, unhealthy'])
    } finally {
      await fault('hephaestus', 'service-healthy', name)
      await healthyAgain('hephaestus', 'uptime-kuma')
    }
  }, 180_000)

  it('unreachable hosts are reported, not crashed on: sshd stopped, and a cut link within --timeout', async () => {
    await fault('zelus', 'sshd-stop')
    try {
      await fault('thanatos', 'link-down')
      const started = Date.now()
      const run = await platform.cli(['health', 'all', '--json', '--timeout', '2'])
      const elapsed = Date.now() - started
      expect(run.code).toBe(1)
      expect(run.stderr).toBe('')
      const zelus = run.json.hosts.find((h: any) => h.host === 'zelus')
      const thanatos = run.json.hosts.find((h: any) => h.host === 'thanatos')
      expect(zelus.reachable).toBe(false)
      expect(zelus.error).toMatch(/^zelus: connection refused by deploy@10\.77\.0\.14:22: is sshd running\?$/)
      // zelus's services still answer over the network: only its SSH-borne checks fail.
      expect(zelus.checks.filter((c: any) => c.check !== 'container').every((c: any) => c.status === 'ok')).toBe(true)
      expect(thanatos.reachable).toBe(false)
      expect(thanatos.checks.every((c: any) => c.status === 'fail')).toBe(true)
      expect(run.json.summary.unreachable).toBe(2)
      expect(
        run.json.hosts
          .filter((h: any) => !['zelus', 'thanatos'].includes(h.host))
          .flatMap((h: any) => h.checks)
          .filter((c: any) => c.status !== 'ok' && c.status !== 'stopped'),
      ).toEqual([])
      expect(elapsed).toBeLessThan(15_000)
    } finally {
      await Promise.allSettled([fault('zelus', 'sshd-start'), fault('thanatos', 'link-up')])
    }
  }, 120_000)

  it('a GPU host whose driver is missing fails its GPU check with the driver message', async () => {
    await fault('kratos', 'gpu-driver-missing')
    await fault('hades', 'gpu-driver-missing')
    try {
      const run = await platform.cli(['health', '@gpu', '--json'])
      expect(run.code).toBe(1)
      const gpu = (host: string) =>
        run.json.hosts.find((h: any) => h.host === host).checks.find((c: any) => c.check.startsWith('gpu'))
      expect(gpu('kratos')).toMatchObject({
        status: 'fail',
        detail:
          "nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      })
      expect(gpu('hades')).toMatchObject({
        status: 'fail',
        detail: 'rocm-smi printed nothing (exit 0): the amdgpu driver is not loaded',
      })
      expect(gpu('nyx')).toMatchObject({ status: 'ok' })
    } finally {
      await Promise.allSettled([fault('kratos', 'gpu-driver-ok'), fault('hades', 'gpu-driver-ok')])
    }
  }, 120_000)

  it('an Ollama that answers but lacks an expected model is unhealthy', async () => {
    const removed = await platform.cli(['models', 'rm', 'llama3.2:1b', '--on', 'nyx', '--json'])
    expect(removed.json.results).toEqual([{ host: 'nyx', model: 'llama3.2:1b', status: 'deleted' }])
    const run = await platform.cli(['health', 'nyx', '--json'])
    expect(run.code).toBe(1)
    expect(failing(run.json)).toEqual(['nyx ollama ollama :11434: missing llama3.2:1b'])
    const back = await platform.cli(['models', 'pull', 'llama3.2:1b', '--on', 'nyx', '--json'])
    expect(back.json.results.map((r: any) => [r.host, r.model, r.status])).toEqual([['nyx', 'llama3.2:1b', 'pulled']])
    expect((await platform.cli(['health', 'nyx', '--json'])).code).toBe(0)
  }, 120_000)
})
