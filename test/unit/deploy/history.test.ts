// What a host's history decides: which releases were healthy, which to prune, where a rollback goes,
// and what a deploy does with a host given what it runs under the lock.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  historyLine,
  parseHistoryEntries,
  releasesToPrune,
  rollbackTarget,
  verdicts,
  type HistoryEntry,
} from '../../../src/deploy/history.js'
import { parseQuickFacts } from '../../../src/deploy/preflight.js'
import { parseReleaseRecord, type ReleaseRecord } from '../../../src/deploy/release.js'
import { factsScript } from '../../../src/remote/facts.js'

const id = (day: number, hash = 'a') => `202611${String(day).padStart(2, '0')}T000000Z-${hash.repeat(8)}`
function release(day: number, hash = 'a', previous: string | null = null): ReleaseRecord {
  return {
    id: id(day, hash),
    host: 'h',
    platform: 'p',
    composeProject: 'ai-platform',
    hash: hash.repeat(64),
    createdAt: '2026-11-01T00:00:00.000Z',
    by: { user: 'u', machine: 'm' },
    services: [
      {
        name: 'app',
        image: 'app:1',
        tier: 'core',
        oneshot: false,
        hasHealthcheck: false,
        health: [{ required: true, http: { port: 8080, path: '/health', status: 200, scheme: 'http' } }],
        loopbackPorts: [],
      },
    ],
    files: [],
    previous,
    tool: 't',
  }
}
/** Releases as the host lists them; all with the same .env unless given. */
const kept = (ids: string[], env: (id: string) => string | null = () => 'e'.repeat(64)) =>
  ids.map((id) => ({ id, env: env(id) }))
const entries = (...lines: object[]): HistoryEntry[] =>
  parseHistoryEntries(lines.map((l) => JSON.stringify(l)).join('\n'))

describe('history: verdicts', () => {
  it('started and stopped (on-demand services) judge no release: not even a recovered one, nor the pruning or a rollback', () => {
    const history = entries(
      { event: 'deployed', release: id(1) },
      { event: 'failed', release: id(2) },
      { event: 'recovered', release: id(3) },
      { event: 'started', release: id(2), services: ['comfyui'] },
      { event: 'stopped', release: id(3), services: ['comfyui'] },
      { event: 'started', release: id(4), services: ['comfyui'] },
    )
    expect(Object.fromEntries(verdicts(history))).toEqual({ [id(1)]: 'healthy', [id(2)]: 'failed', [id(3)]: 'unknown' })
    const without = history.filter((e) => e.event !== 'started' && e.event !== 'stopped')
    const releases = kept([id(1), id(2), id(3), id(4)])
    expect(releasesToPrune(releases, id(4), history, 2)).toEqual(releasesToPrune(releases, id(4), without, 2))
    expect(rollbackTarget(release(4, 'b', id(2)), [release(1), release(2)], history)?.id).toBe(id(1))
  })

  it("deployed and repaired are healthy; a failed deploy's release is failed; a rollback target is healthy unless it came up unhealthy; the last word wins", () => {
    const v = verdicts(
      entries(
        { event: 'deployed', release: id(1) },
        { event: 'rolled-back', release: id(2), to: id(1), healthy: true },
        { event: 'rolled-back', release: id(3), to: id(1), healthy: false },
        { event: 'rolled-back', release: id(4), to: id(5), manual: true },
        { event: 'recovered', release: id(6) },
        { event: 'failed', release: id(7) },
        { event: 'repaired', release: id(7) },
      ),
    )
    expect(Object.fromEntries(v)).toEqual({
      [id(1)]: 'failed',
      [id(2)]: 'failed',
      [id(3)]: 'failed',
      [id(5)]: 'healthy',
      [id(6)]: 'unknown',
      [id(7)]: 'healthy',
    })
    // a manual rollback leaves a healthy release: it says nothing against it
    expect(v.has(id(4))).toBe(false)
  })

  it('skips lines that do not name releases as ours do', () => {
    expect(
      parseHistoryEntries(
        '{"event":"deployed","release":"../../etc"}\nnot json\n[]\n{"event":"deployed","release":"' +
          id(1) +
          '","to":"x"}',
      ),
    ).toEqual([{ event: 'deployed', release: id(1) }])
  })
})

describe('history: pruning', () => {
  it('one good and two failed deploys with releases_keep 3: the good one stays to go back to', () => {
    const ids = [id(1), id(2), id(3), id(4)]
    const history = entries(
      { event: 'deployed', release: id(1) },
      { event: 'deployed', release: id(2) },
      { event: 'rolled-back', release: id(3), to: id(2) },
      { event: 'rolled-back', release: id(4), to: id(2) },
    )
    // live: id(2); keep 3: live, id(1) (healthy), then the newest failed one
    expect(
      releasesToPrune(
        kept(ids, (i) => i),
        id(2),
        history,
        3,
      ),
    ).toEqual([id(3)])
    expect(
      releasesToPrune(
        kept(ids, (i) => i),
        id(2),
        history,
        2,
      ),
    ).toEqual([id(4), id(3)])
    // the old rule (the newest 3 by time) kept both failed ones and dropped id(1)
  })

  it('a release of content already kept goes before one of other content: --force adds nothing to go back to', () => {
    const s0 = id(1, 'a')
    const [g1, g2, g3] = [id(2, 'b'), id(3, 'b'), id(4, 'b')]
    const history = entries(...[s0, g1, g2, g3].map((release) => ({ event: 'deployed', release })))
    expect(releasesToPrune(kept([s0, g1, g2, g3]), g3, history, 3)).toEqual([g1])
    expect(releasesToPrune(kept([s0, g1, g2, g3]), g3, history, 2)).toEqual([g2, g1])
    // the same files with other secrets (a rotated password) is other content: nothing to drop first
    expect(
      releasesToPrune(
        kept([s0, g1, g2, g3], (i) => (i === g2 ? 'f'.repeat(64) : 'e'.repeat(64))),
        g3,
        history,
        3,
      ),
    ).toEqual([g1])
    expect(
      releasesToPrune(
        kept([s0, g1, g2, g3], (i) => i),
        g3,
        history,
        3,
      ),
    ).toEqual([s0])
  })

  it('never the live one, even with keep 0 or an unrecorded live release', () => {
    expect(releasesToPrune(kept([id(1), id(2)]), id(1), [], 0)).toEqual([id(2)])
    expect(releasesToPrune(kept([id(1), id(2, 'b'), 'not-a-release']), null, [], 1)).toEqual([id(1)])
  })
})

