// images build as a user runs it, on a platform with one build context shared by two services:
// --dry-run --json lists the image with the ref the plan pins; refusals come before anything is contacted.
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { REPO, projectFrom, removeProject } from '../helpers/project.js'

const FIXTURE = join(REPO, 'test/fixtures/built-image')
let dir: string
beforeAll(async () => {
  dir = await projectFrom(FIXTURE)
  // every secret but the registry's password
  await writeFile(join(dir, 'secrets.env'), 'DB_PASSWORD=hunter2hunter2\nAPI_KEY=sk-0123456789\n')
  await chmod(join(dir, 'secrets.env'), 0o600)
})
afterAll(() => removeProject(dir))

const MISSING_PASSWORD =
  'the registry registry.lab.test:5000 needs the password of fleet, and secrets.env does not define REGISTRY_PASSWORD'

describe('images build', () => {
  it('--dry-run --json lists each image once with the ref the plan pins for its services', async () => {
    const [dry, plan] = await Promise.all([
      cli(['images', 'build', '--dry-run', '--json', '--project', dir]),
      cli(['plan', '--json', '--project', dir]),
    ])
    expect(dry.code).toBe(0)
    const report = JSON.parse(dry.stdout)
    expect(report).toMatchObject({
      kind: 'ai-platform/images-build',
      ok: true,
      platform: 'mini',
      registry: 'registry.lab.test:5000',
      builder: { kind: 'local' },
      dryRun: true,
      login: { username: 'fleet', secret: 'REGISTRY_PASSWORD' },
    })
    expect(report.images).toHaveLength(1)
    const [image] = report.images
    expect(image).toMatchObject({
      services: ['app', 'worker'],
      context: 'docker/app',
      dockerfile: 'Dockerfile',
      args: { GREETING: 'hello' },
      registry: 'unknown',
      status: 'planned',
    })
    expect(image.ref).toBe(`registry.lab.test:5000/app:src-${image.digest.slice(0, 16)}`)
    expect(plan.code).toBe(0)
    expect(plan.stdout).toContain(`"image": "${image.ref}"`)
  })

  it('--dry-run text names the builder and each image', async () => {
    const result = await cli(['images', 'build', '--dry-run', '--on', 'gamma', 'worker', '--project', dir])
    expect(result.code).toBe(0)
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      'Would build 1 image on gamma and push to registry.lab.test:5000:',
      expect.stringMatching(
        /^ {2}would build {2}registry\.lab\.test:5000\/app:src-[0-9a-f]{16} {2}\(worker; docker\/app\/Dockerfile; GREETING=hello\)$/,
      ),
    ])
  })

  it.each([
    [['db'], 'error: db is not built from source: it runs "postgres:16-alpine"'],
    [['nope'], 'error: unknown service nope'],
    [['--on', 'delta'], 'error: unknown host delta'],
    [['--on', 'gamma', '--local'], 'error: --on and --local both given: build on one or the other'],
  ])('refuses %j', async (args, message) => {
    const result = await cli(['images', 'build', '--dry-run', ...args, '--project', dir])
    expect(result.code).toBe(1)
    expect(result.stderr.split('\n')[0]).toBe(message)
  })

  it('without the registry password in secrets.env, refuses before Docker or a host is contacted', async () => {
    const result = await cli(['images', 'build', '--on', 'gamma', '--project', dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`error: ${MISSING_PASSWORD}`)
    expect(result.stderr).toContain('hint: Add REGISTRY_PASSWORD=<the password of fleet> to secrets.env')
  })

  it('a platform without x-ai-platform.build has nothing to build', async () => {
    const result = await cli(['images', 'build', '--dry-run', '--project', join(REPO, 'test/fixtures/minimal')])
    expect(result.code).toBe(1)
    expect(result.stderr.split('\n')[0]).toBe('error: no service of this platform builds its image from source')
  })
})

describe('deploy of a built image', () => {
  it('without the registry password, refuses before connecting to any host', async () => {
    const result = await cli(['deploy', 'alpha', '--yes', '--project', dir])
    expect(result.code).toBe(1)
    // the error and its hint, and nothing before them: no connect step, no host's progress line
    expect(result.stderr.trim().split('\n')).toEqual([
      `error: ${MISSING_PASSWORD}`,
      'hint: Add REGISTRY_PASSWORD=<the password of fleet> to secrets.env (platform.registry_auth names it).',
    ])
  })
})
