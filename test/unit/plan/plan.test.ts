import { describe, expect, it } from 'vitest'
import { buildPlan, resolveTargets } from '../../../src/plan/plan.js'
import { hostDependencies } from '../../../src/config/host-dependencies.js'
import { findCycles, layer } from '../../../src/util/graph.js'
import { renderHosts } from '../../../src/render/render.js'
import { UserError } from '../../../src/errors.js'
import type { Project } from '../../../src/config/model.js'
import { loadOk } from '../../helpers/load.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'

function plan(
  project: Project,
  selectors: string[],
  extra: { phase?: 'infra' | 'ai' | 'monitor'; withDeps?: boolean } = {},
) {
  const hosts = resolveTargets(project, { selectors, ...extra })
  return buildPlan(project, renderHosts(project, hosts).renders, { selectors, ...extra })
}

describe('graph', () => {
  it('names each cycle, shortest first from its smallest member', () => {
    const edges = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a']],
    ])
    expect(findCycles(edges)).toEqual([['a', 'b', 'c'], ['d']])
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([])
  })

  it('layers a DAG into waves and refuses a cycle', () => {
    expect(
      layer(
        new Map([
          ['a', []],
          ['b', ['a']],
          ['c', ['a']],
          ['d', ['b', 'c']],
        ]),
        ['a', 'b', 'c', 'd'],
      ),
    ).toEqual([['a'], ['b', 'c'], ['d']])
    expect(() =>
      layer(
        new Map([
          ['a', ['b']],
          ['b', ['a']],
        ]),
        ['a', 'b'],
      ),
    ).toThrow(/cycle among a, b/)
  })

  it('handles a long chain without recursion limits', () => {
    const edges = new Map<string, string[]>()
    for (let i = 0; i < 20000; i++) edges.set(`n${i}`, i > 0 ? [`n${i - 1}`] : [])
    expect(findCycles(edges)).toEqual([])
    edges.set('n0', ['n19999'])
    expect(findCycles(edges)[0]).toHaveLength(20000)
  })
})

describe('the reference platform plan', async () => {
  const { project } = await loadOk()

  it('respects the original order: databases first, orpheus after erebus, moros after every host it scrapes', () => {
    const p = plan(project, ['all'])
    const wave = (h: string) => p.hosts.find((x) => x.name === h)!.wave
    expect(p.waves.map((w) => w.hosts)).toEqual([
      ['erebus', 'kratos', 'nyx', 'hades', 'local'],
      ['hephaestus', 'orpheus'],
      ['thanatos', 'zelus'],
      ['moros'],
    ])
    expect(wave('erebus')).toBe(1)
    expect(wave('orpheus')).toBeGreaterThan(wave('erebus'))
    for (const scraped of ['erebus', 'hephaestus', 'thanatos', 'zelus', 'orpheus', 'kratos', 'nyx', 'hades'])
      expect(wave('moros')).toBeGreaterThan(wave(scraped))
    expect(p.summary).toEqual({ hosts: 10, waves: 4, services: 75, files: 38 }) // moros's Grafana: a dashboard provider and four dashboards
    expect(p.hosts.find((h) => h.name === 'local')!.transport).toBe('local')
  })

  it('explains each host edge with the services that cause it', () => {
    const orpheus = hostDependencies(project).get('orpheus')!
    expect(orpheus.map((e) => e.host)).toEqual(['erebus', 'kratos', 'nyx', 'hades'])
    expect(orpheus.find((e) => e.host === 'hades')!.because).toEqual([{ service: 'litellm', requires: 'ollama' }])
  })

  it('targets: a host, a tag, several, with dependencies, by phase', () => {
    expect(resolveTargets(project, { selectors: ['erebus'] })).toEqual(['erebus'])
    expect(resolveTargets(project, { selectors: ['@ollama'] })).toEqual(['orpheus', 'kratos', 'nyx', 'hades'])
    expect(resolveTargets(project, { selectors: ['moros', 'erebus'] })).toEqual(['erebus', 'moros'])
    expect(resolveTargets(project, { selectors: [] })).toHaveLength(10)
    expect(resolveTargets(project, { selectors: ['orpheus'], withDeps: true })).toEqual([
      'erebus',
      'orpheus',
      'kratos',
      'nyx',
      'hades',
    ])
    expect(resolveTargets(project, { selectors: ['all'], phase: 'infra' })).toEqual(['erebus', 'hephaestus'])
    expect(resolveTargets(project, { selectors: ['@gpu'], phase: 'monitor' })).toEqual([
      'orpheus',
      'kratos',
      'nyx',
      'hades',
    ])
  })

  it('a plan of a subset orders only within the subset', () => {
    const p = plan(project, ['orpheus', 'erebus'])
    expect(p.waves).toEqual([
      { wave: 1, hosts: ['erebus'] },
      { wave: 2, hosts: ['orpheus'] },
    ])
    expect(p.hosts[1]!.dependsOn.map((d) => d.host)).toEqual(['erebus', 'kratos', 'nyx', 'hades'])
  })

  it('unknown targets are user errors that list what exists', () => {
    expect(() => resolveTargets(project, { selectors: ['erebos'] })).toThrow(UserError)
    expect(() => resolveTargets(project, { selectors: ['erebos', '@nope'] })).toThrow('unknown targets: erebos, @nope')
    try {
      resolveTargets(project, { selectors: ['erebos'] })
    } catch (error) {
      expect((error as UserError).hint).toContain('erebus, hephaestus')
      expect((error as UserError).hint).toContain('@ollama')
    }
    expect(() => resolveTargets(project, { selectors: ['local'], phase: 'infra' })).toThrow(
      'no hosts match local in phase infra',
    )
  })

  it('never carries a secret value, only names', () => {
    const text = JSON.stringify(plan(project, ['all']))
    expect(text).toContain('"POSTGRES_PASSWORD"')
    expect(text).not.toMatch(/POSTGRES_PASSWORD=/)
  })
})

