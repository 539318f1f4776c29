import { Readable } from 'node:stream'
import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import { extract } from 'tar-stream'
import { describe, expect, it } from 'vitest'
import { UserError } from '../../../src/errors.js'
import { engineMessage, outputLine } from '../../../src/images/build-output.js'
import { contextTar } from '../../../src/images/context-tar.js'
import { dockerBuild, dockerConfigJson, dockerManifestInspect, dockerPush } from '../../../src/images/docker-cli.js'
import { chooseBuilder, failureLine, readEngineStream, selectBuiltServices } from '../../../src/images/service.js'
import { imageBuilds } from '../../../src/render/image-build.js'
import { loadOk } from '../../helpers/load.js'
import { REPO, projectFrom, removeProject } from '../../helpers/project.js'

const FIXTURE = join(REPO, 'test/fixtures/built-image')

describe('the Docker CLI argv', () => {
  const build = {
    ref: 'registry.lab.test:5000/app:src-0123456789abcdef',
    dockerfile: 'docker/Dockerfile.prod',
    args: { VERSION: '1.2', GREETING: 'hello world' },
  }

  it('the log-in is a config file entry (no argv, no credential helper asked), the password only base64 in it', () => {
    const text = dockerConfigJson('registry.lab.test:5000', 'fleet', 'p@ss: w0rd')
    expect(JSON.parse(text)).toEqual({
      auths: { 'registry.lab.test:5000': { auth: Buffer.from('fleet:p@ss: w0rd').toString('base64') } },
    })
    // an auths entry is there, and no credsStore: the CLI has no reason to reach for a keychain
    expect(text).not.toContain('credsStore')
    expect(text).not.toContain('p@ss')
  })

  it('docker build reads the context as a tar on stdin, args sorted', () => {
    expect(dockerBuild(build)).toEqual([
      'docker',
      'build',
      '--file',
      'docker/Dockerfile.prod',
      '--tag',
      'registry.lab.test:5000/app:src-0123456789abcdef',
      '--build-arg',
      'GREETING=hello world',
      '--build-arg',
      'VERSION=1.2',
      '-',
    ])
  })

  it('push and the registry lookup', () => {
    expect(dockerPush(build.ref)).toEqual(['docker', 'push', build.ref])
    expect(dockerManifestInspect(build.ref)).toEqual(['docker', 'manifest', 'inspect', build.ref])
  })
})

describe("the engine's build and push output", () => {
  it.each([
    ['{"stream":"Step 1/3 : FROM alpine\\n"}', { lines: ['Step 1/3 : FROM alpine'] }],
    ['{"status":"Pushing","id":"abc123"}', { lines: ['abc123: Pushing'] }],
    ['{"aux":{"ID":"sha256:1"}}', { lines: [] }],
    [
      '{"errorDetail":{"message":"COPY failed: no such file"},"error":"COPY failed: no such file"}',
      { lines: [], error: 'COPY failed: no such file' },
    ],
    ['{"stream":"\\u001b[31mred\\u001b[0m \\u0007bell\\n"}', { lines: ['red \\x07bell'] }],
    ['plain text', { lines: ['plain text'] }],
    ['[1,2]', { lines: [] }],
  ])('%s', (line, expected) => {
    expect(engineMessage(line)).toEqual(expected)
  })

  it('outputLine drops escape sequences and escapes other control characters', () => {
    expect(outputLine('\u001b[1A\u001b[2K#5 [2/3] COPY hello.sh /\r')).toBe('#5 [2/3] COPY hello.sh /')
    expect(outputLine('a\u202eb')).toBe('a\\u{202e}b')
  })

  it('a stream ends with its first error', async () => {
    const shown: string[] = []
    const stream = Readable.from([
      '{"stream":"Step 1/2 : FROM alp',
      'ine\\n"}\n{"stream":"Step 2/2 : RUN false\\n"}\n',
      '{"error":"The command \'/bin/sh -c false\' returned a non-zero code: 1"}\n',
    ])
    expect(await readEngineStream(stream, (l) => shown.push(l))).toBe(
      "The command '/bin/sh -c false' returned a non-zero code: 1",
    )
    expect(shown).toEqual(['Step 1/2 : FROM alpine', 'Step 2/2 : RUN false'])
  })

  it("the CLI's failure is its ERROR line, else its last", () => {
    expect(
      failureLine(['#6 [2/2] RUN false', '#6 ERROR: process "/bin/sh -c false" did not complete successfully', 'done']),
    ).toBe('#6 ERROR: process "/bin/sh -c false" did not complete successfully')
    expect(failureLine(['a', 'b'])).toBe('b')
    expect(failureLine([])).toBe('no output')
  })
})

