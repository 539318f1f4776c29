// One broken file hides nothing wrong in the others: each file is parsed and schema-checked on its own,
// and the stack files are checked even when platform.yaml (or the whole inventory) is unusable.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { validateProject } from '../../../src/validate/validate.js'
import { formatIssue } from '../../../src/errors.js'
import { cli } from '../../helpers/cli.js'
import { MINIMAL, projectFrom, removeProject, type Edits } from '../../helpers/project.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(removeProject))
})

async function report(edits: Edits) {
  const dir = await projectFrom(MINIMAL, edits)
  dirs.push(dir)
  const result = await validateProject(dir)
  expect(result.valid).toBe(false)
  return { lines: result.issues.map(formatIssue), codes: result.issues.map((i) => i.code), dir }
}

const replace = (from: string, to: string) => (text: string) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`)
  return text.replace(from, to)
}

const BROKEN_PLATFORM = {
  'inventory/platform.yaml': replace('  domain: lab.test', '  domain: lab.test\n  releases_keep: many'),
}
const PLATFORM_LINE = 'inventory/platform.yaml:4:18 platform.releases_keep: must be an integer (got "many")'

describe('every file is checked, whichever fails its schema', () => {
  it('platform.yaml fails its schema: a stack file that fails its own is still reported', async () => {
    const { lines, codes } = await report({
      ...BROKEN_PLATFORM,
      'stacks/db.yaml': replace('phase: infra', 'phase: database'),
    })
    expect(lines).toEqual([
      PLATFORM_LINE,
      'stacks/db.yaml:3:10 x-ai-platform.phase: must be one of infra, ai, monitor (got "database")',
    ])
    expect(codes).toEqual(['schema', 'schema'])
  })

  it('platform.yaml fails its schema: a stack rule, a template and a host in another inventory file are still checked', async () => {
    const { lines, codes } = await report({
      ...BROKEN_PLATFORM,
      'inventory/more.yaml': 'hosts:\n  delta:\n    hardware: { gpu: { vendor: nvidia, gfx_version: 10.3.0 } }\n',
      'stacks/db.yaml': replace('image: postgres:16-alpine', 'image: "a;b"'),
      'templates/app.conf.hbs': replace('{{/each}}', '{{/eahc}}'),
    })
    expect(lines).toEqual([
      PLATFORM_LINE,
      'inventory/more.yaml:3:40 hosts.delta.hardware.gpu.gfx_version: gfx_version applies to AMD GPUs only (got vendor nvidia)',
      "stacks/db.yaml:6:12 services.db.image: not an image reference Docker accepts: the path component \"a;b\" is not allowed (allowed lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/', got \"a;b\")",
      "templates/app.conf.hbs:2:4 template syntax error: each doesn't match eahc",
    ])
    expect(codes).toEqual(['schema', 'amd-only', 'image-reference', 'template-syntax'])
  })

  it('hosts.yaml and a stack both fail their schemas; rules across files wait for a sound inventory', async () => {
    const { lines, codes } = await report({
      'inventory/hosts.yaml': replace('    address: 10.0.0.1', '    adress: 10.0.0.1'),
      'stacks/app.yaml': replace('hosts: [alpha]', 'hosts: [alpha, delta]'),
      'stacks/db.yaml': replace('services:', 'servics:'),
    })
    // No "unknown host delta": the hosts of a file that failed its schema are not known.
    expect(lines).toEqual([
      'inventory/hosts.yaml:3:5 hosts.alpha.adress: unknown key (allowed address, local, ssh, tags, description, hardware, base_dir, mounts, models, ollama, got "adress")',
      'stacks/db.yaml:1:1 services: required key is missing',
      'stacks/db.yaml:4:1 servics: unknown key (allowed version, x-ai-platform, services, volumes, networks, x-*, got "servics")',
    ])
    expect(codes).toEqual(['schema', 'schema', 'schema'])
  })

  it('an empty inventory directory: the stack files are still checked', async () => {
    const { lines, codes } = await report({
      'inventory/hosts.yaml': null,
      'inventory/platform.yaml': null,
      'stacks/db.yaml': replace('phase: infra', 'phase: database'),
    })
    expect(lines).toEqual([
      'inventory/:1:1 no inventory files (*.yaml) found',
      'stacks/db.yaml:3:10 x-ai-platform.phase: must be one of infra, ai, monitor (got "database")',
    ])
    expect(codes).toEqual(['no-inventory', 'schema'])
  })

  it('a directory named like a stack file is a located error, not a crash', async () => {
    const dir = await projectFrom(MINIMAL)
    dirs.push(dir)
    await mkdir(join(dir, 'stacks', 'cache.yaml'))
    const result = await validateProject(dir)
    expect(result.issues.map(formatIssue)).toEqual(['stacks/cache.yaml:1:1 cannot read the file: EISDIR'])
    expect(result.issues.map((i) => i.code)).toEqual(['file-unreadable'])
  })

  it('validate --json carries each issue with its code', async () => {
    const { dir } = await report({
      ...BROKEN_PLATFORM,
      'stacks/db.yaml': replace('image: postgres:16-alpine', 'image: "a;b"'),
    })
    const result = await cli(['validate', '--project', dir, '--json'])
    expect(result.code).toBe(1)
    const json = JSON.parse(result.stdout) as { issues: { code: string; file: string; line: number; path: string }[] }
    expect(json.issues.map(({ code, file, line, path }) => ({ code, file, line, path }))).toEqual([
      { code: 'schema', file: 'inventory/platform.yaml', line: 4, path: 'platform.releases_keep' },
      { code: 'image-reference', file: 'stacks/db.yaml', line: 6, path: 'services.db.image' },
    ])
  })
})
