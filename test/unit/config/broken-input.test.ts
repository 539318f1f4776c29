// Broken files give a located error, never a throw.
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { validateProject } from '../../../src/validate/validate.js'
import { formatIssue } from '../../../src/errors.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(removeProject))
})

async function issuesFor(edits: Parameters<typeof projectFrom>[1]): Promise<string[]> {
  const dir = await projectFrom(MINIMAL, edits)
  dirs.push(dir)
  const report = await validateProject(dir)
  expect(report.valid).toBe(false)
  return report.issues.map(formatIssue)
}

describe('broken input', () => {
  it('invalid YAML: bad indentation', async () => {
    expect(
      await issuesFor({ 'inventory/hosts.yaml': 'hosts:\n  alpha:\n    address: 10.0.0.1\n   tags: [gpu]\n' }),
    ).toEqual(['inventory/hosts.yaml:4:1 invalid YAML: All mapping items must start at the same column'])
  })

  it('a truncated file', async () => {
    expect(await issuesFor({ 'stacks/db.yaml': (t) => t.slice(0, t.indexOf('ports: ["5432') + 12) })).toEqual([
      'stacks/db.yaml:9:17 invalid YAML: Missing closing "quote',
      'stacks/db.yaml:9:17 invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ])
  })

  it('wrong types everywhere at once', async () => {
    expect(
      await issuesFor({
        'inventory/hosts.yaml':
          'hosts:\n  alpha:\n    address: 10.0.0.1\n    tags: gpu\n    local: "yes"\n    hardware: { gpu: { vendor: nvidia, count: 0 } }\n',
      }),
    ).toEqual([
      'inventory/hosts.yaml:4:11 hosts.alpha.tags: must be a list (got "gpu")',
      'inventory/hosts.yaml:5:12 hosts.alpha.local: must be true or false (got "yes")',
      'inventory/hosts.yaml:6:47 hosts.alpha.hardware.gpu.count: must be >= 1 (got 0)',
    ])
  })

  it('the root is not a mapping', async () => {
    expect(await issuesFor({ 'stacks/db.yaml': '- just\n- a list\n' })).toEqual([
      'stacks/db.yaml:1:1 must be a mapping (got a list)',
    ])
  })

  it('non-UTF-8 bytes', async () => {
    const bytes = Buffer.concat([
      Buffer.from('hosts:\n  alpha:\n    description: caf'),
      Buffer.from([0xe9, 0x20, 0xff]),
      Buffer.from('\n'),
    ])
    expect(await issuesFor({ 'inventory/hosts.yaml': bytes })).toEqual([
      'inventory/hosts.yaml:3:21 file is not valid UTF-8 (allowed UTF-8 text, got an invalid byte sequence)',
    ])
  })

  it('a 50 MB file is refused before it is read', async () => {
    const dir = await projectFrom(MINIMAL)
    dirs.push(dir)
    const handle = await open(join(dir, 'stacks/huge.yaml'), 'w')
    await handle.truncate(50 * 1024 * 1024)
    await handle.close()
    const report = await validateProject(dir)
    expect(report.issues.map(formatIssue)).toEqual([
      'stacks/huge.yaml:1:1 file is too large (allowed at most 4.0 MiB, got 50.0 MiB)',
    ])
    expect(report.issues.map((i) => i.code)).toEqual(['file-too-large'])
  })

  it('YAML alias bombs are stopped', async () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n')
    const lines = await issuesFor({ 'stacks/bomb.yaml': `${bomb}\n` })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^stacks\/bomb\.yaml:1:1 invalid YAML: Excessive alias count/)
  })

  it('an empty inventory directory', async () => {
    const dir = await projectFrom(MINIMAL, { 'inventory/hosts.yaml': null, 'inventory/platform.yaml': null })
    dirs.push(dir)
    const report = await validateProject(dir)
    expect(report.issues.map(formatIssue)).toEqual(['inventory/:1:1 no inventory files (*.yaml) found'])
  })
})
