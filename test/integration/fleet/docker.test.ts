// Each host has its own Docker engine and the Compose variant fleet.json promises, usable by
// `deploy` over SSH; hosts do not see each other's files or containers.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { HAVE_FLEET, IS_ROOT, dockerOutside, fleetHost, fleetOrEmpty, onHost, q } from './helpers.js'

const fleet = fleetOrEmpty()

describe.skipIf(!HAVE_FLEET)('fleet docker and compose', () => {
  for (const host of fleet.hosts) {
    it(`${host.name}: docker works for deploy and compose is ${host.compose}`, async () => {
      const r = await onHost(
        fleet,
        host,
        [
          'docker version --format "{{.Server.Version}}"',
          'echo "--"; docker info --format "{{.DockerRootDir}} {{.Name}}"',
          'echo "--"; docker images --format "{{.Repository}}:{{.Tag}}" | sort',
          'echo "--"; docker compose version 2>&1 | head -1; echo "rc=${PIPESTATUS[0]}"',
          'echo "--"; docker-compose version --short 2>&1; echo "rc=$?"',
        ].join('; '),
      )
      expect(r.code).toBe(0)
      const [server, info, images, v2, standalone] = r.stdout.split('--\n').map((s) => s.trim())
      expect(server).toMatch(/^20\.10\./)
      expect(info).toContain(host.name) // its own engine: the name is the host's hostname
      // fleet:up loaded these; other tests may have shipped more since
      expect(images!.split('\n')).toEqual(expect.arrayContaining(host.images))
      if (host.compose === 'v2') {
        expect(v2).toMatch(/^Docker Compose version v?2\.\d+\.\d+.*\nrc=0$/)
        expect(standalone).toMatch(/^2\.\d+\.\d+.*\nrc=0$/) // docker-compose is v2 too, as on Debian trixie
      } else {
        expect(v2).toMatch(/^docker: 'compose' is not a docker command\.\nrc=[1-9]/)
        expect(standalone).toBe('1.29.2\nrc=0')
      }
    })
  }

  it('GPU hosts have the node-based images, the others only busybox ones', () => {
    for (const h of fleet.hosts) {
      const expected = ['aip/busybox:1', 'aip/standin:1']
      if (h.gpu || h.name === 'local') expected.push('aip/node:20', 'aip/ollama-standin:1')
      expect([...h.images].sort()).toEqual(expected.sort())
    }
  })

  it("hosts never see each other's /opt, /tmp or containers", async () => {
    const a = fleetHost(fleet, 'erebus')
    const b = fleetHost(fleet, 'hephaestus')
    const tag = randomBytes(6).toString('hex')
    const name = `iso-${tag}`
    const w = await onHost(
      fleet,
      a,
      `echo ${tag} > /opt/ai-platform/${name} && echo ${tag} > /tmp/${name} && docker run -d --name ${name} aip/busybox:1 sleep 300 >/dev/null && cat /opt/ai-platform/${name}`,
    )
    expect(w.code).toBe(0)
    expect(w.stdout.trim()).toBe(tag)
    try {
      const r = await onHost(
        fleet,
        b,
        `ls /opt/ai-platform/${name} /tmp/${name} 2>&1; docker ps -a --filter name=${name} --format '{{.Names}}'`,
      )
      expect(r.stdout).toContain(`cannot access '/opt/ai-platform/${name}'`)
      expect(r.stdout).toContain(`cannot access '/tmp/${name}'`)
      expect(r.stdout).not.toContain(`\n${name}`)
      // and the machine's own /opt does not have it either
      expect(existsSync(`/opt/ai-platform/${name}`)).toBe(false)
      expect(existsSync(`${a.outside.baseDir}/${name}`)).toBe(true)
    } finally {
      await onHost(fleet, a, `docker rm -f ${name} >/dev/null; rm -f /opt/ai-platform/${name} /tmp/${name}`)
    }
  })

  it('a compose GPU reservation starts on an NVIDIA host and fails elsewhere with the real error', async () => {
    const gpuHost = fleetHost(fleet, 'orpheus')
    const plain = fleetHost(fleet, 'erebus')
    const run = 'docker run --rm --gpus all aip/busybox:1 echo gpu-ok 2>&1; echo "rc=$?"'
    const ok = await onHost(fleet, gpuHost, run)
    expect(ok.stdout).toBe('gpu-ok\nrc=0\n')
    const bad = await onHost(fleet, plain, run)
    expect(bad.stdout).toMatch(/could not select device driver "" with capabilities: \[\[gpu\]\][\s\S]*rc=125/)
  })

  it('hades exposes /dev/kfd and /dev/dri for ROCm containers; other hosts do not', async () => {
    const cmd =
      'docker run --rm --device /dev/kfd --device /dev/dri --group-add video aip/busybox:1 ls /dev/kfd /dev/dri 2>&1; echo "rc=$?"'
    const ok = await onHost(fleet, fleetHost(fleet, 'hades'), cmd)
    expect(ok.stdout).toMatch(/\/dev\/kfd[\s\S]*card0[\s\S]*renderD129[\s\S]*rc=0/)
    const bad = await onHost(fleet, fleetHost(fleet, 'kratos'), cmd)
    expect(bad.stdout).toMatch(
      /error gathering device information while adding custom device "\/dev\/kfd": no such file or directory[\s\S]*rc=[1-9]/,
    )
  })

  it.skipIf(!IS_ROOT)(
    'local is driven from the machine: DOCKER_HOST + DOCKER_CONFIG give docker compose v2',
    async () => {
      const local = fleetHost(fleet, 'local')
      expect(local.env).toBeDefined()
      expect(local.dockerSocket).toBe(local.env!.DOCKER_HOST.replace('unix://', ''))
      expect(local.baseDir).toBe(local.outside.baseDir)
      const env = { ...process.env, ...local.env }
      const v = await execa('docker', ['compose', 'version', '--short'], { env, reject: false })
      expect(v.exitCode).toBe(0)
      expect(v.stdout).toMatch(/^2\./)
      const info = await execa('docker', ['info', '--format', '{{.Name}}'], { env })
      expect(info.stdout.trim()).toBe('local')
      // the base dir seen from the machine is the one local's containers get
      const tag = randomBytes(6).toString('hex')
      const r = await dockerOutside(local, [
        'run',
        '--rm',
        '-v',
        `${local.baseDir}:/data`,
        'aip/busybox:1',
        'sh',
        '-c',
        `echo ${tag} > /data/${tag} && cat /data/${tag}`,
      ])
      expect(r.stdout.trim()).toBe(tag)
      const seen = await onHost(fleet, local, `cat /opt/ai-platform/${q(tag)} && rm /opt/ai-platform/${q(tag)}`)
      expect(seen.stdout.trim()).toBe(tag)
    },
  )
})
