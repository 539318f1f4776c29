import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import {
  acquireLock,
  checkReleaseFiles,
  composeConfigHash,
  composeConfigHashes,
  composeDown,
  composeScaleUp,
  composeRemoveServices,
  composeStartServices,
  composeUp,
  forceReleaseLock,
  heartbeatLock,
  listBackups,
  parseRecorded,
  postgresDatabases,
  postgresRestore,
  pruneReleases,
  readHistory,
  readReleases,
  recordHistory,
  releaseLock,
  removeCurrent,
  removeRelease,
  switchCurrent,
  takeOverLock,
  unpackRelease,
} from '../../../src/remote/commands.js'
import { parseHistoryEntries, releasesToPrune } from '../../../src/deploy/history.js'
import { parseConfigHashes, parseFileCheck } from '../../../src/ops/drift.js'
import { envFileFor } from '../../../src/secrets/secrets.js'

/** ['sh', '-c', script] as execa's (file, args). */
const split = (argv: string[]): [string, string[]] => [argv[0]!, argv.slice(1)]

const v2 = { variant: 'v2' as const, version: '2.26.1', command: ['docker', 'compose'] }
const v1 = { variant: 'v1' as const, version: '1.29.2', command: ['docker-compose'] }

describe('remote command builders', () => {
  it("compose up through v2 and v1: the release file, the base directory, secrets from the release's .env in the environment", () => {
    expect(
      composeUp({
        compose: v2,
        project: 'ai-platform',
        baseDir: '/opt/ai-platform',
        releaseId: '20261123T010203Z-abcdef12',
      }),
    ).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'd=/opt/ai-platform/releases/20261123T010203Z-abcdef12',
        `if [ -s "$d/.env" ] && grep -qv "^[A-Za-z_][A-Za-z0-9_]*='" "$d/.env"; then set -- --env-file "$d/.env"; else set -a; [ ! -f "$d/.env" ] || . "$d/.env"; set +a; set --; fi`,
        'exec docker compose --project-name ai-platform --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" up --detach --remove-orphans',
      ].join('\n'),
    ])
    expect(composeDown({ compose: v1, project: 'p', baseDir: '/b b', releaseId: 'r' })[2]!.split('\n').at(-1)).toBe(
      `exec docker-compose --project-name p --project-directory '/b b' --file "$d/compose.yaml" "$@" down --remove-orphans`,
    )
  })

  it('the rolling update builders: the definition digest, and a batch beside the running containers', () => {
    const target = { compose: v2, project: 'p', baseDir: '/opt/ai-platform', releaseId: 'r' }
    expect(composeConfigHash(target, 'agent')[2]!.split('\n').at(-1)).toBe(
      'exec docker compose --project-name p --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" config --hash=agent',
    )
    expect(
      composeScaleUp({ ...target, compose: v1 }, 'agent', 25)[2]!
        .split('\n')
        .at(-1),
    ).toBe(
      'exec docker-compose --project-name p --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" up --detach --no-recreate --scale agent=25 agent',
    )
  })

  it('starts and removes named on-demand services on a release, under the on-demand profile, deps left alone', () => {
    const target = {
      compose: v2,
      project: 'ai-platform',
      baseDir: '/opt/ai-platform',
      releaseId: '20261123T010203Z-abcdef12',
    }
    const start = composeStartServices(target, ['comfyui', 'tempo'])
    expect(start.slice(0, 2)).toEqual(['sh', '-c'])
    expect(start[2]!.split('\n').slice(0, 3)).toEqual(composeUp(target)[2]!.split('\n').slice(0, 3))
    expect(start[2]!.split('\n').at(-1)).toBe(
      'exec docker compose --project-name ai-platform --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" --profile on-demand up --detach --no-deps -- comfyui tempo',
    )
    expect(
      composeRemoveServices({ ...target, compose: v1 }, ['comfyui'])[2]!
        .split('\n')
        .at(-1),
    ).toBe(
      'exec docker-compose --project-name ai-platform --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" --profile on-demand rm --stop --force -- comfyui',
    )
  })

  it('a real sh hands compose every value byte for byte in its environment, and a release of plain NAME=value lines as --env-file', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-compose-'))
    // a stand-in compose that prints its argv and the secrets it was given
    const bin = join(base, 'fake-compose')
    await writeFile(bin, '#!/bin/sh\nprintf "%s\\n" "$@" > "$0.argv"\nprintf "%s" "$PASSWORD" > "$0.password"\n', {
      mode: 0o755,
    })
    const value = ` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~ $HOME \${X} $(id) end `
    const release = join(base, 'releases/r1')
    await mkdir(release, { recursive: true })
    await writeFile(
      join(release, '.env'),
      envFileFor(['PASSWORD'], new Map([['PASSWORD', value]]), { platform: { secrets: {} } } as never, 'h'),
    )
    const target = {
      compose: { variant: 'v2' as const, version: '2', command: [bin] },
      project: 'p',
      baseDir: base,
      releaseId: 'r1',
    }
    await execa(...split(composeUp(target)))
    expect(await readFile(`${bin}.password`, 'utf8')).toBe(value)
    expect(await readFile(`${bin}.argv`, 'utf8')).not.toContain('--env-file')
    // written by an earlier ai-platform: values of safe characters, no quotes
    await mkdir(join(base, 'releases/r0'))
    await writeFile(join(base, 'releases/r0/.env'), 'PASSWORD=~plain:~value\n')
    await execa(...split(composeUp({ ...target, releaseId: 'r0' })))
    expect((await readFile(`${bin}.argv`, 'utf8')).split('\n').slice(6, 8)).toEqual([
      '--env-file',
      `${base}/releases/r0/.env`,
    ])
    expect(await readFile(`${bin}.password`, 'utf8')).toBe('')
    await rm(base, { recursive: true })
  })

  it('a real sh: config --hash=* reaches compose as one unexpanded word, and its answer is read back', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-hashes-'))
    const bin = join(base, 'fake-compose')
    const hash = 'a'.repeat(64)
    await writeFile(bin, `#!/bin/sh\nprintf "%s\\n" "$@" > "$0.argv"\necho "db ${hash}"\n`, { mode: 0o755 })
    await mkdir(join(base, 'releases/r1'), { recursive: true })
    // a file the glob would match if the word went unquoted
    await writeFile(join(base, '--hash=glob'), '')
    const target = {
      compose: { variant: 'v2' as const, version: '2', command: [bin] },
      project: 'p',
      baseDir: base,
      releaseId: 'r1',
    }
    const run = await execa(...split(composeConfigHashes(target)), { cwd: base })
    expect((await readFile(`${bin}.argv`, 'utf8')).split('\n').slice(-3)).toEqual(['config', '--hash=*', ''])
    expect(parseConfigHashes(run.stdout)).toEqual(new Map([['db', hash]]))
    await rm(base, { recursive: true })
  })

  it("a real sh: checkReleaseFiles prints sha256sum's complaints about the current release's files, and nothing when they match or there are no sums", async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-files '))
    const check = async () => {
      const run = await execa(...split(checkReleaseFiles(base)))
      expect(run.exitCode).toBe(0)
      return run.stdout
    }
    // no current release yet, then one without sums
    expect(await check()).toBe('')
    await mkdir(join(base, 'releases/r1'), { recursive: true })
    await symlink('releases/r1', join(base, 'current'))
    expect(await check()).toBe('')
    const key = '0123456789abcdef'
    await mkdir(join(base, 'files', key, 'conf'), { recursive: true })
    const files = { 'conf/a.conf': 'a = 1\n', 'conf/b.conf': 'b = 2\n', 'c.yaml': 'c: 3\n' }
    for (const [path, text] of Object.entries(files)) await writeFile(join(base, 'files', key, path), text)
    const sums = (
      await execa(
        'sha256sum',
        Object.keys(files).map((p) => `files/${key}/${p}`),
        { cwd: base },
      )
    ).stdout
    await writeFile(join(base, 'releases/r1/files.sha256'), `${sums}\n`)
    expect(await check()).toBe('')
    await writeFile(join(base, 'files', key, 'conf/a.conf'), 'a = 2\n')
    await rm(join(base, 'files', key, 'c.yaml'))
    const out = await check()
    expect(out.split('\n')).toEqual([`files/${key}/conf/a.conf: FAILED`, `files/${key}/c.yaml: FAILED open or read`])
    expect(parseFileCheck(out)).toEqual([
      { kind: 'file', detail: 'conf/a.conf was edited on the host' },
      { kind: 'file', detail: 'c.yaml is missing' },
    ])
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
        'chmod 600 "$tmp/release/.env" "$tmp/release/.env.sha256"',
        'test ! -e "$b/releases/$id"',
        'mv "$tmp/release" "$b/releases/$id"',
        'rm -rf "$tmp"',
      ].join('\n'),
    ])
  })

  it('switches current with one rename', () => {
    expect(switchCurrent('/opt/ai-platform', 'r2')[2]).toBe(
      'set -eu\numask 022\nb=/opt/ai-platform\nln -sfn releases/r2 "$b/.current.new"\nmv -T "$b/.current.new" "$b/current"',
    )
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
    const takers = Array.from({ length: 24 }, (_, i) => ({
      token: `tok-${i}`,
      user: 'u',
      machine: 'm',
      pid: i,
      command: 'deploy',
      since: 's',
    }))
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
    const runs = await Promise.all(
      [1, 2, 3].map((i) => execa(...split(acquireLock(base, { ...old, token: `new-${i}` }, 900)))),
    )
    // one winner: the breaker ("acquired", "stale AGE"), or a plain taker that came in between
    expect(runs.filter((r) => r.stdout.startsWith('acquired'))).toHaveLength(1)
    expect(runs.filter((r) => r.stdout.startsWith('held'))).toHaveLength(2)
    expect((await readdir(base)).sort()).toEqual(['.lock'])
    await rm(base, { recursive: true })
  })

  it("a dead holder's lock is taken over by one taker, and only while it is still that holder's", async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-lock-'))
    const dead = { token: 'dead', user: 'u', machine: 'm', pid: 1, command: 'deploy', since: 's' }
    await execa(...split(acquireLock(base, dead, 900)))
    const runs = await Promise.all(
      [1, 2, 3, 4].map((i) => execa(...split(takeOverLock(base, { ...dead, token: `new-${i}` }, 'dead')))),
    )
    expect(runs.filter((r) => r.stdout === 'acquired')).toHaveLength(1)
    const holder = JSON.parse(await readFile(join(base, '.lock/info.json'), 'utf8')) as { token: string }
    expect(holder.token).toBe(`new-${runs.findIndex((r) => r.stdout === 'acquired') + 1}`)
    expect((await readdir(base)).sort()).toEqual(['.lock'])
    await rm(base, { recursive: true })
  })

  it('records a history line, then prunes what releasesToPrune picks: failed releases first, never the live one', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-prune-'))
    const ids = [
      '20261101T000000Z-aaaaaaaa',
      '20261102T000000Z-bbbbbbbb',
      '20261103T000000Z-cccccccc',
      '20261104T000000Z-dddddddd',
    ]
    for (const id of ids) {
      await mkdir(join(base, 'releases', id), { recursive: true })
      await writeFile(join(base, 'releases', id, 'release.json'), `{"files":["files/${id.slice(-8)}00000000/a.conf"]}`)
      await mkdir(join(base, 'files', `${id.slice(-8)}00000000`), { recursive: true })
    }
    await mkdir(join(base, 'files/ffffffffffffffff'))
    await symlink(`releases/${ids[0]}`, join(base, 'current'))
    const line = (event: string, release: string, extra = {}) => JSON.stringify({ event, release, ...extra })
    // the first line names a release long pruned: it is not sent back
    await writeFile(
      join(base, 'history.jsonl'),
      [
        line('deployed', '20261001T000000Z-eeeeeeee'),
        line('deployed', ids[0]!),
        line('rolled-back', ids[1]!, { to: ids[0] }),
        // on-demand services started and stopped: judged by nobody, not sent back
        line('started', ids[0]!, { services: ['comfyui'] }),
        line('stopped', ids[0]!, { services: ['comfyui'] }),
      ].join('\n') + '\n',
    )
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
    expect((await readdir(join(base, 'files'))).sort()).toEqual([
      `${ids[0]!.slice(-8)}00000000`,
      `${ids[3]!.slice(-8)}00000000`,
    ])
    expect((await readFile(join(base, 'history.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(6)
    await rm(base, { recursive: true })
  })

  it('what runs after the lock is taken is read under it, in the same round trip', async () => {
    const base = await mkdtemp(join(tmpdir(), 'aip-lock-'))
    const info = { token: 't1', user: 'u', machine: 'm', pid: 1, command: 'deploy', since: 's' }
    const run = await execa(
      ...split(acquireLock(base, info, 900, 'false; echo "@@facts $(cat "$b/.lock/info.json" | wc -l)"')),
    )
    expect(run.stdout.split('\n')).toEqual(['acquired', '@@facts 1'])
    const held = await execa(...split(acquireLock(base, { ...info, token: 't2' }, 900, 'echo never')))
    expect(held.stdout).not.toContain('never')
    await rm(base, { recursive: true })
  })
})

/** The lines every sh builder on a base directory starts with (here /opt/ai-platform). */
const HEADER = ['set -eu', 'umask 022', 'b=/opt/ai-platform']

const INFO = { token: 'tok-1', user: 'eve', machine: 'ws', pid: 42, command: 'deploy', since: '2026-11-30T01:02:03Z' }
/** The lock's `place` and `breakif` functions, as acquireLock and takeOverLock write them for INFO. */
const PLACE = [
  'place() {',
  '  t="$b/.lock.new-$$"; rm -rf "$t"; mkdir "$t" || return 1',
  String.raw`  printf '%s\n' '{"token":"tok-1","user":"eve","machine":"ws","pid":42,"command":"deploy","since":"2026-11-30T01:02:03Z"}' > "$t/info.json"`,
  '  if mv -T "$t" "$b/.lock" 2>/dev/null; then return 0; fi',
  '  rm -rf "$t"; return 1',
  '}',
]
const BREAK_IF = [
  'breakif() {',
  '  if ! mkdir "$b/.lock.break" 2>/dev/null; then',
  '    if [ $(( $(date +%s) - $(stat -c %Y "$b/.lock.break" 2>/dev/null || date +%s) )) -ge 60 ]; then rm -rf "$b/.lock.break"; fi',
  '    return 1',
  '  fi',
  '  r=1',
  '  if "$@" && mv -T "$b/.lock" "$b/.lock.stale-$$" 2>/dev/null; then rm -rf "$b/.lock.stale-$$"; if place; then r=0; fi; fi',
  '  rmdir "$b/.lock.break"',
  '  return $r',
  '}',
]

describe('remote command builders: the exact text of each', () => {
  it('composeDown', () => {
    expect(composeDown({ compose: v2, project: 'ai-platform', baseDir: '/opt/ai-platform', releaseId: 'r1' })).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'd=/opt/ai-platform/releases/r1',
        String.raw`if [ -s "$d/.env" ] && grep -qv "^[A-Za-z_][A-Za-z0-9_]*='" "$d/.env"; then set -- --env-file "$d/.env"; else set -a; [ ! -f "$d/.env" ] || . "$d/.env"; set +a; set --; fi`,
        'exec docker compose --project-name ai-platform --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" down --remove-orphans',
      ].join('\n'),
    ])
  })

  it('removeRelease: never the live one', () => {
    expect(removeRelease('/opt/ai platform', 'r1')).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'umask 022',
        "b='/opt/ai platform'",
        'id=r1',
        'test "$(readlink "$b/current" 2>/dev/null)" != "releases/$id"',
        'rm -rf "$b/releases/$id"',
      ].join('\n'),
    ])
  })

  it('removeCurrent', () => {
    expect(removeCurrent('/opt/ai-platform')).toEqual(['sh', '-c', [...HEADER, 'rm -f "$b/current"'].join('\n')])
  })

  it('acquireLock, without and with a read under the lock', () => {
    const tail = [
      'if place; then echo acquired; after; exit 0; fi',
      'age=$(lockage)',
      'if stale && breakif stale; then echo acquired; echo "stale $age"; after; exit 0; fi',
      'echo held',
      'cat "$b/.lock/info.json" 2>/dev/null && echo || true',
      'echo "@@age $(lockage)"',
    ]
    const lock = [
      ...HEADER,
      'mkdir -p "$b"',
      String.raw`find "$b" -maxdepth 1 -name '.lock.new-*' -mmin +1 -exec rm -rf {} + 2>/dev/null || true`,
      ...PLACE,
      ...BREAK_IF,
      'lockage() { echo $(( $(date +%s) - $(stat -c %Y "$b/.lock/info.json" 2>/dev/null || stat -c %Y "$b/.lock" 2>/dev/null || date +%s) )); }',
      'stale() { [ "$(lockage)" -ge 900 ]; }',
    ]
    expect(acquireLock('/opt/ai-platform', INFO, 900)).toEqual([
      'sh',
      '-c',
      [...lock, 'after() { :; }', ...tail].join('\n'),
    ])
    expect(acquireLock('/opt/ai-platform', INFO, 900, 'echo x')).toEqual([
      'sh',
      '-c',
      [...lock, 'after() {', 'set +e', 'echo x', '}', ...tail].join('\n'),
    ])
  })

  it("takeOverLock: only while the dead holder's token is in the lock", () => {
    expect(takeOverLock('/opt/ai-platform', INFO, "dead'1")).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        ...PLACE,
        ...BREAK_IF,
        String.raw`dead() { grep -q 'dead'\''1' "$b/.lock/info.json" 2>/dev/null; }`,
        'after() { :; }',
        'if breakif dead; then echo acquired; after; fi',
      ].join('\n'),
    ])
  })

  it('readReleases', () => {
    expect(readReleases('/opt/ai-platform')).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        '[ -d "$b/releases" ] || exit 0',
        String.raw`for id in $(ls -1 "$b/releases" | grep -v '^\.' | sort -r); do echo "@@release $id $(sha256sum "$b/releases/$id/.env" 2>/dev/null | cut -c1-64)"; cat "$b/releases/$id/release.json" 2>/dev/null; echo; done`,
        'echo "@@history"',
        String.raw`ls -1 "$b/releases" 2>/dev/null | grep -v '^\.' | grep -Fs -f - "$b/history.jsonl" | grep -v -e '"event":"started"' -e '"event":"stopped"' | tail -n 2000 || true`,
      ].join('\n'),
    ])
  })

  it('heartbeatLock, releaseLock, forceReleaseLock', () => {
    expect(heartbeatLock('/opt/ai-platform', 'tok-1')).toEqual([
      'sh',
      '-c',
      [...HEADER, 'grep -q tok-1 "$b/.lock/info.json"', 'touch "$b/.lock/info.json"'].join('\n'),
    ])
    expect(releaseLock('/opt/ai-platform', 'tok 1')).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        String.raw`if grep -q 'tok 1' "$b/.lock/info.json" 2>/dev/null && mv -T "$b/.lock" "$b/.lock.gone-$$"; then rm -rf "$b/.lock.gone-$$"; fi`,
      ].join('\n'),
    ])
    expect(forceReleaseLock('/opt/ai-platform')).toEqual([
      'sh',
      '-c',
      [...HEADER, 'if mv -T "$b/.lock" "$b/.lock.gone-$$" 2>/dev/null; then rm -rf "$b/.lock.gone-$$"; fi'].join('\n'),
    ])
  })

  it('recordHistory', () => {
    expect(recordHistory('/opt/ai-platform', '{"event":"deployed","release":"r1"}')).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        String.raw`printf '%s\n' '{"event":"deployed","release":"r1"}' >> "$b/history.jsonl"`,
        'echo "@@live $(readlink "$b/current" 2>/dev/null | sed "s#^releases/##")"',
        String.raw`for id in $(ls -1 "$b/releases" 2>/dev/null | grep -v '^\.'); do echo "@@release $id $(sha256sum "$b/releases/$id/.env" 2>/dev/null | cut -c1-64)"; done`,
        'echo "@@history"',
        String.raw`ls -1 "$b/releases" 2>/dev/null | grep -v '^\.' | grep -Fs -f - "$b/history.jsonl" | grep -v -e '"event":"started"' -e '"event":"stopped"' | tail -n 2000 || true`,
      ].join('\n'),
    ])
  })

  it('pruneReleases', () => {
    expect(pruneReleases('/opt/ai-platform', ['r1', 'r 2'])).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        'live=$(readlink "$b/current" 2>/dev/null | sed "s#^releases/##" || true)',
        String.raw`for r in r1 'r 2'; do [ "$r" = "$live" ] || rm -rf "$b/releases/$r"; done`,
        'cd "$b/files" 2>/dev/null || exit 0',
        'for f in *; do [ -e "$f" ] || continue; grep -qs "files/$f/" "$b"/releases/*/release.json || rm -rf "$f"; done',
      ].join('\n'),
    ])
  })

  it('composeConfigHashes: every service, the glob quoted for the shell', () => {
    expect(
      composeConfigHashes({ compose: v1, project: 'ai-platform', baseDir: '/opt/ai-platform', releaseId: 'r1' }),
    ).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'd=/opt/ai-platform/releases/r1',
        String.raw`if [ -s "$d/.env" ] && grep -qv "^[A-Za-z_][A-Za-z0-9_]*='" "$d/.env"; then set -- --env-file "$d/.env"; else set -a; [ ! -f "$d/.env" ] || . "$d/.env"; set +a; set --; fi`,
        `exec docker-compose --project-name ai-platform --project-directory /opt/ai-platform --file "$d/compose.yaml" "$@" config '--hash=*'`,
      ].join('\n'),
    ])
  })

  it('checkReleaseFiles', () => {
    expect(checkReleaseFiles('/opt/ai-platform')).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        'cd "$b"',
        "[ ! -s current/files.sha256 ] || sha256sum -c current/files.sha256 2>/dev/null | grep -v ': OK$' || true",
        "[ ! -s current/.env.sha256 ] || (cd current && sha256sum -c .env.sha256 2>/dev/null) | grep -v ': OK$' || true",
      ].join('\n'),
    ])
  })

  it('readHistory and postgresDatabases are plain argv', () => {
    expect(readHistory('/opt/ai platform', 20)).toEqual(['tail', '-n', '20', '/opt/ai platform/history.jsonl'])
    expect(postgresDatabases('p-postgres-1', 'postgres')).toEqual([
      'docker',
      'exec',
      'p-postgres-1',
      'psql',
      '-U',
      'postgres',
      '-X',
      '-At',
      '-c',
      "select encode(convert_to(datname, 'UTF8'), 'hex') from pg_database where not datistemplate and datallowconn order by 1",
    ])
  })

  it('listBackups', () => {
    expect(listBackups('/opt/ai-platform', 'post gres')).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        String.raw`d="$b/backups/"'post gres'`,
        '[ -d "$d" ] || exit 0',
        String.raw`for id in $(ls -1 "$d" | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort -r); do echo "@@backup $id"; for f in "$d/$id"/*; do if [ -e "$f" ]; then printf "%s %s\n" "$(wc -c < "$f")" "$(basename "$f")"; fi; done; done`,
      ].join('\n'),
    ])
  })

  it('postgresRestore: the database name as a quoted identifier and a connection string', () => {
    expect(
      postgresRestore(
        '/opt/ai-platform',
        'postgres',
        'p-postgres-1',
        'postgres',
        '20261130T010203Z',
        "it's",
        'its.dump',
      ),
    ).toEqual([
      'sh',
      '-c',
      [
        ...HEADER,
        'f="$b/backups/"postgres/20261130T010203Z/its.dump',
        'test -f "$f"',
        String.raw`docker exec p-postgres-1 psql -U postgres -X -At -c 'select 1 from pg_database where datname = '\''it'\'''\''s'\''' | grep -q 1 || docker exec p-postgres-1 psql -U postgres -X -v ON_ERROR_STOP=1 -q -c 'create database "it'\''s"'`,
        String.raw`docker exec -i p-postgres-1 pg_restore -U postgres --clean --if-exists --no-owner -d 'dbname='\''it\'\''s'\''' < "$f"`,
      ].join('\n'),
    ])
  })
})
