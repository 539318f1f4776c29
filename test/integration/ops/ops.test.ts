// Day-two commands on the fleet: status, preflight, logs, exec, locks, audit.
import { spawn, spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { fault, fleetHost } from '../../fleet/fleet.js'
import { REPO } from '../../helpers/project.js'
import { ensureDeployed, HAVE_FLEET, hostState, testPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'
import { sshExec } from '../helpers/ssh.js'

let platform: TestPlatform

describe.skipIf(!HAVE_FLEET)('day-two commands', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('status: the release each host runs, who deployed it, and its containers', async () => {
    const run = await platform.cli(['status', 'erebus', 'moros', '--json'])
    expect(run.code).toBe(0)
    for (const host of run.json.hosts) {
      const state = await hostState(fleetHost(platform.fleet, host.host))
      expect(host.release.id).toBe(state.current)
      expect(host.release.by).toMatch(/^\S+@\S+$/)
      expect(host.containers.map((c: any) => c.service)).toEqual(state.containers.map((c) => c.service))
    }
  }, 60_000)

  it('preflight: every check per host; a missing GPU driver fails it', async () => {
    const ok = await platform.cli(['preflight', 'all', '--json'])
    expect(ok.code, JSON.stringify(ok.json?.hosts?.filter((h: any) => !h.ok))).toBe(0)
    const orpheus = ok.json.hosts.find((h: any) => h.host === 'orpheus')
    expect(orpheus.checks.map((c: any) => c.name)).toEqual([
      'ssh',
      'docker',
      'compose',
      'base directory',
      'disk',
      'gpu',
      'gpu runtime',
    ])
    await fault('nyx', 'gpu-driver-missing')
    try {
      const bad = await platform.cli(['preflight', 'nyx'])
      expect(bad.code).toBe(1)
      expect(bad.stdout).toContain('nyx: NOT READY')
      expect(bad.stdout).toMatch(/FAIL gpu +GPU driver check failed: nvidia-smi failed \(exit 9\)/)
    } finally {
      await fault('nyx', 'gpu-driver-ok')
    }
  }, 120_000)

  it('preflight: an NVIDIA host with nvidia-smi but without the container toolkit fails naming nvidia-container-toolkit; with it, ok', async () => {
    const ok = await platform.cli(['preflight', 'nyx', '--json'])
    expect(ok.code, ok.stdout).toBe(0)
    const runtime = ok.json.hosts[0].checks.find((c: any) => c.name === 'gpu runtime')
    expect(runtime).toEqual({
      name: 'gpu runtime',
      ok: true,
      detail: expect.stringMatching(
        /^Docker can select the nvidia device driver: \/usr\/local\/bin\/nvidia-container-runtime-hook \(Docker runtimes: [^)]*runc/,
      ),
    })
    await fault('nyx', 'gpu-runtime-missing')
    try {
      // what preflight foretells, on the host's own engine
      const run = await sshExec(
        platform.fleet,
        fleetHost(platform.fleet, 'nyx'),
        'docker run --rm --gpus all aip/busybox:1 true 2>&1; echo "rc=$?"',
      )
      expect(run.stdout).toMatch(/could not select device driver "" with capabilities: \[\[gpu\]\][\s\S]*rc=[1-9]/)
      const bad = await platform.cli(['preflight', 'nyx'])
      expect(bad.code).toBe(1)
      expect(bad.stdout).toContain('nyx: NOT READY')
      expect(bad.stdout).toMatch(/ok +gpu +1 nvidia GPU\(s\)/)
      expect(bad.stdout).toContain(
        'FAIL gpu runtime      Docker cannot hand the GPU to containers: nvidia-container-runtime-hook is not installed, so `compose up` would fail with \'could not select device driver "nvidia"\'. ' +
          'Install nvidia-container-toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker (`sudo systemctl restart docker`)',
      )
      // the deploy stops at the same check, before it uploads or switches anything
      const nyx = fleetHost(platform.fleet, 'nyx')
      const before = (await hostState(nyx)).current
      const deploy = await platform.cli(['deploy', 'nyx', '--yes', '--force', '--json', '--pull', 'never'])
      expect(deploy.code).toBe(1)
      expect(deploy.json.hosts.find((h: any) => h.host === 'nyx').error).toMatch(
        /^nyx: preflight failed: Docker cannot hand the GPU to containers: nvidia-container-runtime-hook is not installed, .*Install nvidia-container-toolkit/,
      )
      expect((await hostState(nyx)).current).toBe(before)
    } finally {
      await fault('nyx', 'gpu-runtime-ok')
    }
    expect((await platform.cli(['preflight', 'nyx'])).code).toBe(0)
    // dockerd was restarted twice, and Ollama could not start in between: the next deploy repairs nyx
    const repaired = await platform.cli(['deploy', 'nyx', '--yes', '--json', '--pull', 'never'])
    expect(repaired.code, repaired.stderr).toBe(0)
  }, 300_000)

  it("preflight: AMD /dev/kfd, /dev/dri and the host's group ids against the inventory", async () => {
    const hades = fleetHost(platform.fleet, 'hades')
    const getent = await sshExec(platform.fleet, hades, 'getent group video render; true')
    const video = Number(/^video:[^:]*:(\d+):/m.exec(getent.stdout)![1])
    const ok = await platform.cli(['preflight', 'hades', '--json'])
    expect(ok.code, ok.stdout).toBe(0)
    const checks = ok.json.hosts[0].checks
    expect(checks.map((c: any) => c.name).slice(-3)).toEqual(['gpu', 'gpu devices', 'gpu groups'])
    expect(checks.find((c: any) => c.name === 'gpu devices').detail).toBe(
      '/dev/kfd and /dev/dri present (render nodes: renderD128, renderD129)',
    )
    expect(checks.find((c: any) => c.name === 'gpu groups').detail).toContain(
      `set hosts.hades.hardware.gpu.video_gid: ${video}`,
    )
    const inventory = await readFile(join(platform.dir, 'inventory/hosts.yaml'), 'utf8')
    await platform.edit('inventory/hosts.yaml', (text) => {
      const doc = parse(text) as { hosts: Record<string, any> }
      doc.hosts.hades.hardware.gpu.video_gid = video + 1
      return stringify(doc)
    })
    try {
      const wrong = await platform.cli(['preflight', 'hades'])
      expect(wrong.code).toBe(1)
      expect(wrong.stdout).toContain(
        `FAIL gpu groups       hosts.hades.hardware.gpu.video_gid is ${video + 1}, but the video group on hades is ${video}: set hosts.hades.hardware.gpu.video_gid: ${video}`,
      )
    } finally {
      await writeFile(join(platform.dir, 'inventory/hosts.yaml'), inventory)
    }
    await fault('hades', 'gpu-driver-missing')
    try {
      const bad = await platform.cli(['preflight', 'hades'])
      expect(bad.code).toBe(1)
      expect(bad.stdout).toMatch(
        /FAIL gpu devices +\/dev\/kfd and \/dev\/dri are missing: the amdgpu kernel driver is not loaded, .*Install the amdgpu\/ROCm kernel driver/,
      )
    } finally {
      await fault('hades', 'gpu-driver-ok')
    }
  }, 120_000)

  it('logs: one service, all services prefixed, and -f ends cleanly on Ctrl-C (0) and SIGTERM (143) with nothing left on the host', async () => {
    const one = await platform.cli(['logs', 'erebus', 'postgres', '--tail', '5'])
    expect(one.code).toBe(0)
    expect(one.stdout).toContain('stand-in postgres: http 8080 tcp 5432')
    const all = await platform.cli(['logs', 'erebus'])
    expect(all.stdout).toMatch(/^postgres +\| stand-in postgres/m)
    expect(all.stdout).toMatch(/^redis +\| stand-in redis/m)
    const child = spawn(
      process.execPath,
      [join(REPO, 'bin/run.js'), 'logs', 'erebus', 'redis', '-f', '--project', platform.dir],
      { env: platform.env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    await waitFor('the first log line', async () => out.includes('stand-in redis'), 30_000, 100)
    const t0 = Date.now()
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(3000)
    // [d]ial: the pattern must not match the shell running pgrep
    const left = await sshExec(
      platform.fleet,
      fleetHost(platform.fleet, 'erebus'),
      'pgrep -u deploy -fa "system [d]ial-stdio" || true',
    )
    expect(left.stdout.trim()).toBe('')
    // SIGTERM (a supervisor, timeout(1)) ends it the same clean way, with 143
    const term = spawn(
      process.execPath,
      [join(REPO, 'bin/run.js'), 'logs', 'erebus', 'redis', '-f', '--project', platform.dir],
      { env: platform.env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let termOut = ''
    term.stdout.on('data', (c: Buffer) => (termOut += c.toString()))
    await waitFor('the first log line', async () => termOut.includes('stand-in redis'), 30_000, 100)
    term.kill('SIGTERM')
    expect(await new Promise<number | null>((resolve) => term.on('close', resolve))).toBe(143)
    const leftAfterTerm = await sshExec(
      platform.fleet,
      fleetHost(platform.fleet, 'erebus'),
      'pgrep -u deploy -fa "system [d]ial-stdio" || true',
    )
    expect(leftAfterTerm.stdout.trim()).toBe('')
  }, 120_000)

  it('exec: argv carried as data, on the host and in a container; the exit status passes through', async () => {
    const words = ['a b', "it's", '$(id)', '`id`', '; echo pwned']
    const host = await platform.cli(['exec', 'erebus', '--', 'printf', '%s\\n', ...words])
    expect(host.code, host.stderr).toBe(0)
    expect(host.stdout).toBe(words.map((w) => `${w}\n`).join(''))
    const failing = await platform.cli(['exec', 'erebus', '--', 'sh', '-c', 'exit 7'])
    expect(failing.code).toBe(7)
    const inside = await platform.cli([
      'exec',
      'erebus',
      '--service',
      'postgres',
      '--',
      'sh',
      '-c',
      'echo $STANDIN_NAME; exit 3',
    ])
    expect(inside.stdout).toBe('postgres\n')
    expect(inside.code).toBe(3)
    const unknown = await platform.cli(['exec', 'erebus', '--service', 'litellm', '--', 'true'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^error: erebus runs no container for service litellm\nhint: Services on erebus: /)
  }, 60_000)

  it('locks: a held lock stops a deploy naming its holder; lock status shows it; --lock-wait waits; lock release frees it', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const info = JSON.stringify({
      token: 'other',
      user: 'eve',
      machine: 'elsewhere',
      pid: 42,
      command: 'deploy all',
      since: '2026-11-23T04:00:00.000Z',
    })
    await sshExec(
      platform.fleet,
      erebus,
      `mkdir /opt/ai-platform/.lock && printf '%s' '${info}' > /opt/ai-platform/.lock/info.json`,
    )
    const blocked = await platform.cli(['deploy', 'erebus', '--force', '--json'])
    expect(blocked.code).toBe(1)
    expect(blocked.json.hosts[0].error).toBe(
      'erebus is locked by eve@elsewhere (pid 42) since 2026-11-23T04:00:00.000Z (deploy all)',
    )
    const status = await platform.cli(['lock', 'status', 'erebus'])
    expect(status.stdout).toBe('erebus: locked by eve@elsewhere (pid 42) since 2026-11-23T04:00:00.000Z (deploy all)\n')
    // The holder finishes in 3 s; a deploy willing to wait gets the host.
    setTimeout(() => void sshExec(platform.fleet, erebus, 'rm -rf /opt/ai-platform/.lock'), 3000)
    const waited = await platform.cli(['deploy', 'erebus', '--force', '--lock-wait', '30', '--json'])
    expect(waited.code, waited.stderr).toBe(0)
    expect(waited.json.hosts[0].status).toBe('deployed')
    await sshExec(
      platform.fleet,
      erebus,
      `mkdir /opt/ai-platform/.lock && printf '%s' '${info}' > /opt/ai-platform/.lock/info.json`,
    )
    const released = await platform.cli(['lock', 'release', 'erebus'])
    expect(released.stdout).toBe('erebus: released (was held by eve@elsewhere (pid 42))\n')
    expect((await platform.cli(['lock', 'status', 'erebus'])).stdout).toBe('erebus: not locked\n')
  }, 180_000)

  it('a lock left by a dead deploy from this machine: lock status and the refused deploy say its holder is no longer running', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    // No token: a lock no deploy takes over by itself (written by hand, or by an older ai-platform).
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    const info = JSON.stringify({
      user: 'ops',
      machine: hostname(),
      pid: gone,
      command: 'deploy all',
      since: '2026-11-23T04:00:00.000Z',
    })
    await sshExec(
      platform.fleet,
      erebus,
      `mkdir /opt/ai-platform/.lock && printf '%s' '${info}' > /opt/ai-platform/.lock/info.json`,
    )
    try {
      const holder = `ops@${hostname()} (pid ${gone}, no longer running: \`ai-platform lock release erebus\` frees it)`
      const status = await platform.cli(['lock', 'status', 'erebus'])
      expect(status).toMatchObject({
        code: 0,
        stdout: `erebus: locked by ${holder} since 2026-11-23T04:00:00.000Z (deploy all)\n`,
      })
      const blocked = await platform.cli(['deploy', 'erebus', '--force', '--json'])
      expect(blocked.code).toBe(1)
      expect(blocked.json.hosts[0].error).toBe(
        `erebus is locked by ${holder} since 2026-11-23T04:00:00.000Z (deploy all)`,
      )
    } finally {
      await sshExec(platform.fleet, erebus, 'rm -rf /opt/ai-platform/.lock')
    }
  }, 120_000)

  it('a host down (sshd stopped): audit --remote and lock status list it with why, still read the others, and exit 1', async () => {
    const why = `connection refused by deploy@${fleetHost(platform.fleet, 'hephaestus').address}:22: is sshd running?`
    await fault('hephaestus', 'sshd-stop')
    try {
      const audit = await platform.cli(['audit', 'erebus', 'hephaestus', '--remote'])
      expect(audit.code).toBe(1)
      expect(audit.stdout).toMatch(/^\S+ {2}erebus +\S+/m)
      expect(
        audit.stdout.endsWith(`-                         hephaestus   -          cannot read its history: ${why}\n`),
      ).toBe(true)
      const auditJson = await platform.cli(['audit', 'erebus', 'hephaestus', '--remote', '--json'])
      expect(auditJson.code).toBe(1)
      expect(auditJson.json.errors).toEqual([{ host: 'hephaestus', error: `hephaestus: ${why}` }])
      expect(auditJson.json.entries.filter((e: any) => e.host === 'erebus').length).toBeGreaterThan(0)
      const locks = await platform.cli(['lock', 'status', 'erebus', 'hephaestus'])
      expect(locks).toMatchObject({ code: 1, stdout: `erebus: not locked\nhephaestus: unreachable: ${why}\n` })
      const locksJson = await platform.cli(['lock', 'status', 'erebus', 'hephaestus', '--json'])
      expect(locksJson.code).toBe(1)
      expect(locksJson.json).toEqual({
        kind: 'ai-platform/locks',
        ok: false,
        hosts: [
          { host: 'erebus', reachable: true, lock: null },
          { host: 'hephaestus', reachable: false, error: `hephaestus: ${why}`, lock: null },
        ],
      })
    } finally {
      await fault('hephaestus', 'sshd-start')
    }
  }, 120_000)

  it("audit: the local log and the hosts' own histories", async () => {
    const local = await platform.cli(['audit', 'erebus', '--json'])
    expect(local.json.entries.length).toBeGreaterThan(0)
    // the newest deploy that changed erebus (a refused one, e.g. by a held lock, is audited too)
    expect(local.json.entries.filter((e: any) => e.status === 'deployed').at(-1)).toMatchObject({
      host: 'erebus',
      platform: 'fleet',
    })
    const remote = await platform.cli(['audit', 'erebus', '--remote', '--json'])
    expect(remote.json.entries.filter((e: any) => e.event === 'deployed').at(-1)).toMatchObject({ host: 'erebus' })
  }, 60_000)
})
