// The GPU stand-ins answer the real query forms in the real formats (test/fleet/gpu/gpu-standin.mjs), on the
// deploy user's non-interactive PATH, and the missing-driver switch fails them the real way.
import { describe, expect, it } from 'vitest'
import { fault } from '../../fleet/fleet.js'
import { HAVE_FLEET, IS_ROOT, fleetHost, fleetOrEmpty, onHost } from './helpers.js'

const fleet = fleetOrEmpty()
const QUERY = 'index,name,uuid,driver_version,memory.total,memory.used,utilization.gpu,temperature.gpu'
const NV_DRIVER_ERROR =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"

describe.skipIf(!HAVE_FLEET)('fleet GPU stand-ins', () => {
  for (const name of ['orpheus', 'kratos', 'nyx']) {
    it(`${name}: nvidia-smi --query-gpu in csv,noheader,nounits and csv; -L`, async () => {
      const host = fleetHost(fleet, name)
      expect(host.gpu).toEqual({ vendor: 'nvidia', count: 1, vramGb: 12, vramGbPerGpu: 12 })
      const r = await onHost(
        fleet,
        host,
        `nvidia-smi --query-gpu=${QUERY} --format=csv,noheader,nounits; echo "rc=$?"; nvidia-smi --query-gpu=${QUERY} --format=csv; nvidia-smi -L`,
      )
      const lines = r.stdout.split('\n')
      const fields = lines[0]!.split(', ')
      expect(fields).toHaveLength(8)
      expect(fields[0]).toBe('0')
      expect(fields[1]).toBe('NVIDIA GeForce RTX 3060')
      expect(fields[2]).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(fields[3]).toMatch(/^\d+\.\d+\.\d+$/)
      expect(fields[4]).toBe(String(12 * 1024)) // MiB, no unit
      expect(Number(fields[5])).toBeLessThan(12 * 1024)
      expect(lines[1]).toBe('rc=0')
      expect(lines[2]).toBe(
        'index, name, uuid, driver_version, memory.total [MiB], memory.used [MiB], utilization.gpu [%], temperature.gpu',
      )
      expect(lines[3]).toMatch(/^0, NVIDIA GeForce RTX 3060, GPU-[-0-9a-f]+, [\d.]+, 12288 MiB, \d+ MiB, \d+ %, \d+$/)
      expect(lines[4]).toBe(`GPU 0: NVIDIA GeForce RTX 3060 (UUID: ${fields[2]})`)
    })
  }

  it('GPU UUIDs differ between hosts', async () => {
    const uuids = await Promise.all(
      ['orpheus', 'kratos', 'nyx'].map(async (n) =>
        (await onHost(fleet, fleetHost(fleet, n), 'nvidia-smi --query-gpu=uuid --format=csv,noheader')).stdout.trim(),
      ),
    )
    expect(new Set(uuids).size).toBe(3)
  })

  it('nvidia-smi rejects an unknown field with exit 2, the message on stdout', async () => {
    const r = await onHost(
      fleet,
      fleetHost(fleet, 'orpheus'),
      'nvidia-smi --query-gpu=index,bogus --format=csv 2>/dev/null; echo "rc=$?"',
    )
    expect(r.stdout).toBe('Field "bogus" is not a valid field to query.\n\nrc=2\n')
  })

  it('hades: rocm-smi --json has two 24 GiB cards, every value a string, keys in execution order', async () => {
    const host = fleetHost(fleet, 'hades')
    expect(host.gpu).toEqual({ vendor: 'amd', count: 2, vramGb: 48, vramGbPerGpu: 24 })
    const r = await onHost(fleet, host, 'rocm-smi --showproductname --showmeminfo vram --showuse --json')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout.endsWith('}\n')).toBe(true)
    expect(r.stdout.trim().split('\n')).toHaveLength(1) // one line, as json.dumps prints it
    expect(r.stdout).toContain('{"card0": {"GPU use (%)": "') // Python separators
    const data = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>
    expect(Object.keys(data)).toEqual(['card0', 'card1'])
    for (const card of Object.values(data)) {
      expect(Object.keys(card).slice(0, 4)).toEqual([
        'GPU use (%)',
        'VRAM Total Memory (B)',
        'VRAM Total Used Memory (B)',
        'Card Series',
      ])
      for (const v of Object.values(card)) expect(typeof v).toBe('string')
      expect(card['VRAM Total Memory (B)']).toBe(String(24 * 1024 ** 3))
      expect(card['Card Vendor']).toBe('Advanced Micro Devices, Inc. [AMD/ATI]')
    }
  })

  it('hades: amd-smi metric --json is the ROCm 6.x array with value/unit pairs', async () => {
    const r = await onHost(fleet, fleetHost(fleet, 'hades'), 'amd-smi metric --usage --mem-usage --json')
    const data = JSON.parse(r.stdout) as Array<{
      gpu: number
      mem_usage: { total_vram: { value: number; unit: string } }
    }>
    expect(data.map((d) => d.gpu)).toEqual([0, 1])
    expect(data[0]!.mem_usage.total_vram).toEqual({ value: 24 * 1024, unit: 'MB' })
  })

  it('hosts without a GPU have no nvidia-smi or rocm-smi (exit 127)', async () => {
    const r = await onHost(
      fleet,
      fleetHost(fleet, 'erebus'),
      'nvidia-smi -L; echo "rc=$?"; rocm-smi --json; echo "rc=$?"',
    )
    expect(r.stdout).toBe('rc=127\nrc=127\n')
    expect(r.stderr).toMatch(/nvidia-smi: command not found/)
  })

  describe.skipIf(!IS_ROOT)('missing-driver switch', () => {
    it('nvidia: exit 9 with the driver message on stdout, and GPU containers fail to start', async () => {
      const host = fleetHost(fleet, 'kratos')
      await fault('kratos', 'gpu-driver-missing')
      try {
        const r = await onHost(
          fleet,
          host,
          `nvidia-smi --query-gpu=${QUERY} --format=csv,noheader,nounits 2>/dev/null; echo "rc=$?"; nvidia-smi -L 2>/dev/null; echo "rc=$?"`,
        )
        expect(r.stdout).toBe(`${NV_DRIVER_ERROR}rc=9\n${NV_DRIVER_ERROR}rc=9\n`)
        const run = await onHost(fleet, host, 'docker run --rm --gpus all aip/busybox:1 true 2>&1; echo "rc=$?"')
        expect(run.stdout).toMatch(
          /nvidia-container-cli: initialization error: nvml error: driver not loaded[\s\S]*rc=[1-9]/,
        )
      } finally {
        await fault('kratos', 'gpu-driver-ok')
      }
      const back = await onHost(fleet, host, 'nvidia-smi -L; docker run --rm --gpus all aip/busybox:1 echo ok')
      expect(back.code).toBe(0)
      expect(back.stdout).toMatch(/^GPU 0: .*\nok\n$/)
    })

    it('nvidia runtime: without the hook (dockerd restarted) nvidia-smi still works but GPU containers cannot select the nvidia driver', async () => {
      const host = fleetHost(fleet, 'kratos')
      await fault('kratos', 'gpu-runtime-missing')
      try {
        expect(await fault('kratos', 'status')).toMatch(/ gpu-driver=ok gpu-runtime=missing$/m)
        const r = await onHost(
          fleet,
          host,
          'command -v nvidia-container-runtime-hook; nvidia-smi -L >/dev/null; echo "rc=$?"; docker run --rm --gpus all aip/busybox:1 true 2>&1; echo "rc=$?"',
        )
        expect(r.stdout).toMatch(
          /^rc=0\n[\s\S]*could not select device driver "" with capabilities: \[\[gpu\]\][\s\S]*rc=[1-9]\d*\n$/,
        )
      } finally {
        await fault('kratos', 'gpu-runtime-ok')
      }
      expect(await fault('kratos', 'status')).toMatch(/ gpu-driver=ok gpu-runtime=ok$/m)
      const back = await onHost(
        fleet,
        host,
        'command -v nvidia-container-runtime-hook && docker run --rm --gpus all aip/busybox:1 echo ok',
      )
      expect(back.stdout).toBe('/usr/local/bin/nvidia-container-runtime-hook\nok\n')
    })

    it('amd: rocm-smi prints the error on stderr, nothing on stdout, exits 0; /dev/kfd disappears', async () => {
      const host = fleetHost(fleet, 'hades')
      await fault('hades', 'gpu-driver-missing')
      try {
        const r = await onHost(
          fleet,
          host,
          'rocm-smi --showmeminfo vram --json; echo "rc=$?" >&2; test -e /dev/kfd && echo kfd',
        )
        expect(r.stdout).toBe('')
        expect(r.stderr).toBe('ERROR:root:Driver not initialized (amdgpu not found in modules)\nrc=0\n')
      } finally {
        await fault('hades', 'gpu-driver-ok')
      }
      const back = await onHost(fleet, host, 'rocm-smi --showuse --json && test -c /dev/kfd && echo kfd')
      expect(back.stdout).toMatch(/^\{"card0": \{"GPU use \(%\)": "\d+"\}, "card1": .*\}\nkfd\n$/)
    })
  })
})