describe('what a run covers', () => {
  it('every built service by default; names that are not built services are refused', async () => {
    const { project } = await loadOk(FIXTURE)
    expect(selectBuiltServices(project, [])).toEqual(['app', 'worker'])
    expect(selectBuiltServices(project, ['worker'])).toEqual(['worker'])
    expect(() => selectBuiltServices(project, ['nope'])).toThrow(UserError)
    expect(() => selectBuiltServices(project, ['nope'])).toThrow('unknown service nope')
    expect(() => selectBuiltServices(project, ['db'])).toThrow(
      'db is not built from source: it runs "postgres:16-alpine"',
    )
  })

  it('a platform without builds is refused', async () => {
    const { project } = await loadOk(join(REPO, 'test/fixtures/minimal'))
    expect(() => selectBuiltServices(project, [])).toThrow('no service of this platform builds its image from source')
  })

  it('the builder: --on, else platform.builder, else local; --local wins over platform.builder', async () => {
    const { project } = await loadOk(FIXTURE)
    expect(chooseBuilder(project, undefined, false)).toEqual({ kind: 'local' })
    expect(chooseBuilder(project, 'gamma', false)).toEqual({ kind: 'host', host: 'gamma' })
    expect(() => chooseBuilder(project, 'delta', false)).toThrow('unknown host delta')
    expect(() => chooseBuilder(project, 'gamma', true)).toThrow('--on and --local both given')
    const withBuilder = { ...project, platform: { ...project.platform, builder: 'beta' } }
    expect(chooseBuilder(withBuilder, undefined, false)).toEqual({ kind: 'host', host: 'beta' })
    expect(chooseBuilder(withBuilder, undefined, true)).toEqual({ kind: 'local' })
  })
})

describe('the context tar', () => {
  const read = async (tarball: Buffer) => {
    const out: { name: string; mode: number; type: string; body: string }[] = []
    const tar = extract()
    const done = new Promise<void>((resolve, reject) => {
      tar.on('entry', (header, body, next) => {
        const chunks: Buffer[] = []
        body.on('data', (c: unknown) => chunks.push(c as Buffer))
        body.on('end', () => {
          out.push({
            name: header.name,
            mode: header.mode,
            type: header.type,
            body: Buffer.concat(chunks).toString(),
          })
          next()
        })
      })
      tar.on('finish', resolve)
      tar.on('error', reject)
    })
    tar.end(tarball)
    await done
    return out
  }

  it('holds exactly the hashed entries, with their modes', async () => {
    const { project } = await loadOk(FIXTURE)
    const [build] = imageBuilds(project)
    const entries = await read(await contextTar(build!))
    expect(entries.map((e) => [e.name, e.type, e.mode.toString(8)])).toEqual([
      ['.dockerignore', 'file', '644'],
      ['Dockerfile', 'file', '644'],
      ['hello.sh', 'file', '755'],
    ])
    expect(entries[2]!.body).toBe('#!/bin/sh\necho hello\n')
  })

  it('a file changed after the tag was computed fails the stream instead of building something else', async () => {
    const dir = await projectFrom(FIXTURE)
    try {
      const { project } = await loadOk(dir)
      const [build] = imageBuilds(project)
      await writeFile(join(dir, 'docker/app/hello.sh'), '#!/bin/sh\necho changed\n')
      await expect(contextTar(build!)).rejects.toThrow(/hello\.sh changed after the tag .* was computed from it/)
    } finally {
      await removeProject(dir)
    }
  })
})
