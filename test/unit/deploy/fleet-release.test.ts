// Fleet releases: what a deploy's report records (only when it changed a host; each host's release
// after the run), the checks on lines read back from a host, the merge of several sources, and the
// remote builders run in a real sh on a temporary base directory.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import type { HostReport } from '../../../src/deploy/engine.js'
import {
  fleetReleaseOf,
  fleetReleasesPath,
  mergeFleetReleases,
  parseFleetReleases,
  type FleetRelease,
} from '../../../src/deploy/fleet-release.js'
import { pickFleetRelease, reverseDependencyOrder } from '../../../src/deploy/fleet-rollback.js'
import { readFleetReleases, recordFleetRelease } from '../../../src/remote/commands.js'
import { loadOk } from '../../helpers/load.js'

const A = '20261201T100000Z-aaaaaaaa'
const B = '20261201T110000Z-bbbbbbbb'
const C = '20261201T090000Z-cccccccc'

const report = (host: string, status: HostReport['status'], extra: Partial<HostReport> = {}): HostReport => ({
  host,
  status,
  durationMs: 1,
  release: null,
  previous: null,
  compose: null,
  services: [],
  steps: [],
  ...extra,
})
const run = { user: 'ops', machine: 'ws', command: 'deploy all --yes', platform: 'lab' }
const hashes = new Map([
  ['erebus', 'h1'],
  ['kratos', 'h2'],
  ['nyx', 'h3'],
  ['moros', 'h4'],
])
const now = new Date('2026-12-01T11:12:05.123Z')

describe('fleet releases', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it("records each host's release after the run: the new one, the unchanged one, the one a failed host went back to", () => {
    const release = fleetReleaseOf(
      [
        report('erebus', 'deployed', { release: A, previous: C }),
        report('kratos', 'unchanged', { release: B, previous: B }),
        report('nyx', 'failed', { release: A, previous: C, rollback: { status: 'done', release: C } }),
        report('moros', 'skipped'),
      ],
      hashes,
      run,
      now,
      '0123abcd',
    )!
    expect(release).toEqual({
      id: 'fleet-20261201T111205Z-0123abcd',
      time: '2026-12-01T11:12:05.123Z',
      ...run,
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      hosts: [
        { host: 'erebus', release: A, status: 'deployed' },
        { host: 'kratos', release: B, status: 'unchanged' },
        { host: 'nyx', release: C, status: 'failed' },
        { host: 'moros', release: null, status: 'skipped' },
      ],
    })
    // a failed host whose rollback failed runs nothing the run can name
    const lost = fleetReleaseOf(
      [
        report('erebus', 'deployed', { release: A }),
        report('nyx', 'failed', { release: A, previous: C, rollback: { status: 'failed', release: C } }),
      ],
      hashes,
      run,
    )!
    expect(lost.hosts[1]).toEqual({ host: 'nyx', release: null, status: 'failed' })
    // failed before its switch (locked, unreachable image...): still on what it ran; never started: the same
    const before = fleetReleaseOf(
      [
        report('erebus', 'deployed', { release: A }),
        report('nyx', 'failed', { release: A, previous: C, rollback: { status: 'none', release: C } }),
        report('moros', 'skipped', { previous: B }),
      ],
      hashes,
      run,
    )!
    expect(before.hosts.slice(1)).toEqual([
      { host: 'nyx', release: C, status: 'failed' },
      { host: 'moros', release: B, status: 'skipped' },
    ])
  })

  it('no host changed, no fleet release: unchanged, or failed and rolled back', () => {
    expect(
      fleetReleaseOf(
        [
          report('erebus', 'unchanged', { release: A }),
          report('nyx', 'failed', { rollback: { status: 'done', release: C } }),
        ],
        hashes,
        run,
      ),
    ).toBeNull()
  })

  it('the digest follows the rendered inputs: same renders, same digest; one host changed, another', () => {
    const reports = [report('erebus', 'deployed', { release: A }), report('kratos', 'unchanged', { release: B })]
    const one = fleetReleaseOf(reports, hashes, run, now, '00000000')!
    const again = fleetReleaseOf(reports, hashes, run, new Date(), 'ffffffff')!
    const other = fleetReleaseOf(reports, new Map([...hashes, ['kratos', 'h9']]), run, now, '00000000')!
    expect(again.digest).toBe(one.digest)
    expect(other.digest).not.toBe(one.digest)
  })

  it('lines read back are checked: what fleetReleaseOf writes passes, anything else is counted and dropped', () => {
    const good = fleetReleaseOf([report('erebus', 'deployed', { release: A })], hashes, run, now, 'aaaaaaaa')!
    const bad = [
      'not json',
      JSON.stringify({ ...good, id: '../../etc' }),
      JSON.stringify({ ...good, hosts: [{ host: 'erebus', release: '../x', status: 'deployed' }] }),
      JSON.stringify({ ...good, hosts: [{ host: 'Erebus;rm', release: A, status: 'deployed' }] }),
      JSON.stringify({ ...good, hosts: [{ host: 'erebus', release: A, status: 'owned' }] }),
      JSON.stringify({ ...good, digest: 'x' }),
      JSON.stringify({ ...good, time: 'yesterday' }),
      JSON.stringify({ ...good, command: 'deploy\n2026-12-01 fake line' }),
      JSON.stringify({ ...good, user: 'ops\u001b[2J' }),
      JSON.stringify([good]),
      'null',
    ]
    // a long command line is cut when recorded, so every reader still takes the record
    const long = fleetReleaseOf([report('erebus', 'deployed', { release: A })], hashes, {
      ...run,
      command: 'x'.repeat(5000),
    })!
    expect(long.command).toHaveLength(1000)
    expect(parseFleetReleases(JSON.stringify(long)).releases).toEqual([long])
    const parsed = parseFleetReleases([JSON.stringify(good), ...bad, ''].join('\n'))
    expect(parsed.releases).toEqual([good])
    expect(parsed.rejected).toBe(bad.length)
  })

  it('merges this machine and the hosts: each id once, oldest first', () => {
    const at = (id: string, time: string): FleetRelease => ({
      id,
      time,
      ...run,
      digest: '0'.repeat(64),
      hosts: [],
    })
    const x = at('fleet-20261201T100000Z-00000001', '2026-12-01T10:00:00.000Z')
    const y = at('fleet-20261201T110000Z-00000002', '2026-12-01T11:00:00.000Z')
    const z = at('fleet-20261201T120000Z-00000003', '2026-12-01T12:00:00.000Z')
    expect(mergeFleetReleases([[y, z], [x, y], [z]]).map((r) => r.id)).toEqual([x.id, y.id, z.id])
  })

  it('lives beside the audit log', () => {
    expect(fleetReleasesPath({ AIP_AUDIT_LOG: '/tmp/x/audit.jsonl' })).toBe('/tmp/x/fleet-releases.jsonl')
    expect(fleetReleasesPath({ XDG_STATE_HOME: '/s', HOME: '/h' })).toBe('/s/ai-platform/fleet-releases.jsonl')
  })

  it("a host's record: appended line by line, read back newest last, nothing when there is none", async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-fleet-releases-'))
    dirs.push(base)
    const read = async (limit: number) => {
      const [file, ...args] = readFleetReleases(base, limit)
      return (await execa(file!, args)).stdout
    }
    expect(await read(5)).toBe('')
    const lines = [0, 1, 2].map((i) =>
      JSON.stringify(fleetReleaseOf([report('erebus', 'deployed', { release: A })], hashes, run, now, `0000000${i}`)),
    )
    // a line with quotes, $ and a newline-free shell-hostile command reaches the file as written
    const hostile = JSON.stringify({ ...JSON.parse(lines[2]!), command: `deploy 'x' "$(reboot)" \`id\`` })
    for (const line of [lines[0]!, lines[1]!, hostile]) {
      const [file, ...args] = recordFleetRelease(base, line)
      await execa(file!, args)
    }
    expect(await readFile(join(base, 'fleet-releases.jsonl'), 'utf8')).toBe(`${lines[0]}\n${lines[1]}\n${hostile}\n`)
    expect(await read(2)).toBe(`${lines[1]}\n${hostile}`)
  })

  it('the builders, exactly', () => {
    expect(recordFleetRelease('/opt/ai-platform', '{"id":"x"}')).toEqual([
      'sh',
      '-c',
      `set -eu\numask 022\nb=/opt/ai-platform\nprintf '%s\\n' '{"id":"x"}' >> "$b/fleet-releases.jsonl"`,
    ])
    expect(readFleetReleases('/opt/ai-platform', 20)).toEqual([
      'sh',
      '-c',
      'set -eu\numask 022\nb=/opt/ai-platform\n[ -f "$b/fleet-releases.jsonl" ] || exit 0\ntail -n 20 "$b/fleet-releases.jsonl"',
    ])
  })
})

