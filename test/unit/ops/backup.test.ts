// Backups: the names a host's answers may carry, and the scripts' exact text. The fleet test
// (test/integration/ops/backup.test.ts) runs them against a real PostgreSQL: hostile names, modes,
// cleanup after a failed dump, rotation.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  databaseOfDump,
  dumpFileName,
  parseBackupFiles,
  parseBackupListing,
  parseDatabaseList,
} from '../../../src/ops/backup-files.js'
import { downloadPath } from '../../../src/ops/backup.js'
import { conninfoFor, listBackups, postgresBackup, sqlIdentifier } from '../../../src/remote/commands.js'

describe('dump file names', () => {
  it.each([
    ['litellm', 'litellm.dump'],
    ['model_registry', 'model_registry.dump'],
    ['../../../tmp/x', '%2E%2E%2F%2E%2E%2F%2E%2E%2Ftmp%2Fx.dump'],
    ['with space', 'with%20space.dump'],
    ['-leading', '%2Dleading.dump'],
    ['a.b', 'a%2Eb.dump'],
    ['línea\nnueva', 'l%C3%ADnea%0Anueva.dump'],
  ])('%j -> %s, and back', (database, file) => {
    expect(dumpFileName(database)).toBe(file)
    expect(databaseOfDump(file)).toBe(database)
  })

  it('every database name gives one safe file name that decodes back to it', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0')),
        (name) => {
          const file = dumpFileName(name)
          expect(file).toMatch(/^[A-Za-z0-9_%][A-Za-z0-9_%-]*\.dump$/)
          expect(databaseOfDump(file)).toBe(name)
        },
      ),
      { numRuns: 2000, seed: 4 },
    )
  })

  it.each(['globals.sql', 'x.sql', '.dump', '%2e.dump', '%ZZ.dump', 'a%2.dump', '../x.dump', 'x.dump.part'])(
    '%s is no dump file name',
    (file) => {
      expect(databaseOfDump(file)).toBeNull()
    },
  )
})

describe('what a host answers about backups', () => {
  it('reads the listing the backup script prints', () => {
    expect(parseBackupFiles('123 globals.sql\n4567 litellm.dump\n0 with%20space.dump\n', 'erebus')).toEqual([
      { name: 'globals.sql', bytes: 123 },
      { name: 'litellm.dump', bytes: 4567 },
      { name: 'with%20space.dump', bytes: 0 },
    ])
  })

  it.each([
    ['20 ../../../../root/.ssh/authorized_keys', '"20 ../../../../root/.ssh/authorized_keys"'],
    ['20 /etc/passwd', '"20 /etc/passwd"'],
    ['20 .hidden.dump', '"20 .hidden.dump"'],
    ['x globals.sql', '"x globals.sql"'],
    ['99999999999999999999 litellm.dump', '"99999999999999999999 litellm.dump"'],
    ['20 litellm.dump\n20 litellm.dump', '"20 litellm.dump"'],
    ['20 a\u001b]0;pwned\u0007.dump', '"20 a\\x1b]0;pwned\\x07.dump"'],
  ])('refuses %j', (stdout, shown) => {
    expect(() => parseBackupFiles(stdout, 'erebus')).toThrow(
      `erebus: the host's backup listing has a line ai-platform did not write (line ${stdout.split('\n').length}: ${shown}); nothing was copied`,
    )
  })

  it('lists backups by id, refusing ids that are not backup ids', () => {
    expect(
      parseBackupListing('@@backup 20261130T010203Z\n1 globals.sql\n2 x.dump\n@@backup 20261129T010203Z\n', 'erebus'),
    ).toEqual([
      {
        id: '20261130T010203Z',
        files: [
          { name: 'globals.sql', bytes: 1 },
          { name: 'x.dump', bytes: 2 },
        ],
      },
      { id: '20261129T010203Z', files: [] },
    ])
    expect(() => parseBackupListing('@@backup ../../etc\n', 'erebus')).toThrow(
      'erebus: the host\'s list of backups has a line ai-platform did not write (line 1: "@@backup ../../etc")',
    )
    expect(() => parseBackupListing('1 globals.sql\n', 'erebus')).toThrow('line 1')
  })

  it('reads hex-encoded database names, refusing anything else', () => {
    const hex = (s: string) => Buffer.from(s).toString('hex')
    expect(parseDatabaseList(`${hex('litellm')}\n${hex('../../../tmp/x')}\n${hex('a\nb')}\n`, 'erebus')).toEqual([
      'litellm',
      '../../../tmp/x',
      'a\nb',
    ])
    expect(() => parseDatabaseList('litellm\n', 'erebus')).toThrow(
      'list of databases has a line ai-platform did not write (line 1: "litellm")',
    )
    expect(() => parseDatabaseList(`${hex('x'.repeat(64))}\n`, 'erebus')).toThrow('line 1')
    expect(() => parseDatabaseList('ff\n', 'erebus')).toThrow('line 1') // not UTF-8
    expect(() => parseDatabaseList('', 'erebus')).toThrow('erebus: the database server lists no database to back up')
  })

  it('a downloaded file lands directly inside its directory, or nowhere', () => {
    expect(downloadPath('/tmp/b/erebus/postgres/1', 'litellm.dump', 'erebus')).toBe(
      '/tmp/b/erebus/postgres/1/litellm.dump',
    )
    for (const name of ['../x', '../../../../root/.ssh/authorized_keys', '/etc/passwd', 'a/b', '..', '.']) {
      expect(() => downloadPath('/tmp/b/erebus/postgres/1', name, 'erebus')).toThrow(
        /^erebus: refused to write ".*" outside \/tmp\/b\/erebus\/postgres\/1$/,
      )
    }
  })

  it('database names reach PostgreSQL as a quoted connection string and a quoted identifier', () => {
    expect(conninfoFor("it's\\x")).toBe("dbname='it\\'s\\\\x'")
    expect(sqlIdentifier('a"b')).toBe('"a""b"')
  })
})

