// `ai-platform diff` and `ai-platform rollback HOST [--to ID]` on the fleet, asserted on what the host runs: its `current`
// link, its containers' environment, its history and its lock.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import {
  ensureDeployed,
  HAVE_FLEET,
  hostDocker,
  hostState,
  testPlatform,
  type TestPlatform,
} from '../helpers/platform.js'

let platform: TestPlatform

/** The environment qdrant's container really runs with on erebus. */
async function qdrantEnv(): Promise<string[]> {
  const erebus = fleetHost(platform.fleet, 'erebus')
  const state = await hostState(erebus)
  const qdrant = state.containers.find((c) => c.service === 'qdrant' && c.state === 'running')!
  return (await hostDocker(erebus).getContainer(qdrant.id).inspect()).Config.Env
}

describe.skipIf(!HAVE_FLEET)('diff and rollback', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
  }, 600_000)

  afterAll(async () => {
    await platform?.regenerate({})
    await platform?.cleanup()
  })

  it('puts a host back on the release it ran before, under its lock, and a deploy brings the new one again', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const before = await hostState(erebus)
    const clean = await platform.cli(['diff', 'erebus'])
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.stdout).toBe(`erebus: up to date (${before.current})\n`)
    await platform.regenerate({ mutate: (name, def) => name === 'qdrant' && (def.environment.ROLLBACK_MARK = 'new') })
    // diff: what the deploy will change, read from the host, before it does
    const diff = await platform.cli(['diff', 'erebus', '--json'])
    // 1: the host differs (as diff(1)); 0 only when a deploy would change nothing
    expect(diff.code, diff.stderr).toBe(1)
    expect(diff.json.hosts[0]).toMatchObject({ host: 'erebus', current: before.current, same: false, env: 'same' })
    expect(diff.json.hosts[0].changes.map((c: any) => c.file)).toEqual(['compose.yaml'])
    expect(diff.json.hosts[0].changes[0].diff).toMatch(/^\+ +ROLLBACK_MARK: new$/m)
    const deployed = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never'])
    expect(deployed.code, deployed.stderr).toBe(0)
    const changed = await hostState(erebus)
    expect(changed.current).not.toBe(before.current)
    expect(await qdrantEnv()).toContain('ROLLBACK_MARK=new')

    const run = await platform.cli(['rollback', 'erebus', '--json'])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.json).toMatchObject({
      kind: 'ai-platform/rollback',
      host: 'erebus',
      from: changed.current,
      to: before.current,
    })
    expect(run.json.services.find((s: any) => s.name === 'qdrant')).toMatchObject({
      state: 'running',
      health: 'healthy',
    })
    const after = await hostState(erebus)
    expect(after.current).toBe(before.current)
    expect(await qdrantEnv()).not.toContain('ROLLBACK_MARK=new')
    expect(after.history.at(-1)).toMatchObject({
      event: 'rolled-back',
      release: changed.current,
      to: before.current,
      manual: true,
    })
    expect(existsSync(join(erebus.outside.baseDir, '.lock'))).toBe(false)

    // The inventory still says "new": the next deploy puts it back.
    const again = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never'])
    expect(again.json.hosts[0].status).toBe('deployed')
    expect(await qdrantEnv()).toContain('ROLLBACK_MARK=new')
  }, 600_000)

  it('--to a release the host does not keep, or the one it runs: a clear error, nothing changes', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const before = await hostState(erebus)
    const unknown = await platform.cli(['rollback', 'erebus', '--to', '19990101T000000Z-00000000'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(
      /^error: erebus keeps no release 19990101T000000Z-00000000\nhint: Releases on erebus: \S+ \(current\), /,
    )
    const same = await platform.cli(['rollback', 'erebus', '--to', before.current!])
    expect(same.code).toBe(1)
    expect(same.stderr).toContain(`error: erebus already runs ${before.current}`)
    expect((await hostState(erebus)).current).toBe(before.current)
  }, 300_000)
})
