// Deploy correctness on the fleet, asserted on the hosts: deploys racing for one lock, a rollback
// judged by the release it goes back to, failed releases and releases_keep, the repaired path, and
// secret values of every printable character carried byte for byte under Compose v1 and v2.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import {
  ensureDeployed,
  HAVE_FLEET,
  hostState,
  serviceContainer,
  startDeploy,
  testPlatform,
  waitFor,
  type TestPlatform,
} from '../helpers/platform.js'

let platform: TestPlatform

async function containerEnv(host: string, service: string): Promise<Record<string, string>> {
  const { container } = await serviceContainer(fleetHost(platform.fleet, host), service)
  return Object.fromEntries(
    (await container.inspect()).Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  )
}

/** A stand-in healthcheck that passes only some seconds after the container started: holds a deploy in its health wait. */
const slowHealth = (seconds: number) => ({
  test: ['CMD', 'sh', '-c', `test $$(( $$(date +%s) - $$(stat -c %Y /proc/1) )) -ge ${seconds}`],
  interval: '2s',
  timeout: '2s',
  retries: 30,
  start_period: '1s',
})

describe.skipIf(!HAVE_FLEET)('deploy correctness', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.regenerate({})
    await ensureDeployed(platform).catch(() => undefined)
    await platform?.cleanup()
  })

  it('--lock-wait: a deploy that waited rolls back to the release that landed meanwhile, and one of the same content finds it unchanged', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const start = await hostState(erebus)
    // Operator A's change holds erebus's lock in its health wait for a few seconds.
    await platform.regenerate({
      mutate: (name, def) =>
        name === 'qdrant' && (Object.assign(def.environment, { RACE: 'a' }), (def.healthcheck = slowHealth(8))),
    })
    // Operator B changes the same service so that it never gets healthy; operator C has A's files exactly.
    const b = await testPlatform({
      mutate: (name, def) =>
        name === 'qdrant' && (Object.assign(def.environment, { RACE: 'b' }), (def.healthcheck.test = ['CMD', 'false'])),
    })
    const c = await testPlatform({
      mutate: (name, def) =>
        name === 'qdrant' && (Object.assign(def.environment, { RACE: 'a' }), (def.healthcheck = slowHealth(8))),
    })
    try {
      const a = startDeploy(platform, ['erebus', '--json', '--pull', 'never'])
      await waitFor('A holding the lock', async () => /erebus: lock ok/.test(a.output()), 60_000, 50)
      const waitingB = startDeploy(
        platform,
        ['erebus', '--json', '--pull', 'never', '--lock-wait', '180', '--health-timeout', '10'],
        b.dir,
      )
      const waitingC = startDeploy(platform, ['erebus', '--json', '--pull', 'never', '--lock-wait', '180'], c.dir)
      const ra = await a.done
      expect(ra.code, ra.stderr).toBe(0)
      const landed = ra.json.hosts[0].release as string
      expect(ra.json.hosts[0]).toMatchObject({ status: 'deployed', previous: start.current })
      const [rb, rc] = await Promise.all([waitingB.done, waitingC.done])
      // B: its previous is A's release, and its failure goes back to it, not to the release before A
      expect(rb.code).toBe(1)
      expect(rb.json.hosts[0]).toMatchObject({
        status: 'failed',
        previous: landed,
        rollback: { status: 'done', release: landed },
      })
      // C: the host runs exactly its files: no new release, no duplicate history line
      expect(rc.code, rc.stderr).toBe(0)
      expect(rc.json.hosts[0]).toMatchObject({ status: 'unchanged', release: landed })
      const after = await hostState(erebus)
      expect(after.current).toBe(landed)
      expect((await containerEnv('erebus', 'qdrant')).RACE).toBe('a')
      const lines = after.history.slice(start.history.length)
      expect(lines.map((h) => [h.event, h.release, h.to ?? null])).toEqual([
        ['deployed', landed, null],
        ['rolled-back', rb.json.hosts[0].release, landed],
      ])
      expect(lines[1]).toMatchObject({ healthy: true })
    } finally {
      await b.cleanup()
      await c.cleanup()
    }
  }, 600_000)

  it('a rollback is judged by the checks of the release it goes back to, not by the ones that just failed', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    await platform.regenerate({})
    await ensureDeployed(platform)
    const before = await hostState(erebus)
    expect(before.release.services.find((s: any) => s.name === 'qdrant').health).toEqual([
      { required: true, http: { port: 6333, path: '/readyz', status: 200, scheme: 'http' } },
    ])
    // the declared check moves to a port nothing answers on: the new release fails its health
    await platform.regenerate({
      mutate: (name, def) =>
        name === 'qdrant' && (def['x-ai-platform'].health = [{ http: { port: 6399, path: '/readyz' } }]),
    })
    const run = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never', '--health-timeout', '8'])
    expect(run.code).toBe(1)
    const host = run.json.hosts[0]
    expect(host.error).toMatch(
      /^erebus: containers run, but checks fail after 8 s: qdrant http :6399\/readyz: connection refused/,
    )
    expect(host.rollback).toEqual({ status: 'done', release: before.current })
    const after = await hostState(erebus)
    expect(after.current).toBe(before.current)
    expect(after.history.at(-1)).toMatchObject({ event: 'rolled-back', to: before.current, healthy: true })
  }, 600_000)

  it('failed releases do not take releases_keep slots; rollback skips them and those of the same content', async () => {
    const zelus = fleetHost(platform.fleet, 'zelus')
    await platform.regenerate({})
    await ensureDeployed(platform)
    // one good release on top of what runs, then two failed ones (releases_keep: 3)
    await platform.regenerate({ mutate: (name, def) => name === 'neo4j' && (def.environment.KEEP = 'good') })
    const good = await platform.cli(['deploy', 'zelus', '--json', '--pull', 'never'])
    expect(good.code, good.stderr).toBe(0)
    const goodId = good.json.hosts[0].release as string
    const previousGood = good.json.hosts[0].previous as string
    for (const n of [1, 2]) {
      await platform.regenerate({
        mutate: (name, def) =>
          name === 'neo4j' &&
          (Object.assign(def.environment, { KEEP: `bad-${n}` }), (def.healthcheck.test = ['CMD', 'false'])),
      })
      const bad = await platform.cli(['deploy', 'zelus', '--json', '--pull', 'never', '--health-timeout', '6'])
      expect(bad.json.hosts[0]).toMatchObject({ status: 'failed', rollback: { status: 'done', release: goodId } })
    }
    const releases = (await readdir(join(zelus.outside.baseDir, 'releases'))).filter((r) => !r.startsWith('.')).sort()
    // kept: the live one, the good one before it, and the newest failed one
    expect(releases).toContain(goodId)
    expect(releases).toContain(previousGood)
    expect(releases).toHaveLength(3)
    const back = await platform.cli(['rollback', 'zelus', '--json'])
    expect(back.code, back.stderr).toBe(0)
    expect(back.json).toMatchObject({ from: goodId, to: previousGood })
    // forward again, then --force: a release of the same content is no rollback target
    await platform.regenerate({ mutate: (name, def) => name === 'neo4j' && (def.environment.KEEP = 'good') })
    expect((await platform.cli(['deploy', 'zelus', '--json', '--pull', 'never'])).code).toBe(0)
    const forced = await platform.cli(['deploy', 'zelus', '--force', '--json', '--pull', 'never'])
    expect(forced.json.hosts[0].status).toBe('deployed')
    const again = await platform.cli(['rollback', 'zelus', '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.json.to).toBe(previousGood)
    await platform.regenerate({})
    await ensureDeployed(platform)
  }, 900_000)

  it('the repaired path reports the release it repaired', async () => {
    const thanatos = fleetHost(platform.fleet, 'thanatos')
    const before = await hostState(thanatos)
    const { container } = await serviceContainer(thanatos, 'openapi-calculator')
    await container.stop()
    const run = await platform.cli(['deploy', 'thanatos', '--json', '--pull', 'never'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.hosts[0]).toMatchObject({ status: 'repaired', release: before.current, previous: before.current })
    expect((await hostState(thanatos)).history.at(-1)).toMatchObject({ event: 'repaired', release: before.current })
  }, 300_000)

  it('a password of every ASCII punctuation character, $HOME, ${X} and spaces reaches the containers byte for byte under Compose v1 and v2, in no argv', async () => {
    const value = ` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~ $HOME \${X} $(id) x `
    const file = join(platform.dir, 'secrets.env')
    const original = await readFile(file, 'utf8')
    // hephaestus runs Compose v1, moros v2
    expect([
      platform.fleet.hosts.find((h) => h.name === 'hephaestus')!.compose,
      platform.fleet.hosts.find((h) => h.name === 'moros')!.compose,
    ]).toEqual(['v1', 'v2'])
    await writeFile(
      file,
      original
        .replace(/^REGISTRY_API_KEY=.*$/m, `REGISTRY_API_KEY=${value}`)
        .replace(/^GRAFANA_ADMIN_PASSWORD=.*$/m, `GRAFANA_ADMIN_PASSWORD=${value}`),
      { mode: 0o600 },
    )
    try {
      const validate = await platform.cli(['validate'])
      expect(validate.code, validate.stderr).toBe(0)
      const run = await platform.cli([
        'deploy',
        'hephaestus',
        'moros',
        '--yes',
        '--json',
        '--verbose',
        '--pull',
        'never',
      ])
      expect(run.code, run.stderr).toBe(0)
      expect((await containerEnv('hephaestus', 'service-registry')).API_KEY).toBe(value)
      expect((await containerEnv('moros', 'grafana')).GF_SECURITY_ADMIN_PASSWORD).toBe(value)
      // every command sent to a host is traced (masked): none carried the value
      const traced = run.stderr.split('\n').filter((l) => l.startsWith('[trace] '))
      expect(traced.length).toBeGreaterThan(10)
      expect(traced.filter((l) => l.includes('***'))).toEqual([])
      expect(run.stdout + run.stderr).not.toContain(value)
    } finally {
      await writeFile(file, original, { mode: 0o600 })
    }
    await ensureDeployed(platform)
  }, 600_000)
})