describe('the minimal fixture plan', async () => {
  const { project } = await loadOk(MINIMAL)
  it('puts the app after both hosts it needs', () => {
    expect(plan(project, ['all']).waves).toEqual([
      { wave: 1, hosts: ['beta', 'gamma'] },
      { wave: 2, hosts: ['alpha'] },
    ])
  })
})

describe("a stack's max_unavailable_hosts in the plan", () => {
  it('lists each bounded stack with the hosts of this plan it bounds, in plan order; none when no stack sets it', async () => {
    const dir = await projectFrom(MINIMAL, {
      'stacks/ollama.yaml': (text) => text.replace('  phase: ai\n', '  phase: ai\n  max_unavailable_hosts: 1\n'),
    })
    try {
      const { project } = await loadOk(dir)
      expect(project.stacks.find((s) => s.name === 'ollama')?.maxUnavailableHosts).toBe(1)
      expect(plan(project, ['all']).limits).toEqual([
        { stack: 'ollama', maxUnavailableHosts: 1, hosts: ['beta', 'alpha'] },
      ])
      expect(plan(project, ['gamma', 'alpha']).limits).toEqual([
        { stack: 'ollama', maxUnavailableHosts: 1, hosts: ['alpha'] },
      ])
      expect(plan(project, ['gamma']).limits).toEqual([])
    } finally {
      await removeProject(dir)
    }
    const { project } = await loadOk(MINIMAL)
    expect(plan(project, ['all']).limits).toEqual([])
  })
})

describe("a service's own phase", () => {
  it('--phase selects the hosts running a service of that phase, whatever its stack says', async () => {
    const dir = await projectFrom(MINIMAL, {
      'stacks/ollama.yaml': (text) =>
        text.replace('      gpu: { count: all }', '      gpu: { count: all }\n      phase: monitor'),
    })
    try {
      const { project } = await loadOk(dir)
      expect(project.services.ollama!.phase).toBe('monitor')
      expect(resolveTargets(project, { selectors: ['all'], phase: 'monitor' })).toEqual(['alpha', 'beta'])
      expect(() => resolveTargets(project, { selectors: ['beta'], phase: 'ai' })).toThrow(
        'no hosts match beta in phase ai',
      )
    } finally {
      await removeProject(dir)
    }
  })
})
