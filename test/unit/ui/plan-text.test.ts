import { describe, expect, it } from 'vitest'
import { buildPlan, resolveTargets } from '../../../src/plan/plan.js'
import { renderHosts } from '../../../src/render/render.js'
import { formatPlan } from '../../../src/ui/plan-text.js'
import { outputWidth, visibleLength, wrapLine } from '../../../src/ui/wrap.js'
import { loadOk } from '../../helpers/load.js'
import { MINIMAL } from '../../helpers/project.js'

const plain = (text: string) => text.replace(new RegExp(String.raw`\u001b\[[\d;]*m`, 'g'), '')

describe('wrapLine', () => {
  it('breaks at spaces, never inside a word, and indents what follows', () => {
    expect(wrapLine('    runs litellm, node-exporter, nvidia-gpu-exporter, ollama', 30, '         ')).toEqual([
      '    runs litellm,',
      '         node-exporter,',
      '         nvidia-gpu-exporter,',
      '         ollama',
    ])
    expect(wrapLine('short enough', 12, '  ')).toEqual(['short enough'])
  })

  it('leaves a word wider than the line whole, and counts colour sequences as no columns', () => {
    expect(wrapLine('a extraordinarily-long-word b', 10, '  ')).toEqual(['a', '  extraordinarily-long-word', '  b'])
    const red = '\u001b[31mred\u001b[39m'
    expect(visibleLength(red)).toBe(3)
    expect(wrapLine(`${red} ${red} ${red}`, 11, '')).toEqual([`${red} ${red} ${red}`])
  })

  it('wraps at the terminal width, or 80 when the output is not a terminal', () => {
    expect(outputWidth({ isTTY: true, columns: 132 })).toBe(132)
    expect(outputWidth({ isTTY: false, columns: 132 })).toBe(80)
    expect(outputWidth({})).toBe(80)
  })
})

describe('formatPlan', async () => {
  const { project } = await loadOk(MINIMAL)
  const plan = (bundled: boolean) => {
    const hosts = resolveTargets(project, { selectors: [] })
    return buildPlan({ ...project, bundled }, renderHosts(project, hosts).renders, { selectors: [] })
  }

  it('names the bundled reference platform once, in one pair of parentheses, from the plan data', () => {
    const bundled = plan(true)
    expect(bundled).toMatchObject({ bundled: true, project: MINIMAL })
    expect(plain(formatPlan(bundled, { width: 200 })).split('\n')[0]).toBe(
      'Plan for platform mini (bundled reference platform): 3 hosts in 2 waves, 4 services',
    )
    expect(plain(formatPlan(plan(false), { width: 200 })).split('\n')[0]).toBe(
      `Plan for platform mini (${MINIMAL}): 3 hosts in 2 waves, 4 services`,
    )
  })

  it('wraps every line to the width at word boundaries, continuation lines indented', () => {
    const text = plain(formatPlan(plan(true), { width: 40 }))
    expect(text).toBe(
      [
        'Plan for platform mini (bundled',
        '  reference platform): 3 hosts in 2',
        '  waves, 4 services',
        '',
        'wave 1 (2 hosts in parallel)',
        '  beta         ssh 10.0.0.2',
        '               1 services  hash',
        `               ${plan(true).hosts[0]!.hash.slice(0, 12)}`,
        '    runs ollama',
        '  gamma        ssh 10.0.0.3',
        '               1 services  hash',
        `               ${plan(true).hosts[1]!.hash.slice(0, 12)}`,
        '    runs db',
        '    secrets DB_PASSWORD (values ***)',
        '',
        'wave 2 (1 host)',
        '  alpha        ssh 10.0.0.1',
        '               2 services  hash',
        `               ${plan(true).hosts[2]!.hash.slice(0, 12)}`,
        '    runs app, ollama',
        '    after beta (ollama); gamma (db)',
        '    secrets API_KEY, DB_PASSWORD (values',
        '            ***)',
      ].join('\n'),
    )
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(40)
  })

  it('ends with the stacks that bound how many of their hosts deploy at once, and the hosts each bounds', () => {
    const base = plan(false)
    const limited = {
      ...base,
      limits: [
        { stack: 'ollama', maxUnavailableHosts: 1, hosts: ['beta', 'alpha'] },
        { stack: 'db', maxUnavailableHosts: 2, hosts: ['gamma'] },
      ],
    }
    expect(
      plain(formatPlan(limited, { width: 200 }))
        .split('\n')
        .slice(-3),
    ).toEqual([
      'rollout limits (max_unavailable_hosts: hosts of a stack deploying at once)',
      '  ollama at most 1 of beta, alpha',
      '  db at most 2 of gamma (no effect: 1 in this plan)',
    ])
    expect(plain(formatPlan(base, { width: 200 }))).not.toContain('rollout limits')
  })
})