describe('the backup scripts', () => {
  const root = mkdtempSync(join(tmpdir(), 'aip-backup-sh-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('the dump script, word for word: private from the start, one quoted connection string per database, cleanup on any exit', () => {
    const dumps = ['litellm', '../../../tmp/x', "it's"].map((database) => ({ database, file: dumpFileName(database) }))
    expect(
      postgresBackup('/opt/ai platform', 'postgres', 'p-postgres-1', 'postgres', '20261130T010203Z', 2, dumps),
    ).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'umask 077',
        "b='/opt/ai platform'",
        's=postgres',
        'c=p-postgres-1',
        'u=postgres',
        'id=20261130T010203Z',
        'd="$b/backups/$s"',
        't="$d/.incoming-$id-$$"',
        'mkdir -p "$d" && chmod 700 "$b/backups" "$d"',
        'trap \'rm -rf "$t"\' EXIT',
        "trap 'exit 1' HUP INT TERM PIPE",
        'rm -rf "$t" && mkdir "$t"',
        'docker exec "$c" pg_dumpall -U "$u" --globals-only > "$t/globals.sql"',
        "docker exec \"$c\" pg_dump -U \"$u\" -Fc -d 'dbname='\\''litellm'\\''' > \"$t\"/litellm.dump",
        "docker exec \"$c\" pg_dump -U \"$u\" -Fc -d 'dbname='\\''../../../tmp/x'\\''' > \"$t\"/%2E%2E%2F%2E%2E%2F%2E%2E%2Ftmp%2Fx.dump",
        "docker exec \"$c\" pg_dump -U \"$u\" -Fc -d 'dbname='\\''it\\'\\''s'\\''' > \"$t\"/it%27s.dump",
        'if ! mv -T "$t" "$d/$id" 2>/dev/null; then echo "a backup $id already exists" >&2; exit 1; fi',
        'trap - EXIT',
        'ls -1 "$d" | grep -E \'^[0-9]{8}T[0-9]{6}Z$\' | sort -r | tail -n +3 | while read -r old; do rm -rf "$d/$old"; done',
        'cd "$d/$id" && for f in *; do printf "%s %s\\n" "$(wc -c < "$f")" "$f"; done',
      ].join('\n'),
    ])
  })

  it('the listing, run by a real sh: an empty backup and a file ai-platform did not write do not hide the rest', () => {
    const base = join(root, 'four')
    const d = join(base, 'backups', 'postgres')
    execFileSync('mkdir', ['-p', join(d, '20261101T000000Z'), join(d, '20261102T000000Z')])
    writeFileSync(join(d, '20261102T000000Z', 'litellm.dump'), 'x')
    writeFileSync(join(d, '20261102T000000Z', 'README'), 'notes')
    const argv = listBackups(base, 'postgres')
    const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' })
    expect(result.status, result.stderr).toBe(0)
    expect(parseBackupListing(result.stdout, 'test')).toEqual([
      { id: '20261102T000000Z', files: [{ name: 'litellm.dump', bytes: 1 }] },
      { id: '20261101T000000Z', files: [] },
    ])
  })
})
