import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { factsScript, parseSections } from '../../../src/remote/facts.js'
import {
  GPU_CONTAINER_PROBES,
  parseDeviceNodes,
  parseDockerRuntimes,
  parseHostGroups,
  parseToolPaths,
} from '../../../src/remote/gpu-facts.js'

describe('GPU container facts: probes and parsers on captured output', () => {
  it('the probe commands, exactly', () => {
    expect(GPU_CONTAINER_PROBES).toEqual({
      nvidia: [
        ['docker-runtimes', "docker info --format '{{json .Runtimes}}'"],
        ['nvidia-toolkit', 'for t in nvidia-container-runtime-hook nvidia-ctk; do command -v "$t"; done; true'],
      ],
      amd: [
        ['amd-devices', "stat -c '%g %n' /dev/kfd /dev/dri /dev/dri/renderD*"],
        [
          'host-groups',
          'if command -v getent >/dev/null 2>&1; then getent group video render; else grep -E "^(video|render):" /etc/group; fi',
        ],
      ],
    })
  })

  // Captured from Debian's docker.io 20.10.24 dockerd (the fleet's engine) with the daemon.json
  // `nvidia-ctk runtime configure --runtime=docker` writes, and without; the client is 20.10 or 28.2.
  const runtimes = [
    {
      name: 'Engine 20.10 with the nvidia runtime configured',
      output:
        '{"io.containerd.runc.v2":{"path":"runc"},"io.containerd.runtime.v1.linux":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}\n',
      code: 0,
      expected: ['io.containerd.runc.v2', 'io.containerd.runtime.v1.linux', 'nvidia', 'runc'],
    },
    {
      name: 'Engine 20.10, no nvidia runtime',
      output:
        '{"io.containerd.runc.v2":{"path":"runc"},"io.containerd.runtime.v1.linux":{"path":"runc"},"runc":{"path":"runc"}}\n',
      code: 0,
      expected: ['io.containerd.runc.v2', 'io.containerd.runtime.v1.linux', 'runc'],
    },
    // Newer engines add a `status` object per runtime (moby api/swagger.yaml, Runtime); built from that.
    {
      name: 'a newer engine with runtime status',
      output:
        '{"io.containerd.runc.v2":{"path":"runc","status":{"org.opencontainers.runtime-spec.features":"{}"}},"nvidia":{"path":"nvidia-container-runtime","runtimeArgs":null}}\n',
      code: 0,
      expected: ['io.containerd.runc.v2', 'nvidia'],
    },
    {
      name: 'daemon unreachable, client 20.10 (stdout, then stderr)',
      output:
        '\ntemplate: :1:7: executing "" at <.Runtimes>: reflect: indirection through nil pointer to embedded struct field Info\n',
      code: 1,
      expected: null,
    },
    {
      name: 'daemon unreachable, client 28.2',
      output:
        'null\nCannot connect to the Docker daemon at unix:///nonexistent/docker.sock. Is the docker daemon running?\n',
      code: 1,
      expected: null,
    },
    { name: 'not an object', output: '["nvidia"]\n', code: 0, expected: null },
    {
      name: 'a runtime name that is not a name is left out',
      output: '{"runc":{},"a b\\u001b[31m":{}}',
      code: 0,
      expected: ['runc'],
    },
  ]
  it.each(runtimes)('docker info runtimes: $name', ({ output, code, expected }) => {
    expect(parseDockerRuntimes(output, code)).toEqual(expected)
  })

  // Captured from dash, bash and busybox sh (all print the same): one path per tool found.
  it('command -v of the NVIDIA toolkit: the paths of the tools found, nothing else', () => {
    expect(parseToolPaths('/usr/bin/nvidia-container-runtime-hook\n/usr/bin/nvidia-ctk\n')).toEqual({
      'nvidia-container-runtime-hook': '/usr/bin/nvidia-container-runtime-hook',
      'nvidia-ctk': '/usr/bin/nvidia-ctk',
    })
    expect(parseToolPaths('/usr/local/bin/nvidia-ctk\n')).toEqual({ 'nvidia-ctk': '/usr/local/bin/nvidia-ctk' })
    expect(parseToolPaths('')).toEqual({})
    // a shell function or alias of that name is not the tool; neither is another file or a line with spaces
    expect(
      parseToolPaths('nvidia-container-runtime-hook\n/opt/x/nvidia-container-runtime-hook.bak\n/a b/nvidia-ctk\n'),
    ).toEqual({})
  })

  // Captured with GNU coreutils 9.1 and BusyBox stat, against device nodes made as amdgpu makes them
  // (kfd and render nodes in group render, here 109) and with none.
  it('stat of /dev/kfd and /dev/dri: the nodes that exist with their gids; the errors for the rest skipped', () => {
    const present = '109 /dev/kfd\n0 /dev/dri\n109 /dev/dri/renderD128\n109 /dev/dri/renderD129\n'
    expect(parseDeviceNodes(present)).toEqual([
      { path: '/dev/kfd', gid: 109 },
      { path: '/dev/dri', gid: 0 },
      { path: '/dev/dri/renderD128', gid: 109 },
      { path: '/dev/dri/renderD129', gid: 109 },
    ])
    const coreutils =
      "stat: cannot statx '/dev/kfd': No such file or directory\nstat: cannot statx '/dev/dri': No such file or directory\nstat: cannot statx '/dev/dri/renderD*': No such file or directory\n"
    const busybox =
      "stat: can't stat '/dev/kfd': No such file or directory\nstat: can't stat '/dev/dri': No such file or directory\nstat: can't stat '/dev/dri/renderD*': No such file or directory\n"
    expect(parseDeviceNodes(coreutils)).toEqual([])
    expect(parseDeviceNodes(busybox)).toEqual([])
    expect(
      parseDeviceNodes("stat: cannot statx '/dev/kfd': No such file or directory\n0 /dev/dri\n44 /dev/dri/card0\n"),
    ).toEqual([
      { path: '/dev/dri', gid: 0 },
      { path: '/dev/dri/card0', gid: 44 },
    ])
  })

  // Captured from glibc's getent (Debian 12: no render group, exit 2); the member list is group(5)'s.
  it('getent group video render: the gids of the groups the host has', () => {
    expect(parseHostGroups('video:x:44:\n')).toEqual({ video: 44 })
    expect(parseHostGroups('video:x:44:ubuntu\nrender:x:109:ubuntu,ollama\n')).toEqual({ video: 44, render: 109 })
    expect(parseHostGroups('')).toEqual({})
    expect(parseHostGroups('videos:x:45:\nrender:x:-1:\nrender:x:110:\n')).toEqual({ render: 110 })
  })

  it('the sections run in a real sh and parse: a stand-in hook on the PATH is found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aip-gpu-facts-'))
    try {
      mkdirSync(join(dir, 'bin'))
      writeFileSync(join(dir, 'bin', 'nvidia-container-runtime-hook'), '#!/bin/sh\nexit 0\n')
      chmodSync(join(dir, 'bin', 'nvidia-container-runtime-hook'), 0o755)
      const env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` }
      const run = (gpu: 'nvidia' | 'amd') =>
        parseSections(
          execFileSync(
            'sh',
            ['-c', factsScript({ baseDir: join(dir, 'base'), mounts: [], gpu, gpuContainers: true, full: true })],
            { encoding: 'utf8', env },
          ),
        )
      const nvidia = run('nvidia')
      expect([...nvidia.keys()].slice(-3)).toEqual(['gpu', 'docker-runtimes', 'nvidia-toolkit'])
      expect(parseToolPaths(nvidia.get('nvidia-toolkit')!.output)).toEqual({
        'nvidia-container-runtime-hook': join(dir, 'bin', 'nvidia-container-runtime-hook'),
      })
      const amd = run('amd')
      expect([...amd.keys()].slice(-3)).toEqual(['gpu', 'amd-devices', 'host-groups'])
      const video = execFileSync('sh', ['-c', 'getent group video || true'], { encoding: 'utf8' })
      expect(parseHostGroups(amd.get('host-groups')!.output).video).toEqual(parseHostGroups(video).video)
      // Without gpuContainers (a GPU host running only Ollama health checks, no GPU service): no such sections.
      const driverOnly = parseSections(
        execFileSync('sh', ['-c', factsScript({ baseDir: join(dir, 'base'), mounts: [], gpu: 'nvidia', full: true })], {
          encoding: 'utf8',
          env,
        }),
      )
      expect([...driverOnly.keys()].pop()).toBe('gpu')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
