import { describe, expect, it } from 'vitest'
import type { Gpu } from '../../../src/config/model.js'
import {
  amdDeviceCheck,
  amdGroupCheck,
  gpuContainerChecks,
  nvidiaRuntimeCheck,
} from '../../../src/deploy/gpu-preflight.js'
import { gatherFacts } from '../../../src/deploy/preflight.js'
import type { Executor, RunResult } from '../../../src/remote/executor.js'
import { parseSections } from '../../../src/remote/facts.js'
import { loadOk } from '../../helpers/load.js'

const RUNTIMES_CONFIGURED =
  '{"io.containerd.runc.v2":{"path":"runc"},"io.containerd.runtime.v1.linux":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}\n'
const RUNTIMES_PLAIN =
  '{"io.containerd.runc.v2":{"path":"runc"},"io.containerd.runtime.v1.linux":{"path":"runc"},"runc":{"path":"runc"}}\n'
const INSTALL =
  'Install nvidia-container-toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker (`sudo systemctl restart docker`)'
const DEVICES_PRESENT = '109 /dev/kfd\n0 /dev/dri\n109 /dev/dri/renderD128\n109 /dev/dri/renderD129\n'
const DEVICES_MISSING =
  "stat: cannot statx '/dev/kfd': No such file or directory\nstat: cannot statx '/dev/dri': No such file or directory\nstat: cannot statx '/dev/dri/renderD*': No such file or directory\n"
const amd = (extra: Partial<Gpu> = {}): Gpu => ({ vendor: 'amd', count: 2, ...extra })

/** The facts script's answer, section by section, as a host prints it. */
const sectionsText = (sections: Record<string, [string, number]>): string =>
  Object.entries(sections)
    .map(
      ([name, [output, code]]) =>
        `@@aip:${name}\n${output}${output === '' || output.endsWith('\n') ? '' : '\n'}@@aip:rc:${code}`,
    )
    .join('\n')

