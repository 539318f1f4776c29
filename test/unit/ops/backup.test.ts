// Backups: the names a host's answers may carry, and the backup script run by a real sh. The host's
// `docker` is a stand-in here (a shell script writing what pg_dump would); the fleet test
// (test/integration/ops/backup.test.ts) runs the same script against a real PostgreSQL.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { databaseOfDump, dumpFileName, parseBackupFiles, parseBackupListing, parseDatabaseList } from '../../../src/ops/backup-files.js'
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
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0')), (name) => {
        const file = dumpFileName(name)
        expect(file).toMatch(/^[A-Za-z0-9_%][A-Za-z0-9_%-]*\.dump$/)
        expect(databaseOfDump(file)).toBe(name)
      }),
      { numRuns: 2000, seed: 4 },
    )
  })

  it.each(['globals.sql', 'x.sql', '.dump', '%2e.dump', '%ZZ.dump', 'a%2.dump', '../x.dump', 'x.dump.part'])('%s is no dump file name', (file) => {
    expect(databaseOfDump(file)).toBeNull()
  })
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
    expect(() => parseBackupFiles(stdout, 'erebus')).toThrow(`erebus: the host's backup listing has a line ai-platform did not write (line ${stdout.split('\n').length}: ${shown}); nothing was copied`)
  })

  it('lists backups by id, refusing ids that are not backup ids', () => {
    expect(parseBackupListing('@@backup 20261130T010203Z\n1 globals.sql\n2 x.dump\n@@backup 20261129T010203Z\n', 'erebus')).toEqual([
      { id: '20261130T010203Z', files: [{ name: 'globals.sql', bytes: 1 }, { name: 'x.dump', bytes: 2 }] },
      { id: '20261129T010203Z', files: [] },
    ])
    expect(() => parseBackupListing('@@backup ../../etc\n', 'erebus')).toThrow('erebus: the host\'s list of backups has a line ai-platform did not write (line 1: "@@backup ../../etc")')
    expect(() => parseBackupListing('1 globals.sql\n', 'erebus')).toThrow('line 1')
  })

  it('reads hex-encoded database names, refusing anything else', () => {
    const hex = (s: string) => Buffer.from(s).toString('hex')
    expect(parseDatabaseList(`${hex('litellm')}\n${hex('../../../tmp/x')}\n${hex('a\nb')}\n`, 'erebus')).toEqual(['litellm', '../../../tmp/x', 'a\nb'])
    expect(() => parseDatabaseList('litellm\n', 'erebus')).toThrow('list of databases has a line ai-platform did not write (line 1: "litellm")')
    expect(() => parseDatabaseList(`${hex('x'.repeat(64))}\n`, 'erebus')).toThrow('line 1')
    expect(() => parseDatabaseList('ff\n', 'erebus')).toThrow('line 1') // not UTF-8
    expect(() => parseDatabaseList('', 'erebus')).toThrow('erebus: the database server lists no database to back up')
  })

  it('a downloaded file lands directly inside its directory, or nowhere', () => {
    expect(downloadPath('/tmp/b/erebus/postgres/1', 'litellm.dump', 'erebus')).toBe('/tmp/b/erebus/postgres/1/litellm.dump')
    for (const name of ['../x', '../../../../root/.ssh/authorized_keys', '/etc/passwd', 'a/b', '..', '.']) {
      expect(() => downloadPath('/tmp/b/erebus/postgres/1', name, 'erebus')).toThrow(/^erebus: refused to write ".*" outside \/tmp\/b\/erebus\/postgres\/1$/)
    }
  })

  it('database names reach PostgreSQL as a quoted connection string and a quoted identifier', () => {
    expect(conninfoFor("it's\\x")).toBe("dbname='it\\'s\\\\x'")
    expect(sqlIdentifier('a"b')).toBe('"a""b"')
  })
})

describe('the backup script in a real sh', () => {
  const root = mkdtempSync(join(tmpdir(), 'aip-backup-sh-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  // The host's docker CLI, standing in for `docker exec C pg_dump...`: writes its argv as the dump,
  // and fails for a database named "fails".
  const bin = join(root, 'bin')
  execFileSync('mkdir', ['-p', bin])
  writeFileSync(join(bin, 'docker'), '#!/bin/sh\nfor a in "$@"; do printf "[%s]" "$a"; done\ncase "$*" in *"dbname=\'fails\'"*) echo "pg_dump: error: connection failed" >&2; exit 1;; esac\n')
  chmodSync(join(bin, 'docker'), 0o755)
  const run = (base: string, id: string, databases: string[]) => {
    const argv = postgresBackup(base, 'postgres', 'c1', 'postgres', id, 2, databases.map((database) => ({ database, file: dumpFileName(database) })))
    return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } })
  }

  it('hostile names stay inside the backup, each one word to pg_dump; everything private from the start', () => {
    const base = join(root, 'one')
    const names = ['litellm', '../../../tmp/x', 'with space', '-leading', "it's"]
    const result = spawnSync('sh', ['-c', `umask 022; exec "$@"`, 'sh', ...postgresBackup(base, 'postgres', 'c1', 'postgres', '20261130T010203Z', 2, names.map((database) => ({ database, file: dumpFileName(database) })))], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } })
    expect(result.status, result.stderr).toBe(0)
    const dir = join(base, 'backups', 'postgres', '20261130T010203Z')
    expect(readdirSync(dir).sort()).toEqual(['%2Dleading.dump', '%2E%2E%2F%2E%2E%2F%2E%2E%2Ftmp%2Fx.dump', 'globals.sql', 'it%27s.dump', 'litellm.dump', 'with%20space.dump'])
    expect(readFileSync(join(dir, '%2E%2E%2F%2E%2E%2F%2E%2E%2Ftmp%2Fx.dump'), 'utf8')).toBe("[exec][c1][pg_dump][-U][postgres][-Fc][-d][dbname='../../../tmp/x']")
    expect(readFileSync(join(dir, '%2Dleading.dump'), 'utf8')).toBe("[exec][c1][pg_dump][-U][postgres][-Fc][-d][dbname='-leading']")
    expect(readFileSync(join(dir, 'it%27s.dump'), 'utf8')).toBe("[exec][c1][pg_dump][-U][postgres][-Fc][-d][dbname='it\\'s']")
    for (const path of [join(base, 'backups'), join(base, 'backups', 'postgres'), dir]) expect(statSync(path).mode & 0o777).toBe(0o700)
    for (const file of readdirSync(dir)) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600)
    expect(parseBackupFiles(result.stdout, 'test').map((f) => f.name).sort()).toEqual(readdirSync(dir).sort())
  })

  it('a dump that fails leaves no partial backup behind, and the error on stderr', () => {
    const base = join(root, 'two')
    const result = run(base, '20261130T010203Z', ['litellm', 'fails', 'memory'])
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain('pg_dump: error: connection failed')
    expect(readdirSync(join(base, 'backups', 'postgres'))).toEqual([])
  })

  it('rotation removes only directories named like backups', () => {
    const base = join(root, 'three')
    const d = join(base, 'backups', 'postgres')
    execFileSync('mkdir', ['-p', join(d, '20261101T000000Z'), join(d, '20261102T000000Z'), join(d, 'keep-me'), join(d, '-rf')])
    expect(run(base, '20261130T010203Z', ['litellm']).status).toBe(0)
    expect(readdirSync(d).sort()).toEqual(['-rf', '20261102T000000Z', '20261130T010203Z', 'keep-me'])
  })

  it('the listing of backups: an empty backup and a file ai-platform did not write do not hide the rest', () => {
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

