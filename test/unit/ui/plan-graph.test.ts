import { describe, expect, it } from 'vitest'
import { buildPlan, resolveTargets } from '../../../src/plan/plan.js'
import { renderHosts } from '../../../src/render/render.js'
import { formatPlanDot, formatPlanMermaid } from '../../../src/ui/plan-graph.js'
import { loadOk } from '../../helpers/load.js'
import { MINIMAL } from '../../helpers/project.js'

describe('the deploy graph', async () => {
  const { project } = await loadOk(MINIMAL)
  const plan = (selectors: string[]) =>
    buildPlan(project, renderHosts(project, resolveTargets(project, { selectors })).renders, { selectors })

  it('as a Mermaid flowchart: a subgraph per wave, edges labelled with the services waited for', () => {
    expect(formatPlanMermaid(plan([]))).toBe(
      [
        'flowchart LR',
        '  subgraph wave_1["wave 1"]',
        '    host_beta["beta"]',
        '    host_gamma["gamma"]',
        '  end',
        '  subgraph wave_2["wave 2"]',
        '    host_alpha["alpha"]',
        '  end',
        '  host_beta -->|ollama| host_alpha',
        '  host_gamma -->|db| host_alpha',
      ].join('\n'),
    )
  })

  it('as Graphviz dot: a cluster per wave, the same edges', () => {
    expect(formatPlanDot(plan([]))).toBe(
      [
        'digraph "mini" {',
        '  rankdir=LR;',
        '  node [shape=box];',
        '  subgraph cluster_wave_1 {',
        '    label="wave 1";',
        '    "beta";',
        '    "gamma";',
        '  }',
        '  subgraph cluster_wave_2 {',
        '    label="wave 2";',
        '    "alpha";',
        '  }',
        '  "beta" -> "alpha" [label="ollama"];',
        '  "gamma" -> "alpha" [label="db"];',
        '}',
      ].join('\n'),
    )
  })

  it("a stack's max_unavailable_hosts: a note joined to the hosts it bounds", () => {
    const bounded = { ...plan([]), limits: [{ stack: 'ollama', maxUnavailableHosts: 1, hosts: ['beta', 'gamma'] }] }
    expect(formatPlanMermaid(bounded).split('\n').slice(-3)).toEqual([
      '  limit_ollama{{"stack ollama: at most 1 at a time"}}',
      '  limit_ollama -.- host_beta',
      '  limit_ollama -.- host_gamma',
    ])
    expect(formatPlanDot(bounded).split('\n').slice(-4)).toEqual([
      '  "limit_ollama" [shape=note, label="stack ollama: at most 1 at a time"];',
      '  "limit_ollama" -> "beta" [style=dotted, arrowhead=none];',
      '  "limit_ollama" -> "gamma" [style=dotted, arrowhead=none];',
      '}',
    ])
  })

  it('draws no edge to a host outside the plan', () => {
    expect(formatPlanMermaid(plan(['alpha']))).toBe(
      ['flowchart LR', '  subgraph wave_1["wave 1"]', '    host_alpha["alpha"]', '  end'].join('\n'),
    )
    expect(formatPlanDot(plan(['alpha', 'gamma']))).toContain('  "gamma" -> "alpha" [label="db"];\n}')
    expect(formatPlanDot(plan(['alpha', 'gamma']))).not.toContain('"beta"')
  })
})