describe('GPU preflight: can Docker hand the GPU to a container', () => {
  it.each([
    {
      name: 'hook installed and the runtime configured',
      tools: '/usr/bin/nvidia-container-runtime-hook\n/usr/bin/nvidia-ctk\n',
      runtimes: [RUNTIMES_CONFIGURED, 0] as const,
      expected: {
        name: 'gpu runtime',
        ok: true,
        detail:
          'Docker can select the nvidia device driver: /usr/bin/nvidia-container-runtime-hook (Docker runtimes: io.containerd.runc.v2, io.containerd.runtime.v1.linux, nvidia, runc)',
      },
    },
    {
      // dockerd's own device driver injects the hook into runc: no runtime entry needed
      name: 'hook installed, no nvidia runtime',
      tools: '/usr/bin/nvidia-container-runtime-hook\n',
      runtimes: [RUNTIMES_PLAIN, 0] as const,
      expected: {
        name: 'gpu runtime',
        ok: true,
        detail:
          'Docker can select the nvidia device driver: /usr/bin/nvidia-container-runtime-hook (Docker runtimes: io.containerd.runc.v2, io.containerd.runtime.v1.linux, runc)',
      },
    },
    {
      name: 'hook installed, Docker did not answer',
      tools: '/usr/local/bin/nvidia-container-runtime-hook\n',
      runtimes: [
        'null\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
        1,
      ] as const,
      expected: {
        name: 'gpu runtime',
        ok: true,
        detail: 'Docker can select the nvidia device driver: /usr/local/bin/nvidia-container-runtime-hook',
      },
    },
    {
      name: 'nothing installed (nvidia-smi alone)',
      tools: '',
      runtimes: [RUNTIMES_PLAIN, 0] as const,
      expected: {
        name: 'gpu runtime',
        ok: false,
        detail: `Docker cannot hand the GPU to containers: nvidia-container-runtime-hook is not installed, so \`compose up\` would fail with 'could not select device driver "nvidia"'. ${INSTALL}`,
      },
    },
    {
      name: 'an nvidia runtime in daemon.json but no hook',
      tools: '',
      runtimes: [RUNTIMES_CONFIGURED, 0] as const,
      expected: {
        name: 'gpu runtime',
        ok: false,
        detail: `Docker cannot hand the GPU to containers: nvidia-container-runtime-hook is not installed (Docker lists an nvidia runtime, but dockerd registers its nvidia device driver only when this hook is on its PATH), so \`compose up\` would fail with 'could not select device driver "nvidia"'. ${INSTALL}`,
      },
    },
    {
      name: 'only nvidia-container-toolkit-base',
      tools: '/usr/bin/nvidia-ctk\n',
      runtimes: [RUNTIMES_CONFIGURED, 0] as const,
      expected: {
        name: 'gpu runtime',
        ok: false,
        detail: `Docker cannot hand the GPU to containers: nvidia-container-runtime-hook is not installed (Docker lists an nvidia runtime, but dockerd registers its nvidia device driver only when this hook is on its PATH; /usr/bin/nvidia-ctk is there, from nvidia-container-toolkit-base, which lacks the hook), so \`compose up\` would fail with 'could not select device driver "nvidia"'. ${INSTALL}`,
      },
    },
  ])('NVIDIA: $name', ({ tools, runtimes, expected }) => {
    const sections = parseSections(
      sectionsText({ 'docker-runtimes': [runtimes[0], runtimes[1]], 'nvidia-toolkit': [tools, 0] }),
    )
    expect(gpuContainerChecks('orpheus', { vendor: 'nvidia', count: 1 }, sections)).toEqual([expected])
  })

  it('AMD devices: present with render nodes; missing says which and what to install', () => {
    expect(
      amdDeviceCheck([
        { path: '/dev/kfd', gid: 109 },
        { path: '/dev/dri', gid: 0 },
        { path: '/dev/dri/renderD128', gid: 109 },
      ]),
    ).toEqual({ name: 'gpu devices', ok: true, detail: '/dev/kfd and /dev/dri present (render nodes: renderD128)' })
    const fix = "Install the amdgpu/ROCm kernel driver (amdgpu-dkms, from AMD's amdgpu-install) and reboot"
    expect(amdDeviceCheck([])).toEqual({
      name: 'gpu devices',
      ok: false,
      detail: `/dev/kfd and /dev/dri are missing: the amdgpu kernel driver is not loaded, so \`compose up\` would fail with 'error gathering device information while adding custom device "/dev/kfd"'. ${fix}`,
    })
    expect(amdDeviceCheck([{ path: '/dev/kfd', gid: 109 }]).detail).toBe(
      `/dev/dri is missing: the amdgpu kernel driver is not loaded, so \`compose up\` would fail with 'error gathering device information while adding custom device "/dev/dri"'. ${fix}`,
    )
    expect(
      amdDeviceCheck([
        { path: '/dev/kfd', gid: 109 },
        { path: '/dev/dri', gid: 0 },
      ]).detail,
    ).toMatch(/^a render node \(\/dev\/dri\/renderD\*\) is missing: /)
  })

  it.each([
    {
      name: 'both set and right',
      gpu: amd({ videoGid: 44, renderGid: 109 }),
      groups: { video: 44, render: 109 },
      ok: true,
      detail: 'video 44, render 109: GPU containers get these groups',
    },
    {
      name: 'neither set',
      gpu: amd(),
      groups: { video: 44, render: 109 },
      ok: true,
      detail:
        'video 44, render 109 on the host; no video_gid or render_gid in the inventory, so GPU containers get neither group (enough for images that run as root; for others set hosts.hades.hardware.gpu.video_gid: 44 and hosts.hades.hardware.gpu.render_gid: 109)',
    },
    {
      name: 'render unset',
      gpu: amd({ videoGid: 44 }),
      groups: { video: 44, render: 109 },
      ok: true,
      detail:
        'video 44, render 109 on the host; no render_gid in the inventory, so GPU containers do not get the render group (enough for images that run as root; for others set hosts.hades.hardware.gpu.render_gid: 109)',
    },
    {
      name: "no render group on the host (Debian 12 without systemd's render group)",
      gpu: amd(),
      groups: { video: 44 },
      ok: true,
      detail:
        'video 44 on the host; no video_gid in the inventory, so GPU containers do not get the video group (enough for images that run as root; for others set hosts.hades.hardware.gpu.video_gid: 44)',
    },
    { name: 'no groups at all', gpu: amd(), groups: {}, ok: true, detail: 'hades has no video or render group' },
    {
      name: 'render_gid wrong',
      gpu: amd({ renderGid: 110 }),
      groups: { video: 44, render: 109 },
      ok: false,
      detail:
        'hosts.hades.hardware.gpu.render_gid is 110, but the render group on hades is 109: set hosts.hades.hardware.gpu.render_gid: 109',
    },
    {
      name: 'both wrong',
      gpu: amd({ videoGid: 39, renderGid: 110 }),
      groups: { video: 44, render: 109 },
      ok: false,
      detail:
        'hosts.hades.hardware.gpu.video_gid is 39, but the video group on hades is 44: set hosts.hades.hardware.gpu.video_gid: 44; hosts.hades.hardware.gpu.render_gid is 110, but the render group on hades is 109: set hosts.hades.hardware.gpu.render_gid: 109',
    },
    {
      name: 'render_gid set, no render group',
      gpu: amd({ renderGid: 109 }),
      groups: { video: 44 },
      ok: false,
      detail: 'hosts.hades.hardware.gpu.render_gid is 109, but hades has no render group: remove render_gid',
    },
  ])('AMD groups: $name', ({ gpu, groups, ok, detail }) => {
    expect(amdGroupCheck('hades', gpu, groups)).toEqual({ name: 'gpu groups', ok, detail })
  })

  it('AMD: both checks from the sections; a section the host never printed is a failure, not a pass', () => {
    const sections = parseSections(
      sectionsText({ 'amd-devices': [DEVICES_MISSING, 1], 'host-groups': ['video:x:44:\n', 2] }),
    )
    const [devices, groups] = gpuContainerChecks('hades', amd({ videoGid: 44 }), sections)
    expect(devices!.ok).toBe(false)
    expect(groups).toEqual({ name: 'gpu groups', ok: true, detail: 'video 44: GPU containers get these groups' })
    expect(gpuContainerChecks('hades', amd(), new Map())).toEqual([
      { name: 'gpu devices', ok: false, detail: 'no answer from the host about /dev/kfd and /dev/dri' },
      { name: 'gpu groups', ok: false, detail: 'no answer from the host about its video and render groups' },
    ])
    expect(gpuContainerChecks('orpheus', { vendor: 'nvidia', count: 1 }, new Map())).toEqual([
      { name: 'gpu runtime', ok: false, detail: 'no answer from the host about the NVIDIA container toolkit' },
    ])
  })

  it('nvidiaRuntimeCheck takes parsed facts', () => {
    expect(
      nvidiaRuntimeCheck({ 'nvidia-container-runtime-hook': '/usr/bin/nvidia-container-runtime-hook' }, []).detail,
    ).toBe('Docker can select the nvidia device driver: /usr/bin/nvidia-container-runtime-hook')
  })
})

