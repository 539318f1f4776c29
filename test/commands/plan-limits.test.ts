// plan and plan --json name the hosts each stack's max_unavailable_hosts bounds, run as a user runs it.
import { afterAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { MINIMAL, projectFrom, removeProject } from '../helpers/project.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(removeProject))
})

describe('plan: max_unavailable_hosts', () => {
  it('plan --json lists the bounded stack with its hosts; the text ends with the same', async () => {
    const dir = await projectFrom(MINIMAL, {
      'stacks/ollama.yaml': (text) => text.replace('  phase: ai\n', '  phase: ai\n  max_unavailable_hosts: 1\n'),
    })
    dirs.push(dir)
    const [json, text] = await Promise.all([
      cli(['plan', '--project', dir, '--json']),
      cli(['plan', '--project', dir], { env: { NO_COLOR: '1' } }),
    ])
    expect(json.code).toBe(0)
    expect((JSON.parse(json.stdout) as { limits: unknown }).limits).toEqual([
      { stack: 'ollama', maxUnavailableHosts: 1, hosts: ['beta', 'alpha'] },
    ])
    expect(text.code).toBe(0)
    expect(text.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      'rollout limits (max_unavailable_hosts: hosts of a stack deploying at once)',
      '  ollama at most 1 of beta, alpha',
    ])
  })
})
