// plan --format mermaid|dot, run as a user runs it.
import { describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { MINIMAL } from '../helpers/project.js'

describe('plan --format', () => {
  it('prints the deploy graph as Mermaid or dot text, and refuses it with --json', async () => {
    const [mermaid, dot, both] = await Promise.all([
      cli(['plan', '--project', MINIMAL, '--format', 'mermaid']),
      cli(['plan', '--project', MINIMAL, '--format', 'dot']),
      cli(['plan', '--project', MINIMAL, '--format', 'dot', '--json']),
    ])
    expect(mermaid).toMatchObject({ code: 0, stderr: '' })
    expect(mermaid.stdout).toMatch(/^flowchart LR\n {2}subgraph wave_1\["wave 1"\]\n/)
    expect(mermaid.stdout).toContain('  host_gamma -->|db| host_alpha\n')
    expect(dot).toMatchObject({ code: 0, stderr: '' })
    expect(dot.stdout).toMatch(/^digraph "mini" \{\n/)
    expect(dot.stdout).toContain('  "beta" -> "alpha" [label="ollama"];\n  "gamma" -> "alpha" [label="db"];\n}\n')
    expect(both.code).toBe(1)
    expect(both.stderr).toContain('--json=true cannot also be provided when using --format')
  })

  it('--help documents it', async () => {
    const help = await cli(['plan', '--help'])
    expect(help.stdout).toMatch(/--format=<option>/)
    expect(help.stdout).toContain('mermaid')
    expect(help.stdout).toContain('dot -Tsvg')
  })
})
