// The health table: an on-demand service that runs nothing reads as stopped, and the summary counts it
// apart from the checks that failed.
import { describe, expect, it } from 'vitest'
import type { HealthReport } from '../../../src/health/service.js'
import { formatHealth } from '../../../src/ui/health-table.js'

describe('health table', () => {
  it('shows a stopped on-demand service as stopped, counted apart, and the fleet still healthy', () => {
    const check = (service: string, status: 'ok' | 'stopped', detail: string) => ({
      host: 'kratos',
      service,
      check: 'container',
      status,
      required: status === 'ok',
      latencyMs: 4,
      detail,
    })
    const report: HealthReport = {
      kind: 'ai-platform/health',
      ok: true,
      platform: 'p',
      checkedAt: '2026-12-01T00:00:00.000Z',
      durationMs: 12,
      hosts: [
        {
          host: 'kratos',
          reachable: true,
          latencyMs: 10,
          checks: [check('comfyui', 'stopped', 'stopped (on demand)'), check('ollama', 'ok', 'running')],
        },
      ],
      summary: { hosts: 1, unreachable: 0, checks: 2, ok: 1, failed: 0, optionalFailed: 0, stopped: 1 },
    }
    const lines = formatHealth(report)
      .split('\n')
      .map((l) => l.replace(/ +/g, ' ').trimEnd())
    expect(lines).toEqual([
      'HOST SERVICE CHECK STATUS LATENCY DETAIL',
      'kratos comfyui container stopped 4 ms stopped (on demand)',
      ' ollama container ok 4 ms running',
      '',
      'healthy: 1/2 checks ok on 1/1 hosts, 1 stopped on demand in 12 ms',
    ])
  })
})
