import { mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { acquireLock, takeOverLock, composeDown, composeUp, recordAndPrune, releaseLock, switchCurrent, unpackRelease } from '../../../src/remote/commands.js'

/** ['sh', '-c', script] as execa's (file, args). */
const split = (argv: string[]): [string, string[]] => [argv[0]!, argv.slice(1)]

const v2 = { variant: 'v2' as const, version: '2.26.1', command: ['docker', 'compose'] }
const v1 = { variant: 'v1' as const, version: '1.29.2', command: ['docker-compose'] }

describe('remote command builders', () => {
  it('compose up through v2 and v1, with the release file, its .env and the base directory', () => {
    expect(composeUp({ compose: v2, project: 'ai-platform', baseDir: '/opt/ai-platform', releaseId: '20261123T010203Z-abcdef12' })).toEqual([
      'docker', 'compose', '--project-name', 'ai-platform', '--project-directory', '/opt/ai-platform',
      '--file', '/opt/ai-platform/releases/20261123T010203Z-abcdef12/compose.yaml', '--env-file', '/opt/ai-platform/releases/20261123T010203Z-abcdef12/.env',
      'up', '--detach', '--remove-orphans',
    ])
    expect(composeDown({ compose: v1, project: 'p', baseDir: '/b', releaseId: 'r' })).toEqual(['docker-compose', '--project-name', 'p', '--project-directory', '/b', '--file', '/b/releases/r/compose.yaml', '--env-file', '/b/releases/r/.env', 'down', '--remove-orphans'])
  })

  it('unpacks into a hidden directory and renames it into place', () => {
    expect(unpackRelease('/opt/ai platform', 'r1')).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'umask 022',
        "b='/opt/ai platform'",
        'id=r1',
        'mkdir -p "$b/releases" "$b/files" "$b/data"',
        'tmp="$b/releases/.incoming-$id"',
        `trap 'rm -rf "$tmp"' EXIT`,
        'rm -rf "$tmp" && mkdir -p "$tmp"',
        'tar -x -C "$tmp" -f -',
        'sums="$tmp/release/files.sha256"',
        'intact() { grep -F " files/$1/" "$sums" | (cd "$b" && sha256sum -c -) >/dev/null 2>&1; }',
        'if [ -d "$tmp/files" ]; then for d in "$tmp"/files/*/; do k=$(basename "$d"); if [ -e "$b/files/$k" ] && ! intact "$k"; then mv "$b/files/$k" "$b/files/.damaged-$k-$$" && rm -rf "$b/files/.damaged-$k-$$"; fi; [ -e "$b/files/$k" ] || mv "$d" "$b/files/$k"; done; fi',
        `if [ -s "$sums" ] && ! check=$(cd "$b" && sha256sum -c "$sums" 2>&1); then printf '%s\\n' "$check" | grep -v ': OK$' >&2; echo "the release's config files did not arrive intact" >&2; exit 1; fi`,
        'chmod 600 "$tmp/release/.env"',
        'test ! -e "$b/releases/$id"',
        'mv "$tmp/release" "$b/releases/$id"',
        'rm -rf "$tmp"',
      ].join('\n'),
    ])
  })

  it('switches current with one rename', () => {
    expect(switchCurrent('/opt/ai-platform', 'r2')[2]).toBe('set -eu\numask 022\nb=/opt/ai-platform\nln -sfn releases/r2 "$b/.current.new"\nmv -T "$b/.current.new" "$b/current"')
  })

  it('lock info is carried as one quoted word, whatever it holds', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-lock-'))
    const info = { token: "t'1", user: 'eve; rm -rf /', machine: 'm', pid: 1, command: 'deploy $(x) `y`', since: 's' }
    const run = await execa(...split(acquireLock(base, info, 900)))
    expect(run.stdout).toBe('acquired')
    expect(JSON.parse(await readFile(join(base, '.lock/info.json'), 'utf8'))).toEqual(info)
    await rm(base, { recursive: true })
  })

  it('of many concurrent takers exactly one gets the lock, and every other one sees its holder', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-lock-'))
    const takers = Array.from({ length: 24 }, (_, i) => ({ token: `tok-${i}`, user: 'u', machine: 'm', pid: i, command: 'deploy', since: 's' }))
    const runs = await Promise.all(takers.map((t) => execa(...split(acquireLock(base, t, 900)))))
    const winners = runs.filter((r) => r.stdout === 'acquired')
    expect(winners).toHaveLength(1)
    const holder = takers[runs.indexOf(winners[0]!)]!
    for (const r of runs.filter((x) => x !== winners[0])) {
      expect(r.stdout.split('\n')[0]).toBe('held')
      expect(JSON.parse(r.stdout.split('\n')[1]!)).toEqual(holder)
    }
    expect((await readdir(base)).sort()).toEqual(['.lock'])
    // only the holder's token releases it; a release leaves nothing behind
    await execa(...split(releaseLock(base, 'tok-none')))
    expect(await readdir(base)).toEqual(['.lock'])
    await execa(...split(releaseLock(base, holder.token)))
    expect(await readdir(base)).toEqual([])
    await rm(base, { recursive: true })
  })

  it('a stale lock is taken over by one taker', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-lock-'))
    const old = { token: 'old', user: 'u', machine: 'm', pid: 1, command: 'deploy', since: 's' }
    await execa(...split(acquireLock(base, old, 900)))
    const past = new Date(Date.now() - 3600_000)
    await utimes(join(base, '.lock/info.json'), past, past)
    const runs = await Promise.all([1, 2, 3].map((i) => execa(...split(acquireLock(base, { ...old, token: `new-${i}` }, 900)))))
    // one winner: the breaker ("acquired", "stale AGE"), or a plain taker that came in between
    expect(runs.filter((r) => r.stdout.startsWith('acquired'))).toHaveLength(1)
    expect(runs.filter((r) => r.stdout.startsWith('held'))).toHaveLength(2)
    expect((await readdir(base)).sort()).toEqual(['.lock'])
    await rm(base, { recursive: true })
  })

  it('a dead holder\'s lock is taken over by one taker, and only while it is still that holder\'s', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-lock-'))
    const dead = { token: 'dead', user: 'u', machine: 'm', pid: 1, command: 'deploy', since: 's' }
    await execa(...split(acquireLock(base, dead, 900)))
    const runs = await Promise.all([1, 2, 3, 4].map((i) => execa(...split(takeOverLock(base, { ...dead, token: `new-${i}` }, 'dead')))))
    expect(runs.filter((r) => r.stdout === 'acquired')).toHaveLength(1)
    const holder = JSON.parse(await readFile(join(base, '.lock/info.json'), 'utf8')) as { token: string }
    expect(holder.token).toBe(`new-${runs.findIndex((r) => r.stdout === 'acquired') + 1}`)
    expect((await readdir(base)).sort()).toEqual(['.lock'])
    await rm(base, { recursive: true })
  })

  it('prunes to the newest releases, never the live one', () => {
    const script = recordAndPrune('/b', '{"event":"deployed"}', 3)[2]!
    expect(script).toContain("printf '%s\\n' '{\"event\":\"deployed\"}' >> \"$b/history.jsonl\"")
    expect(script).toContain('tail -n +4')
  })
})
