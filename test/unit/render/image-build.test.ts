import { chmod, cp, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  buildDigest,
  contextEntries,
  imageBuilds,
  isIgnored,
  parseDockerignore,
} from '../../../src/render/image-build.js'
import { renderHosts } from '../../../src/render/render.js'
import { loadOk } from '../../helpers/load.js'
import { REPO, projectFrom, removeProject } from '../../helpers/project.js'

const FIXTURE = join(REPO, 'test/fixtures/built-image')
const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

async function context(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aip-context-'))
  dirs.push(dir)
  await cp(join(FIXTURE, 'docker/app'), dir, { recursive: true })
  return dir
}
const digestOf = (dir: string, dockerfile = 'Dockerfile', args: Record<string, string> = { GREETING: 'hello' }) =>
  buildDigest(contextEntries(dir, dockerfile), dockerfile, args)

describe('the digest of a build', () => {
  it('covers the files a build sends, not the .dockerignored ones', async () => {
    const dir = await context()
    expect(contextEntries(dir, 'Dockerfile').map((e) => [e.path, e.kind, e.mode.toString(8)])).toEqual([
      ['.dockerignore', 'file', '644'],
      ['Dockerfile', 'file', '644'],
      ['hello.sh', 'file', '755'],
    ])
  })

  it("changes with a file's content, a file's mode, an added file, the args and the Dockerfile's path", async () => {
    const dir = await context()
    const before = digestOf(dir)
    expect(digestOf(dir)).toBe(before)
    await writeFile(join(dir, 'hello.sh'), '#!/bin/sh\necho bonjour\n')
    const content = digestOf(dir)
    expect(content).not.toBe(before)
    await chmod(join(dir, 'hello.sh'), 0o700)
    const mode = digestOf(dir)
    expect(mode).not.toBe(content)
    await writeFile(join(dir, 'extra.txt'), 'x\n')
    const added = digestOf(dir)
    expect(added).not.toBe(mode)
    expect(digestOf(dir, 'Dockerfile', { GREETING: 'bonjour' })).not.toBe(added)
    expect(digestOf(dir, 'Dockerfile', {})).not.toBe(added)
    await cp(join(dir, 'Dockerfile'), join(dir, 'other.Dockerfile'))
    // same bytes under another name: the Dockerfile's path is an input of its own
    expect(digestOf(dir, 'other.Dockerfile')).not.toBe(digestOf(dir))
  })

  it('does not change with mtimes, nor with a file .dockerignore excludes', async () => {
    const dir = await context()
    const before = digestOf(dir)
    await utimes(join(dir, 'hello.sh'), new Date(0), new Date(0))
    await writeFile(join(dir, 'notes', 'todo.txt'), 'something else\n')
    await writeFile(join(dir, 'build.log'), 'noise\n')
    expect(digestOf(dir)).toBe(before)
  })

  it('always sends the Dockerfile, even one .dockerignore names', async () => {
    const dir = await context()
    await writeFile(join(dir, '.dockerignore'), 'Dockerfile\n.dockerignore\n')
    expect(contextEntries(dir, 'Dockerfile').map((e) => e.path)).toEqual(['Dockerfile', 'hello.sh', 'notes/todo.txt'])
  })
})

describe('.dockerignore', () => {
  it.each([
    ['notes/', 'notes/todo.txt', true],
    ['notes', 'notes/deep/a.txt', true],
    ['*.log', 'build.log', true],
    ['*.log', 'logs/build.log', false],
    ['**/*.log', 'logs/build.log', true],
    ['**/*.log', 'build.log', true],
    ['/secret?.txt', 'secret1.txt', true],
    ['# comment', '# comment', false],
    ['docs\n!docs/keep.md', 'docs/keep.md', false],
    ['docs\n!docs/keep.md', 'docs/drop.md', true],
    ['a.b', 'axb', false],
  ])('%j on %s: ignored %s', (text, path, ignored) => {
    expect(isIgnored(path, parseDockerignore(text))).toBe(ignored)
  })
})

describe('render pins the built image', () => {
  it('as <image_registry>/<name>:src-<16 hex>, one image for services that share their inputs', async () => {
    const { project } = await loadOk(FIXTURE)
    const builds = imageBuilds(project)
    expect(builds).toHaveLength(1)
    const [build] = builds
    expect(build!.services).toEqual(['app', 'worker'])
    expect(build!.ref).toMatch(/^registry\.lab\.test:5000\/app:src-[0-9a-f]{16}$/)
    const { renders, issues } = renderHosts(project, ['alpha'])
    expect(issues).toEqual([])
    const compose = parse(renders[0]!.compose.content) as { services: Record<string, { image: string }> }
    expect(compose.services.app!.image).toBe(build!.ref)
    expect(compose.services.worker!.image).toBe(build!.ref)
    expect(renders[0]!.services.find((s) => s.name === 'app')!.image).toBe(build!.ref)
  })

  it('a changed source file changes the ref and the release hash; a .dockerignored one changes neither', async () => {
    const dir = await projectFrom(FIXTURE)
    try {
      const hashOf = async () => {
        const { project } = await loadOk(dir)
        const [render] = renderHosts(project, ['alpha']).renders
        return [render!.hash, render!.services[0]!.image]
      }
      const before = await hashOf()
      await writeFile(join(dir, 'docker/app/notes/todo.txt'), 'changed\n')
      expect(await hashOf()).toEqual(before)
      await writeFile(join(dir, 'docker/app/hello.sh'), '#!/bin/sh\necho changed\n')
      const after = await hashOf()
      expect(after[0]).not.toBe(before[0])
      expect(after[1]).not.toBe(before[1])
    } finally {
      await removeProject(dir)
    }
  })

  it('hosts without a built service render as before', async () => {
    const { project } = await loadOk(FIXTURE)
    const [gamma] = renderHosts(project, ['gamma']).renders
    expect(gamma!.services.map((s) => s.image)).toEqual(['postgres:16-alpine'])
  })
})