describe('rollback --fleet: which fleet release, in which order', () => {
  const at = (n: number): FleetRelease => ({
    id: `fleet-20261201T1${n}0000Z-0000000${n}`,
    time: `2026-12-01T1${n}:00:00.000Z`,
    ...run,
    digest: '0'.repeat(64),
    hosts: [],
  })

  it('the one before the newest by default; a named one; refused when there is none', () => {
    const list = [at(1), at(2), at(3)]
    expect(pickFleetRelease(list, null).id).toBe(at(2).id)
    expect(pickFleetRelease(list, at(1).id).id).toBe(at(1).id)
    expect(() => pickFleetRelease(list, 'fleet-20261201T000000Z-ffffffff')).toThrow(
      'no fleet release fleet-20261201T000000Z-ffffffff',
    )
    expect(() => pickFleetRelease([at(1)], null)).toThrow(`${at(1).id} is the only fleet release`)
    expect(() => pickFleetRelease([], null)).toThrow('no fleet release is recorded, here or on the hosts')
  })

  it('reverse dependency order: a host goes back before the hosts it depends on', async () => {
    const { project } = await loadOk()
    // the reference: moros (Prometheus) requires exporters on every host, so it goes first; erebus
    // (databases) is required by others, so it goes last of those it is asked with
    const order = reverseDependencyOrder(project, ['erebus', 'moros', 'hephaestus', 'thanatos'])
    expect(order[0]).toBe('moros')
    expect(order.indexOf('thanatos')).toBeLessThan(order.indexOf('erebus'))
    expect([...order].sort()).toEqual(['erebus', 'hephaestus', 'moros', 'thanatos'])
  })
})