describe('history: where a rollback goes', () => {
  it('the release before, unless it failed or has the same content; else the newest older candidate', () => {
    const r1 = release(1, 'a')
    const r2 = release(2, 'b', r1.id)
    const r3 = release(3, 'b', r2.id) // deployed again with --force: same content as r2
    const r4 = release(4, 'c', r3.id)
    const sameEnv = new Map([r1, r2, r3, r4].map((r) => [r.id, 'x']))
    expect(rollbackTarget(r4, [r4, r3, r2, r1], [], sameEnv)?.id).toBe(r3.id)
    expect(rollbackTarget(r3, [r3, r2, r1], [], sameEnv)?.id).toBe(r1.id)
    expect(
      rollbackTarget(r4, [r4, r3, r2, r1], entries({ event: 'rolled-back', release: r3.id, to: r2.id }), sameEnv)?.id,
    ).toBe(r2.id)
    // a .env the host could not digest is not taken for the same
    expect(rollbackTarget(r3, [r3, r2, r1], [])?.id).toBe(r2.id)
    expect(rollbackTarget(r1, [r1], [])).toBeNull()
    // the same files with other secrets is a rollback (a rotated password undone); with the same secrets it is none
    const env = (pairs: [ReleaseRecord, string][]) => new Map(pairs.map(([r, e]) => [r.id, e]))
    expect(
      rollbackTarget(
        r3,
        [r3, r2, r1],
        [],
        env([
          [r3, 'x'],
          [r2, 'y'],
          [r1, 'x'],
        ]),
      )?.id,
    ).toBe(r2.id)
    expect(
      rollbackTarget(
        r3,
        [r3, r2, r1],
        [],
        env([
          [r3, 'x'],
          [r2, 'x'],
          [r1, 'x'],
        ]),
      )?.id,
    ).toBe(r1.id)
  })
})

describe('the recorded fact, in a real sh', () => {
  it('says whether history names the live release', () => {
    const base = mkdtempSync(join(tmpdir(), 'aip-recorded-'))
    try {
      const r = release(2, 'b')
      mkdirSync(join(base, 'releases', r.id), { recursive: true })
      writeFileSync(join(base, 'releases', r.id, 'release.json'), `${JSON.stringify(r)}\n`)
      symlinkSync(`releases/${r.id}`, join(base, 'current'))
      const facts = () =>
        parseQuickFacts(
          execFileSync('sh', ['-c', factsScript({ baseDir: base, mounts: [], gpu: null, full: false })], {
            encoding: 'utf8',
          }),
        )
      expect(facts().current?.id).toBe(r.id)
      expect(facts().recorded).toBe(false)
      writeFileSync(join(base, 'history.jsonl'), `${historyLine(release(1), 'deployed', { command: 'deploy' })}\n`)
      expect(facts().recorded).toBe(false)
      writeFileSync(join(base, 'history.jsonl'), `${historyLine(r, 'deployed', { command: 'deploy' })}\n`)
      expect(facts().recorded).toBe(true)
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  })

  it('a release record keeps its checks, and one with a check of the wrong shape is refused', () => {
    const r = release(1)
    expect(parseReleaseRecord(JSON.stringify(r))?.services[0]?.health).toEqual(r.services[0]!.health)
    // checks that do not read as checks are dropped (the release is judged by its containers), not the record
    const bad = (health: unknown) =>
      parseReleaseRecord(JSON.stringify({ ...r, services: [{ ...r.services[0], health }] }))?.services[0]
    for (const health of [
      [{ required: true, http: { port: 0, path: '/', status: 200, scheme: 'http' } }],
      [{ required: true, command: [] }],
      [{ required: true }],
      [{ required: 'yes', tcp: { port: 80 } }],
      [{ required: true, tcp: { port: 80 }, extra: 1 }],
      'x',
    ]) {
      expect(bad(health)).toMatchObject({ name: 'app' })
      expect(bad(health)?.health).toBeUndefined()
      expect(bad(health)?.loopbackPorts).toBeUndefined()
    }
    expect(bad(undefined)?.health).toBeUndefined()
    // what a stack may declare, however long, is kept
    const long = [
      { required: true, command: ['sh', '-c', 'x'.repeat(5000), ...Array.from({ length: 70 }, (_, i) => `a${i}`)] },
      {
        name: 'n'.repeat(5000),
        required: true,
        http: { port: 80, path: '/', status: 200, scheme: 'http', body: 'b'.repeat(5000) },
      },
    ]
    expect(bad(long)?.health).toEqual(long)
  })
})