describe('gatherFacts: the GPU container checks where a service asks for the GPU', () => {
  /** An executor answering the facts script with canned sections, as a host would. */
  const hostAnswering = (host: string, sections: Record<string, [string, number]>) => {
    const scripts: string[] = []
    const fail = (): never => {
      throw new Error('not used by gatherFacts')
    }
    const exec: Executor = {
      host,
      transport: 'ssh',
      lost: false,
      run: async (argv): Promise<RunResult> => {
        scripts.push(argv.at(-1)!)
        return { code: 0, stdout: sectionsText(sections), stderr: '' }
      },
      docker: fail,
      forward: fail,
      download: fail,
      close: async () => undefined,
    }
    return { exec, scripts }
  }
  const common: Record<string, [string, number]> = {
    user: ['deploy', 0],
    docker: ['20.10.24+dfsg1', 0],
    'compose-v2': ['2.26.1', 0],
    base: ['writable', 0],
    disk: [
      'Filesystem     1024-blocks      Used Available Capacity Mounted on\n/dev/sda1        102400000  10240000  92160000      10% /',
      0,
    ],
    'mount-0': ['mounted', 0],
  }

  it('NVIDIA host with nvidia-smi but no toolkit: gpu ok, gpu runtime fails naming nvidia-container-toolkit', async () => {
    const { project } = await loadOk()
    const { exec, scripts } = hostAnswering('orpheus', {
      ...common,
      gpu: ['0, NVIDIA GeForce RTX 3060, GPU-89fdc1e1-18b2-f499-c12b-82bcb9bfb3fa, 535.104.05, 12288, 4, 0, 31', 0],
      'docker-runtimes': [RUNTIMES_PLAIN, 0],
      'nvidia-toolkit': ['', 0],
    })
    const { checks } = await gatherFacts(exec, project, 'orpheus')
    expect(scripts[0]).toContain("docker info --format '{{json .Runtimes}}'")
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['docker', true],
      ['compose', true],
      ['base directory', true],
      ['disk', true],
      ['mount /mnt/models', true],
      ['gpu', true],
      ['gpu runtime', false],
    ])
    expect(checks.at(-1)!.detail).toContain(
      'Install nvidia-container-toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker`',
    )
  })

  it('AMD host: devices and groups checked; no GPU host: no GPU probe at all', async () => {
    const { project } = await loadOk()
    const { exec } = hostAnswering('hades', {
      ...common,
      gpu: [
        '{"card0": {"Card Series": "AMD Radeon RX 7900 XTX"}, "card1": {"Card Series": "AMD Radeon RX 7900 XTX"}}',
        0,
      ],
      'amd-devices': [DEVICES_PRESENT, 0],
      'host-groups': ['video:x:44:\nrender:x:109:\n', 0],
    })
    const { checks } = await gatherFacts(exec, project, 'hades')
    expect(checks.slice(-3)).toEqual([
      { name: 'gpu', ok: true, detail: '2 amd GPU(s): AMD Radeon RX 7900 XTX, AMD Radeon RX 7900 XTX' },
      { name: 'gpu devices', ok: true, detail: '/dev/kfd and /dev/dri present (render nodes: renderD128, renderD129)' },
      {
        name: 'gpu groups',
        ok: true,
        detail:
          'video 44, render 109 on the host; no video_gid or render_gid in the inventory, so GPU containers get neither group (enough for images that run as root; for others set hosts.hades.hardware.gpu.video_gid: 44 and hosts.hades.hardware.gpu.render_gid: 109)',
      },
    ])
    const plain = hostAnswering('erebus', common)
    const erebus = await gatherFacts(plain.exec, project, 'erebus')
    expect(plain.scripts[0]).not.toMatch(/docker info|nvidia|\/dev\/kfd|getent/)
    expect(erebus.checks.map((c) => c.name)).not.toContain('gpu runtime')
  })
})
