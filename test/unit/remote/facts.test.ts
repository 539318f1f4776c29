import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  factsScript,
  parseCompose,
  parseDf,
  parseNvidiaSmi,
  parseRocmSmi,
  parseSections,
} from '../../../src/remote/facts.js'

describe('facts: probe and parsers', () => {
  it('the probe script runs in a real sh and splits into sections', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aip-facts-'))
    try {
      const quick = parseSections(
        execFileSync('sh', ['-c', factsScript({ baseDir: join(dir, 'base'), mounts: [dir], gpu: null, full: false })], {
          encoding: 'utf8',
        }),
      )
      expect([...quick.keys()]).toEqual(['user', 'release', 'env', 'recorded', 'lock'])
      const out = execFileSync(
        'sh',
        ['-c', factsScript({ baseDir: join(dir, 'base'), mounts: [dir, join(dir, 'nope')], gpu: null, full: true })],
        { encoding: 'utf8' },
      )
      const sections = parseSections(out)
      // Compose v1 is asked only when the v2 plugin does not answer.
      const v2 = sections.get('compose-v2')!.code === 0
      expect([...sections.keys()]).toEqual([
        'user',
        'release',
        'env',
        'recorded',
        'lock',
        'docker',
        'compose-v2',
        ...(v2 ? [] : ['compose-v1']),
        'base',
        'disk',
        'mount-0',
        'mount-1',
      ])
      expect(sections.get('base')).toEqual({ output: 'creatable', code: 0 })
      expect(sections.get('release')!.code).not.toBe(0)
      expect(sections.get('mount-0')).toEqual({ output: 'directory', code: 0 })
      expect(sections.get('mount-1')!.code).not.toBe(0)
      expect(parseDf(sections.get('disk')!.output)!.availableKb).toBeGreaterThan(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a base directory or mount path with shell syntax in it is read as data, never run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aip-facts-'))
    try {
      const marker = join(dir, 'ran')
      const hostile = join(dir, "it's $(touch ran) `touch ran`")
      mkdirSync(hostile)
      const sections = parseSections(
        execFileSync('sh', ['-c', factsScript({ baseDir: hostile, mounts: [hostile], gpu: null, full: true })], {
          encoding: 'utf8',
          cwd: dir,
        }),
      )
      expect(sections.get('base')).toEqual({ output: 'writable', code: 0 })
      expect(sections.get('mount-0')).toEqual({ output: 'directory', code: 0 })
      expect(existsSync(marker)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('detects Compose v2 (plugin), v1, a standalone v2 binary, and none', () => {
    const s = (v2: [string, number], v1: [string, number]) =>
      new Map([
        ['compose-v2', { output: v2[0], code: v2[1] }],
        ['compose-v1', { output: v1[0], code: v1[1] }],
      ])
    expect(parseCompose(s(['2.26.1', 0], ['', 127]))).toEqual({
      variant: 'v2',
      version: '2.26.1',
      command: ['docker', 'compose'],
    })
    expect(parseCompose(s(["docker: 'compose' is not a docker command.", 1], ['1.29.2', 0]))).toEqual({
      variant: 'v1',
      version: '1.29.2',
      command: ['docker-compose'],
    })
    expect(parseCompose(s(['', 1], ['v2.29.7', 0]))).toEqual({
      variant: 'v2',
      version: '2.29.7',
      command: ['docker-compose'],
    })
    expect(parseCompose(s(['', 1], ['', 127]))).toBeNull()
  })

  it('nvidia-smi: real CSV rows, and the driver-missing error printed on stdout with exit 9', () => {
    const rows =
      '0, NVIDIA GeForce RTX 3060, GPU-89fdc1e1-18b2-f499-c12b-82bcb9bfb3fa, 535.104.05, 12288, 4, 0, 31\n1, GeForce GTX TITAN X, GPU-86fe97db-bf54-a056-4e8d-9b07e1a298e7, 535.104.05, 12206, [N/A], 86, 54\n'
    expect(parseNvidiaSmi(rows, 0)).toEqual({
      ok: true,
      gpus: [
        { index: 0, name: 'NVIDIA GeForce RTX 3060', driver: '535.104.05', memoryTotalMiB: 12288, memoryUsedMiB: 4 },
        { index: 1, name: 'GeForce GTX TITAN X', driver: '535.104.05', memoryTotalMiB: 12206, memoryUsedMiB: null },
      ],
    })
    const missing =
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"
    expect(parseNvidiaSmi(missing, 9)).toEqual({
      ok: false,
      reason:
        "nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    })
    expect(parseNvidiaSmi('sh: 1: nvidia-smi: not found\n', 127)).toEqual({
      ok: false,
      reason: 'nvidia-smi is not installed',
    })
  })

  it('rocm-smi: string-valued JSON per card, both spellings of the product keys; empty stdout is a missing driver', () => {
    const json = JSON.stringify({
      card0: {
        'GPU use (%)': '0',
        'VRAM Total Memory (B)': '25753026560',
        'VRAM Total Used Memory (B)': '10960896',
        'Card Series': 'AMD Radeon RX 7900 XTX',
      },
      card1: {
        'GPU use (%)': '37',
        'VRAM Total Memory (B)': '25753026560',
        'VRAM Total Used Memory (B)': '34359738',
        'Card series': 'AMD Radeon RX 7900 XTX',
      },
    })
    expect(parseRocmSmi(json, 0)).toEqual({
      ok: true,
      gpus: [
        { index: 0, name: 'AMD Radeon RX 7900 XTX', memoryTotalMiB: 24560, memoryUsedMiB: 10, driver: null },
        { index: 1, name: 'AMD Radeon RX 7900 XTX', memoryTotalMiB: 24560, memoryUsedMiB: 33, driver: null },
      ],
    })
    expect(parseRocmSmi('', 0)).toEqual({
      ok: false,
      reason: 'rocm-smi printed nothing (exit 0): the amdgpu driver is not loaded',
    })
    expect(parseRocmSmi('ERROR: No DRM devices available. Exiting', 1).ok).toBe(false)
  })
})
