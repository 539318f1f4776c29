// backup, backup list and restore against a real PostgreSQL 15 (Debian's packages made into the local
// image aip/postgres:15 by test/fleet/images/postgres/build.sh), deployed on erebus with the catalog's
// own postgres and postgres-init definitions: command, pg_hba.conf, init SQL and health check.
import { execFile } from 'node:child_process'
import { access, chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { REPO } from '../../helpers/project.js'
import {
  HAVE_FLEET,
  hostState,
  resetFleet,
  serviceContainer,
  testPlatform,
  type TestPlatform,
} from '../helpers/platform.js'
import { dumpFileName } from '../../../src/ops/backup-files.js'
import { postgresBackup } from '../../../src/remote/commands.js'
import { SshPool } from '../../../src/remote/ssh.js'
import { fleetTarget } from '../fleet/helpers.js'

const run = promisify(execFile)
const IMAGE = 'aip/postgres:15'
let platform: TestPlatform
let password: string

const psql = (sql: string, database = 'litellm') =>
  platform.cli([
    'exec',
    'erebus',
    '--service',
    'postgres',
    '--',
    'psql',
    '-U',
    'postgres',
    '-d',
    database,
    '-At',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    sql,
  ])

describe.skipIf(!HAVE_FLEET)('backup and restore on a real PostgreSQL', () => {
  beforeAll(async () => {
    platform = await testPlatform({
      realImages: { postgres: IMAGE, 'postgres-init': IMAGE },
      mutate: (name, def) => {
        if (name === 'postgres') def['x-ai-platform'].backup.keep = 2
      },
    })
    // a fresh database directory: what earlier runs left must not decide the outcome
    await resetFleet(platform.fleet, 'ai-platform', ['erebus'])
    const erebus = fleetHost(platform.fleet, 'erebus')
    const built = await run('bash', [join(REPO, 'test/fleet/images/postgres/build.sh'), erebus.outside.dockerSocket], {
      maxBuffer: 16 * 1024 * 1024,
    })
    await run('docker', [
      '-H',
      `unix://${erebus.outside.dockerSocket}`,
      'load',
      '-q',
      '-i',
      join(built.stdout.trim(), 'postgres.tar'),
    ])
    password = (await import('node:fs'))
      .readFileSync(join(platform.dir, 'secrets.env'), 'utf8')
      .match(/^POSTGRES_PASSWORD=(.*)$/m)![1]!
  }, 900_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it("the catalog's postgres and postgres-init run for real: healthy, and the platform's databases created", async () => {
    const deploy = await platform.cli([
      'deploy',
      'erebus',
      '--yes',
      '--json',
      '--pull',
      'never',
      '--health-timeout',
      '240',
    ])
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0)
    const state = await hostState(fleetHost(platform.fleet, 'erebus'))
    expect(state.containers.find((c) => c.service === 'postgres')).toMatchObject({
      state: 'running',
      health: 'healthy',
    })
    expect(state.containers.find((c) => c.service === 'postgres-init')).toMatchObject({ state: 'exited' })
    const databases = await psql('select datname from pg_database where not datistemplate order by 1', 'postgres')
    expect(databases.code, databases.stderr).toBe(0)
    expect(databases.stdout.split('\n')).toEqual(
      expect.arrayContaining(['litellm', 'memory', 'model_registry', 'service_registry', 'postgres']),
    )
    const role = await psql("select rolreplication from pg_roles where rolname = 'replicator'", 'postgres')
    expect(role.stdout.trim()).toBe('t')
  }, 600_000)

  it('backup dumps every database on the host, downloads it, and rotates to keep the newest', async () => {
    expect(
      (
        await psql(
          "create table notes (id int primary key, body text); insert into notes values (1, 'kept'), (2, 'also kept')",
        )
      ).code,
    ).toBe(0)
    const download = await mkdtemp(join(tmpdir(), 'aip-backups-'))
    const first = await platform.cli(['backup', 'erebus', '--json', '--download', download])
    expect(first.code, first.stderr).toBe(0)
    const made = first.json.backups[0]
    expect(made).toMatchObject({ host: 'erebus', service: 'postgres', ok: true })
    const names = made.files.map((f: any) => f.name)
    expect(names).toEqual(expect.arrayContaining(['globals.sql', 'litellm.dump', 'memory.dump', 'postgres.dump']))
    for (const f of made.files) expect(f.bytes).toBeGreaterThan(0)
    // the copy on this machine: the same files, readable by their owner only
    const local = join(download, 'erebus', 'postgres', made.id)
    expect((await readdir(local)).sort()).toEqual([...names].sort())
    expect((await stat(join(local, 'litellm.dump'))).mode & 0o077).toBe(0)
    expect(first.stdout + first.stderr).not.toContain(password)
    await rm(download, { recursive: true })

    // keep: 2 -> after two more backups (a second apart: ids are per second), the first is gone
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1100))
      const next = await platform.cli(['backup', 'erebus', '--json'])
      expect(next.code, next.stderr).toBe(0)
    }
    const list = await platform.cli(['backup', 'list', 'erebus', '--json'])
    expect(list.code, list.stderr).toBe(0)
    const ids = list.json.hosts[0].backups.map((b: any) => b.id)
    expect(ids).toHaveLength(2)
    expect(ids).not.toContain(made.id)
    ;(globalThis as any).backupId = ids[1]
  }, 300_000)

  it('restore brings a database back to the backup, after confirmation', async () => {
    const id = (globalThis as any).backupId as string
    expect((await psql("delete from notes where id = 1; insert into notes values (3, 'after the backup')")).code).toBe(
      0,
    )
    const refused = await platform.cli(['restore', 'erebus', '--from', id, '--database', 'litellm'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/confirm|--yes/)
    expect((await psql('select count(*) from notes')).stdout.trim()).toBe('2')

    const restored = await platform.cli(['restore', 'erebus', '--from', id, '--database', 'litellm', '--yes', '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(restored.json).toMatchObject({ host: 'erebus', service: 'postgres', from: id, restored: ['litellm'] })
    expect((await psql('select id, body from notes order by id')).stdout.trim()).toBe('1|kept\n2|also kept')
  }, 300_000)

  it('a database dropped since the backup is created again; unknown backups and databases are clear errors', async () => {
    const id = (globalThis as any).backupId as string
    expect((await psql('drop database memory with (force)', 'postgres')).code).toBe(0)
    const restored = await platform.cli(['restore', 'erebus', '--from', id, '--database', 'memory', '--yes', '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    expect((await psql("select 1 from pg_database where datname = 'memory'", 'postgres')).stdout.trim()).toBe('1')

    const missing = await platform.cli(['restore', 'erebus', '--from', '19990101T000000Z', '--yes'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain(`error: erebus has no backup 19990101T000000Z of postgres\nhint: Backups: `)
    const unknown = await platform.cli(['restore', 'erebus', '--from', id, '--database', 'nope', '--yes'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain(`error: backup ${id} has no dump of nope`)
  }, 300_000)

  it('databases named "../../../tmp/x", "with space" and "-leading" are backed up inside the backup, privately, and restored', async () => {
    const names = ['../../../tmp/x', 'with space', '-leading', "it's"]
    for (const name of names) expect((await psql(`create database "${name}"`, 'postgres')).code, name).toBe(0)
    expect((await psql("create table t (v text); insert into t values ('in the leading one')", '-leading')).code).toBe(
      0,
    )
    try {
      const made = await platform.cli(['backup', 'erebus', '--json'])
      expect(made.code, made.stdout + made.stderr).toBe(0)
      const files: string[] = made.json.backups[0].files.map((f: any) => f.name)
      expect(files).toEqual(
        expect.arrayContaining([
          '%2E%2E%2F%2E%2E%2F%2E%2E%2Ftmp%2Fx.dump',
          'with%20space.dump',
          '%2Dleading.dump',
          'it%27s.dump',
          'litellm.dump',
          'globals.sql',
        ]),
      )
      // on the host: every file inside the backup directory, directories 0700 and files 0600
      const erebus = fleetHost(platform.fleet, 'erebus')
      const dir = join(erebus.outside.baseDir, 'backups', 'postgres', made.json.backups[0].id)
      expect((await readdir(dir)).sort()).toEqual([...files].sort())
      for (const path of [
        join(erebus.outside.baseDir, 'backups'),
        join(erebus.outside.baseDir, 'backups', 'postgres'),
        dir,
      ])
        expect((await stat(path)).mode & 0o777).toBe(0o700)
      for (const file of files) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600)
      expect(
        (await readdir(join(erebus.outside.baseDir, 'backups', 'postgres'))).filter((n) => n.startsWith('.')),
      ).toEqual([])
      expect((await psql('drop table t', '-leading')).code).toBe(0)
      const restored = await platform.cli([
        'restore',
        'erebus',
        '--from',
        made.json.backups[0].id,
        '--database',
        '-leading',
        '--yes',
        '--json',
      ])
      expect(restored.code, restored.stdout + restored.stderr).toBe(0)
      expect((await psql('select v from t', '-leading')).stdout.trim()).toBe('in the leading one')
    } finally {
      for (const name of names) await psql(`drop database if exists "${name}" with (force)`, 'postgres')
    }
  }, 300_000)

  it('a host answering a hostile file name ("../../../../../tmp/...") gets nothing written here, and the backup fails', async () => {
    // The host is compromised: its `sh` prints a listing of its own for the backup script.
    const erebus = fleetHost(platform.fleet, 'erebus')
    const download = await mkdtemp(join(tmpdir(), 'aip-backups-'))
    const planted = join(tmpdir(), `aip-planted-${process.pid}`)
    const local = join(download, 'erebus', 'postgres', 'x')
    const name = relative(local, planted) // as deep on the host, under BASE/backups/postgres/ID
    const hostile = join(erebus.outside.usrLocal, 'bin', 'sh')
    await mkdir(join(erebus.outside.usrLocal, 'bin'), { recursive: true })
    await writeFile(
      hostile,
      `#!/bin/sh\ncase "$2" in *pg_dumpall*)\n  id=$(printf '%s\\n' "$2" | sed -n 's/^id=//p')\n  mkdir -p "/opt/ai-platform/backups/postgres/$id"\n  printf 'planted by a hostile host\\n' > /tmp/${planted.split('/').pop()}\n  echo "26 ${name}"\n  exit 0;;\nesac\nexec /bin/sh "$@"\n`,
    )
    await chmod(hostile, 0o755)
    try {
      const run = await platform.cli(['backup', 'erebus', '--json', '--download', download])
      expect(run.code).toBe(1)
      expect(run.json.backups[0].ok).toBe(false)
      expect(run.json.backups[0].error).toBe(
        `erebus: the host's backup listing has a line ai-platform did not write (line 1: "26 ${name}"); nothing was copied`,
      )
      await expect(access(planted)).rejects.toThrow()
      expect(await readdir(download)).toEqual([])
    } finally {
      await rm(hostile, { force: true })
      await rm(download, { recursive: true, force: true })
      await rm(planted, { force: true })
    }
  }, 300_000)

  it('a dump that fails (a database gone since the listing) leaves nothing behind on the host; rotation touches only backups', async () => {
    const erebus = fleetHost(platform.fleet, 'erebus')
    const dir = join(erebus.outside.baseDir, 'backups', 'postgres')
    const pool = new SshPool({ attempts: 1 })
    try {
      const connection = await pool.connect(fleetTarget(platform.fleet, erebus))
      const { name: container } = await serviceContainer(erebus, 'postgres')
      const before = (await readdir(dir)).sort()
      const dumps = ['litellm', 'gone-since'].map((database) => ({ database, file: dumpFileName(database) }))
      const failed = await connection.run(
        postgresBackup('/opt/ai-platform', 'postgres', container, 'postgres', '20261130T000000Z', 2, dumps),
        { check: false },
      )
      expect(failed.code).not.toBe(0)
      expect(failed.stderr).toContain('database "gone-since" does not exist')
      expect((await readdir(dir)).sort()).toEqual(before)
    } finally {
      await pool.closeAll()
    }
    // directories that are not backups survive rotation (keep: 2)
    await mkdir(join(dir, 'keep-me'))
    await mkdir(join(dir, '-rf'))
    try {
      for (let i = 0; i < 2; i++) {
        await new Promise((r) => setTimeout(r, 1100))
        expect((await platform.cli(['backup', 'erebus', '--json'])).code).toBe(0)
      }
      const left = await readdir(dir)
      expect(left).toEqual(expect.arrayContaining(['keep-me', '-rf']))
      expect(left.filter((n) => /^\d{8}T\d{6}Z$/.test(n))).toHaveLength(2)
    } finally {
      await rm(join(dir, 'keep-me'), { recursive: true, force: true })
      await rm(join(dir, '-rf'), { recursive: true, force: true })
    }
  }, 300_000)
})
