import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { acquireLock, takeOverLock, composeDown, composeUp, parseRecorded, pruneReleases, recordHistory, releaseLock, switchCurrent, unpackRelease } from '../../../src/remote/commands.js'
import { parseHistoryEntries, releasesToPrune } from '../../../src/deploy/history.js'
import { envFileFor } from '../../../src/secrets/secrets.js'

/** ['sh', '-c', script] as execa's (file, args). */
const split = (argv: string[]): [string, string[]] => [argv[0]!, argv.slice(1)]

const v2 = { variant: 'v2' as const, version: '2.26.1', command: ['docker', 'compose'] }
const v1 = { variant: 'v1' as const, version: '1.29.2', command: ['docker-compose'] }

describe('remote command builders', () => {
  it('compose up through v2 and v1: the release file, the base directory, secrets from the release\'s .env in the environment', () => {
    expect(composeUp({ compose: v2, project: 'ai-platform', baseDir: '/opt/ai-platform', releaseId: '20261123T010203Z-abcdef12' })).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'd=/opt/ai-platform/releases/20261123T010203Z-abcdef12',
        `if [ -s "$d/.env" ] && grep -qv "^[A-Za-z_][A-Za-z0-9_]*='" "$d/.env"; then set -- --env-file "$d/.env"; else set -a; [ ! -f "$d/.env" ] || . "$d/.env"; set +a; set --; fi`,
        'exec docker compose --project-name ai-platform --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" up --detach --remove-orphans',
      ].join('\n'),
    ])
    expect(composeDown({ compose: v1, project: 'p', baseDir: '/b b', releaseId: 'r' })[2]!.split('\n').at(-1)).toBe(`exec docker-compose --project-name p --project-directory '/b b' --file "$d/compose.yaml" "$@" down --remove-orphans`)
  })

  it('a real sh hands compose every value byte for byte in its environment, and a release of plain NAME=value lines as --env-file', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-compose-'))
    // a stand-in compose that prints its argv and the secrets it was given
    const bin = join(base, 'fake-compose')
    await writeFile(bin, '#!/bin/sh\nprintf "%s\\n" "$@" > "$0.argv"\nprintf "%s" "$PASSWORD" > "$0.password"\n', { mode: 0o755 })
    const value = ` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~ $HOME \${X} $(id) end `
    const release = join(base, 'releases/r1')
    await mkdir(release, { recursive: true })
    await writeFile(join(release, '.env'), envFileFor(['PASSWORD'], new Map([['PASSWORD', value]]), { platform: { secrets: {} } } as never, 'h'))
    const target = { compose: { variant: 'v2' as const, version: '2', command: [bin] }, project: 'p', baseDir: base, releaseId: 'r1' }
    await execa(...split(composeUp(target)))
    expect(await readFile(`${bin}.password`, 'utf8')).toBe(value)
    expect(await readFile(`${bin}.argv`, 'utf8')).not.toContain('--env-file')
    // written by an earlier ai-platform: values of safe characters, no quotes
    await mkdir(join(base, 'releases/r0'))
    await writeFile(join(base, 'releases/r0/.env'), 'PASSWORD=~plain:~value\n')
    await execa(...split(composeUp({ ...target, releaseId: 'r0' })))
    expect((await readFile(`${bin}.argv`, 'utf8')).split('\n').slice(6, 8)).toEqual(['--env-file', `${base}/releases/r0/.env`])
    expect(await readFile(`${bin}.password`, 'utf8')).toBe('')
    await rm(base, { recursive: true })
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

  it('records a history line, then prunes what releasesToPrune picks: failed releases first, never the live one', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-prune-'))
    const ids = ['20261101T000000Z-aaaaaaaa', '20261102T000000Z-bbbbbbbb', '20261103T000000Z-cccccccc', '20261104T000000Z-dddddddd']
    for (const id of ids) {
      await mkdir(join(base, 'releases', id), { recursive: true })
      await writeFile(join(base, 'releases', id, 'release.json'), `{"files":["files/${id.slice(-8)}00000000/a.conf"]}`)
      await mkdir(join(base, 'files', `${id.slice(-8)}00000000`), { recursive: true })
    }
    await mkdir(join(base, 'files/ffffffffffffffff'))
    await symlink(`releases/${ids[0]}`, join(base, 'current'))
    const line = (event: string, release: string, extra = {}) => JSON.stringify({ event, release, ...extra })
    // the first line names a release long pruned: it is not sent back
    await writeFile(join(base, 'history.jsonl'), [line('deployed', '20261001T000000Z-eeeeeeee'), line('deployed', ids[0]!), line('rolled-back', ids[1]!, { to: ids[0] })].join('\n') + '\n')
    const recorded = parseRecorded((await execa(...split(recordHistory(base, line('failed', ids[2]!))))).stdout)
    expect(recorded.live).toBe(ids[0])
    expect(recorded.releases.map((r) => r.id).sort()).toEqual(ids)
    expect(parseHistoryEntries(recorded.history).map((h) => h.release)).toEqual([ids[0], ids[1], ids[2]])
    expect(recorded.releases.every((r) => r.env === null)).toBe(true)
    const prune = releasesToPrune(recorded.releases, recorded.live, parseHistoryEntries(recorded.history), 2)
    // kept: the live one and the unknown newest; the two failed ones go
    expect(prune.sort()).toEqual([ids[1], ids[2]])
    await execa(...split(pruneReleases(base, [...prune, ids[0]!])))
    expect((await readdir(join(base, 'releases'))).sort()).toEqual([ids[0], ids[3]])
    expect((await readdir(join(base, 'files'))).sort()).toEqual([`${ids[0]!.slice(-8)}00000000`, `${ids[3]!.slice(-8)}00000000`])
    expect((await readFile(join(base, 'history.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(4)
    await rm(base, { recursive: true })
  })

  it('what runs after the lock is taken is read under it, in the same round trip', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-lock-'))
    const info = { token: 't1', user: 'u', machine: 'm', pid: 1, command: 'deploy', since: 's' }
    const run = await execa(...split(acquireLock(base, info, 900, 'false; echo "@@facts $(cat "$b/.lock/info.json" | wc -l)"')))
    expect(run.stdout.split('\n')).toEqual(['acquired', '@@facts 1'])
    const held = await execa(...split(acquireLock(base, { ...info, token: 't2' }, 900, 'echo never')))
    expect(held.stdout).not.toContain('never')
    await rm(base, { recursive: true })
  })
})
