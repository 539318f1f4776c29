// images build on a builder host, against an in-memory stand-in for the engine's API (the calls
// dockerode makes: distribution, build, push): what is sent, what is shown, how failures read.
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { extract } from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildImages, type ImagesBuildOptions } from '../../../src/images/service.js'
import type { Connector } from '../../../src/remote/connect.js'
import { loadOk } from '../../helpers/load.js'
import { REPO, projectFrom, removeProject } from '../../helpers/project.js'
import type { Project } from '../../../src/config/model.js'

const PASSWORD = 'registry-pa55word'
let dir: string
let project: Project
beforeAll(async () => {
  dir = await projectFrom(join(REPO, 'test/fixtures/built-image'))
  await writeFile(
    join(dir, 'secrets.env'),
    `DB_PASSWORD=hunter2hunter2\nAPI_KEY=sk-0123456789\nREGISTRY_PASSWORD=${PASSWORD}\n`,
  )
  await chmod(join(dir, 'secrets.env'), 0o600)
  project = (await loadOk(dir)).project
})
afterAll(() => removeProject(dir))

const lines = (...events: object[]) => Readable.from(events.map((e) => `${JSON.stringify(e)}\n`))

interface Engine {
  present: Set<string>
  build: object[]
  push: object[]
  calls: { call: string; name?: string; options: any; files?: string[] }[]
}

function engine(spec: Partial<Engine> = {}): { engine: Engine; connector: Connector } {
  const state: Engine = {
    present: new Set(),
    build: [{ stream: 'Step 1/5 : FROM alpine:3.20\n' }, { stream: '\u001b[1mSuccessfully tagged\u001b[0m\n' }],
    push: [{ status: 'Pushed', id: 'abc' }, { status: 'src-x: digest: sha256:1 size: 528' }],
    calls: [],
    ...spec,
  }
  const docker = {
    getImage: (name: string) => ({
      distribution: (options: any) => {
        state.calls.push({ call: 'distribution', name, options })
        return state.present.has(name)
          ? Promise.resolve({})
          : Promise.reject(Object.assign(new Error('(HTTP code 404) manifest unknown'), { statusCode: 404 }))
      },
      push: (options: any) => {
        state.calls.push({ call: 'push', name, options })
        return Promise.resolve(lines(...state.push))
      },
    }),
    buildImage: async (context: Readable, options: any) => {
      const files: string[] = []
      const tar = extract()
      tar.on('entry', (header, body, next) => {
        files.push(header.name)
        body.resume()
        body.on('end', next)
      })
      const done = new Promise<void>((resolve) => tar.on('finish', () => resolve()))
      for await (const chunk of context) tar.write(chunk as Buffer)
      tar.end(null)
      await done
      state.calls.push({ call: 'build', options, files })
      return lines(...state.build)
    },
  }
  const connector = {
    get: (host: string) => Promise.resolve({ host, docker: () => docker }),
    closeAll: () => Promise.resolve(),
  } as unknown as Connector
  return { engine: state, connector }
}

async function run(connector: Connector, extra: Partial<ImagesBuildOptions> = {}) {
  const progress: string[] = []
  const report = await buildImages(project, {
    services: [],
    on: 'gamma',
    local: false,
    force: false,
    dryRun: false,
    acceptNew: false,
    redact: (t) => t.split(PASSWORD).join('***'),
    progress: (l) => progress.push(l),
    connector,
    ...extra,
  })
  return { report, progress }
}

describe('images build on a host', () => {
  it('asks the registry, builds from the hashed files, pushes with the log-in; no password in what is shown', async () => {
    const { engine: state, connector } = engine()
    const { report, progress } = await run(connector)
    const ref = report.images[0]!.ref
    const [repository, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)]
    const auth = { username: 'fleet', password: PASSWORD, serveraddress: 'registry.lab.test:5000' }
    expect(report.ok).toBe(true)
    expect(report.images[0]).toMatchObject({ status: 'pushed', registry: 'absent', services: ['app', 'worker'] })
    expect(state.calls.map((c) => [c.call, c.name])).toEqual([
      ['distribution', ref],
      ['build', undefined],
      ['push', repository],
    ])
    expect(state.calls[0]!.options.authconfig).toEqual(auth)
    expect(state.calls[1]!.options).toMatchObject({
      t: ref,
      dockerfile: 'Dockerfile',
      buildargs: { GREETING: 'hello' },
      registryconfig: { 'registry.lab.test:5000': { username: 'fleet', password: PASSWORD } },
    })
    expect(state.calls[1]!.files).toEqual(['.dockerignore', 'Dockerfile', 'hello.sh'])
    expect(state.calls[2]!.options).toMatchObject({ tag, authconfig: auth })
    expect(progress).toEqual([
      `${ref}: building docker/app (app, worker)`,
      'Step 1/5 : FROM alpine:3.20',
      'Successfully tagged',
      `${ref}: pushing`,
      'abc: Pushed',
      'src-x: digest: sha256:1 size: 528',
    ])
    expect(JSON.stringify(report)).not.toContain(PASSWORD)
  })

  it('an image the registry holds is skipped; --force builds it anyway without asking', async () => {
    const { engine: state, connector } = engine()
    const { report: planned } = await run(connector, { dryRun: true })
    state.present.add(planned.images[0]!.ref)
    const { report } = await run(connector)
    expect(report.images[0]).toMatchObject({ status: 'skipped', registry: 'present' })
    expect(state.calls.map((c) => c.call)).toEqual(['distribution'])
    const forced = await run(connector, { force: true })
    expect(forced.report.images[0]).toMatchObject({ status: 'pushed', registry: 'unknown' })
    expect(state.calls.map((c) => c.call)).toEqual(['distribution', 'build', 'push'])
  })

  it("a failed build fails with the build's own error line", async () => {
    const { connector } = engine({
      build: [
        { stream: 'Step 3/5 : COPY hello.sh /hello.sh\n' },
        { errorDetail: { message: 'COPY failed: file not found' }, error: 'COPY failed: file not found' },
      ],
    })
    const { report } = await run(connector)
    expect(report.ok).toBe(false)
    expect(report.images[0]!.status).toBe('failed')
    expect(report.images[0]!.error).toBe(`gamma: building ${report.images[0]!.ref} failed: COPY failed: file not found`)
  })

  it('a push the registry refuses names the registry, the user and the secret', async () => {
    const { connector } = engine({
      push: [{ status: 'Preparing', id: 'abc' }, { error: 'unauthorized: authentication required' }],
    })
    const { report } = await run(connector)
    expect(report.images[0]).toMatchObject({
      status: 'failed',
      error: `gamma: the registry registry.lab.test:5000 refused the credentials for fleet (secret REGISTRY_PASSWORD): pushing ${report.images[0]!.ref}: unauthorized: authentication required`,
      hint: 'Check REGISTRY_PASSWORD in secrets.env: it must be the registry password of fleet (platform.registry_auth).',
    })
  })
})
