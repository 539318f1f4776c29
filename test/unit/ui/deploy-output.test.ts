// A failed host's error is printed once in plain output (the host's last line), with its host and the
// step it came from; its step line and the summary name the failure without repeating the error.
import { describe as group, expect, it } from 'vitest'
import type { DeployReport, HostReport } from '../../../src/deploy/engine.js'
import { formatSummary, plainReporter } from '../../../src/ui/deploy-reporters.js'

const error = 'orpheus: containers run, but checks fail after 60 s: ollama http :11434/api/tags: connection refused'
const failed: HostReport = {
  host: 'orpheus',
  status: 'failed',
  durationMs: 61_000,
  release: '20261201T030000Z-abc',
  previous: null,
  compose: null,
  services: [],
  steps: [],
  error,
  failedStep: 'health',
  rollback: { status: 'done', release: '20261130T010000Z-def' },
}
const ok: HostReport = {
  ...failed,
  host: 'erebus',
  status: 'deployed',
  error: undefined,
  failedStep: undefined,
  rollback: undefined,
  durationMs: 4_000,
}

group('deploy output', () => {
  it('prints a failure once, with its host and step', () => {
    const lines: string[] = []
    const reporter = plainReporter((l) => lines.push(l), Date.now())
    reporter.emit({ type: 'host-start', host: 'orpheus' })
    reporter.emit({ type: 'step', host: 'orpheus', step: 'health', phase: 'failed', ms: 60_000, detail: error })
    reporter.emit({ type: 'host-done', report: failed })
    const report: DeployReport = {
      kind: 'ai-platform/deploy',
      ok: false,
      platform: 'p',
      durationMs: 65_000,
      interrupted: false,
      hosts: [ok, failed],
      summary: { deployed: 1, unchanged: 0, repaired: 0, failed: 1, skipped: 0, cancelled: 0 },
    }
    const output = [...lines, formatSummary(report)].join('\n')
    expect(output.split(error).length - 1).toBe(1)
    expect(lines[1]).toMatch(/^ +[\d.]+s orpheus: health FAILED \(60000 ms\)$/)
    expect(lines[2]).toMatch(
      new RegExp(
        `^ +[\\d.]+s orpheus: FAILED at health: ${error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; rolled back to 20261130T010000Z-def$`,
      ),
    )
    expect(formatSummary(report).split('\n').slice(1)).toEqual([
      '  orpheus: FAILED at health (error above); rolled back to 20261130T010000Z-def',
    ])
  })

  it('a step that went well keeps its detail', () => {
    const lines: string[] = []
    plainReporter((l) => lines.push(l)).emit({
      type: 'step',
      host: 'erebus',
      step: 'upload',
      phase: 'done',
      ms: 12,
      detail: '4.2 KiB',
    })
    expect(lines[0]).toMatch(/erebus: upload ok \(12 ms\): 4\.2 KiB$/)
  })
})
