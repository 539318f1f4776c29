// The release upload run by a real sh and tar on a directory standing for the host's base: config
// files keyed by path, mode and content, and checked against their sums after unpacking.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseHolder } from '../../../src/deploy/lock-holder.js'
import { parseQuickFacts } from '../../../src/deploy/preflight.js'
import { buildRecord, parseReleaseRecord, recordedReplicas, releaseTarball } from '../../../src/deploy/release.js'
import { parseFileCheck } from '../../../src/ops/drift.js'
import { checkReleaseFiles, unpackRelease } from '../../../src/remote/commands.js'
import { fileKey, sha256, type HostRender } from '../../../src/render/render.js'

const base = mkdtempSync(join(tmpdir(), 'aip-release-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))

function render(files: { path: string; content: string; mode?: string }[]): HostRender {
  const rendered = files.map((f) => {
    const sum = sha256(f.content)
    return {
      path: `files/${fileKey(f.path, f.mode ?? '0644', sum)}/${f.path}`,
      content: f.content,
      sha256: sum,
      mode: f.mode ?? '0644',
    }
  })
  const compose = { path: 'compose.yaml', content: 'services: {}\n', sha256: sha256('services: {}\n'), mode: '0644' }
  return {
    host: 'h',
    composeProject: 'p',
    compose,
    files: rendered,
    secrets: [],
    services: [],
    hash: sha256(rendered.map((f) => f.path).join()),
  }
}

async function upload(id: string, r: HostRender, tamper?: (tar: Buffer) => Buffer) {
  const now = new Date('2026-11-30T00:00:00Z')
  let tar = await releaseTarball(r, 'A=1\n', buildRecord(r, { id, platform: 'p', now, previous: null, tool: 't' }))
  if (tamper) tar = tamper(tar)
  const argv = unpackRelease(base, id)
  return spawnSync(argv[0]!, argv.slice(1), { input: tar, encoding: 'utf8' })
}

describe('config files in the host store', () => {
  it('the same content at a new path lands at that path (keyed by content alone, it never did)', async () => {
    const first = render([{ path: 'app/a.conf', content: 'listen 8080\n' }])
    expect((await upload('r1', first)).status).toBe(0)
    const moved = render([{ path: 'app/b.conf', content: 'listen 8080\n' }])
    expect(moved.files[0]!.path).not.toBe(first.files[0]!.path)
    const second = await upload('r2', moved)
    expect(second.status, second.stderr).toBe(0)
    expect(readFileSync(join(base, moved.files[0]!.path), 'utf8')).toBe('listen 8080\n')
    expect(readFileSync(join(base, 'releases', 'r2', 'files.sha256'), 'utf8')).toBe(
      `${sha256('listen 8080\n')}  ${moved.files[0]!.path}\n`,
    )
  })

  it('a store entry damaged on the host is replaced by the upload', async () => {
    const r = render([{ path: 'prometheus/prometheus.yml', content: 'scrape_configs: []\n' }])
    expect((await upload('r3', r)).status).toBe(0)
    writeFileSync(join(base, r.files[0]!.path), 'edited on the host\n')
    const again = await upload('r4', r)
    expect(again.status, again.stderr).toBe(0)
    expect(readFileSync(join(base, r.files[0]!.path), 'utf8')).toBe('scrape_configs: []\n')
    expect(readdirSync(join(base, 'files')).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('a file that does not match its sum fails the upload and leaves no release behind', async () => {
    const r = render([{ path: 'x/y.conf', content: 'AAAAAAAAAAAAAAAA\n' }])
    // one byte of the file changed in transit: the tar still unpacks
    const result = await upload('r5', r, (tar) =>
      Buffer.from(tar.toString('latin1').replace('AAAAAAAAAAAAAAAA', 'AAAAAAAABAAAAAAA'), 'latin1'),
    )
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain(`${r.files[0]!.path}: FAILED`)
    expect(result.stderr).toContain("the release's config files did not arrive intact")
    expect(readdirSync(join(base, 'releases')).sort()).toEqual(['r1', 'r2', 'r3', 'r4'])
  })

  it('a release without config files unpacks', async () => {
    expect((await upload('r6', render([]))).status).toBe(0)
  })

  it('outside .env, nothing in the release carries the secrets or a digest of them', async () => {
    const r = render([{ path: 'a/b.conf', content: 'x\n' }])
    const env = 'POSTGRES_PASSWORD=hunter2\n'
    const record = buildRecord(r, { id: 'r7', platform: 'p', now: new Date(), previous: null, tool: 't' })
    const tar = (await releaseTarball(r, env, record)).toString('latin1')
    // .env and .env.sha256 (both 0600 on the host) aside
    const withoutEnv = tar.replace(env, '').replace(`${sha256(env)}  .env\n`, '')
    expect(withoutEnv).not.toContain('hunter2')
    expect(withoutEnv).not.toContain(sha256(env))
  })
})

describe('drift in the current release, as checkReleaseFiles finds it', () => {
  const check = () => {
    const argv = checkReleaseFiles(base)
    const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' })
    expect(result.status, result.stderr).toBe(0)
    return parseFileCheck(result.stdout)
  }

  it('none in a release as uploaded; then an edited config file, an edited .env, a removed .env', async () => {
    const r = render([{ path: 'loki/loki.yaml', content: 'auth_enabled: false\n' }])
    expect((await upload('r8', r)).status).toBe(0)
    symlinkSync('releases/r8', join(base, 'current'))
    expect(statSync(join(base, 'releases', 'r8', '.env.sha256')).mode & 0o777).toBe(0o600)
    expect(check()).toEqual([])
    writeFileSync(join(base, r.files[0]!.path), 'auth_enabled: true\n')
    writeFileSync(join(base, 'releases', 'r8', '.env'), 'A=2\n')
    expect(check()).toEqual([
      { kind: 'file', detail: 'loki/loki.yaml was edited on the host' },
      { kind: 'env', detail: '.env was edited on the host' },
    ])
    rmSync(join(base, 'releases', 'r8', '.env'))
    expect(check()).toContainEqual({ kind: 'env', detail: '.env is missing' })
  })

  it('a release made before .env.sha256 existed: its .env is not judged', async () => {
    rmSync(join(base, 'releases', 'r8', '.env.sha256'))
    expect(check().filter((d) => d.kind === 'env')).toEqual([])
  })
})

describe('what a host says it runs', () => {
  const record = {
    ...buildRecord(render([{ path: 'a/b.conf', content: 'x\n' }]), {
      id: '20261130T010203Z-0123abcd',
      platform: 'p',
      now: new Date(),
      previous: null,
      tool: 't',
    }),
    hash: 'a'.repeat(64),
    composeProject: 'p',
  }
  const good = () => structuredClone(record)

  it('a record buildRecord() wrote is read back', () => {
    expect(parseReleaseRecord(JSON.stringify(good()))).toEqual(good())
  })

  it('a record written before replica counts were kept runs one of each', () => {
    const service = { name: 'a', image: 'x', tier: 'core', oneshot: false, hasHealthcheck: false }
    const read = parseReleaseRecord(
      JSON.stringify({ ...good(), services: [service, { ...service, name: 'b', replicas: 0 }] }),
    )!
    expect(read.services.map((s) => recordedReplicas(s))).toEqual([1, 0])
  })

  it.each([
    ['an id that climbs out of releases/ (a rollback would point current at it)', { id: '../../../etc' }],
    ['a config file path outside the store', { files: ['files/0123456789abcdef/../../../etc/shadow'] }],
    ['services that are not a list', { services: 5 }],
    ['a service without a name', { services: [{ image: 'x', tier: 'core', oneshot: false, hasHealthcheck: false }] }],
    ['a previous release that is not an id', { previous: 'x;y' }],
    ['a compose project that is not a name', { composeProject: 'a b' }],
    [
      'a replica count that is not a count (a rollback waits for that many)',
      { services: [{ name: 'a', image: 'x', tier: 'core', oneshot: false, hasHealthcheck: false, replicas: -1 }] },
    ],
    [
      'a replica count that is text',
      { services: [{ name: 'a', image: 'x', tier: 'core', oneshot: false, hasHealthcheck: false, replicas: '3' }] },
    ],
  ])('refuses %s', (_what, change) => {
    expect(parseReleaseRecord(JSON.stringify({ ...good(), ...change }))).toBeNull()
  })

  it('a lock holder believes only fields of the right type', () => {
    expect(
      parseHolder('held\n{"token":{"$(id)":1},"user":["x"],"machine":"m","pid":"12","since":5}\n@@age 12x'),
    ).toEqual({
      who: '?@m (pid ?)',
      since: null,
      command: null,
      ageS: null,
      user: null,
      machine: 'm',
      pid: null,
      token: null,
    })
    expect(
      parseHolder('held\n{"token":"t","user":"u","machine":"m","pid":12,"command":"deploy","since":"s"}\n@@age 12'),
    ).toEqual({
      who: 'u@m (pid 12)',
      since: 's',
      command: 'deploy',
      ageS: 12,
      user: 'u',
      machine: 'm',
      pid: 12,
      token: 't',
    })
  })
})

describe('the quick probe', () => {
  it('believes a user name only when it is one (it goes into a suggested sudo command)', () => {
    const probe = (user: string) => parseQuickFacts(`@@aip:user\n${user}\n@@aip:rc:0\n`).user
    expect(probe('deploy')).toBe('deploy')
    expect(probe('x; rm -rf /')).toBe('the deploy user')
    expect(probe('\u001b]0;t\u0007')).toBe('the deploy user')
  })
})
