// What a backup's files are called, and the parsers of what hosts print about them. A host's answer
// decides which files this machine downloads and restores, so every name is held to the one pattern
// ai-platform itself writes, and anything else is refused (never "fixed"): a name like
// `../../.ssh/authorized_keys` must not become a path here.
import { RemoteError } from '../errors.js'
import { quoted } from '../util/printable.js'

export const GLOBALS_FILE = 'globals.sql'
/** A dump's name as dumpFileName() writes it (round trip checked by databaseOfDump). */
const DUMP_FILE = /^(?:[a-z0-9_-]|%[0-9A-F]{2})+\.dump$/
/** A backup's id: its UTC second (backup() makes it). */
const BACKUP_ID = /^\d{8}T\d{6}Z$/
/** Lower case only: on a case-insensitive disk (macOS) `App.dump` and `app.dump` would be one file. */
const PLAIN_NAME = /^[a-z0-9_][a-z0-9_-]*$/
/** PostgreSQL's NAMEDATALEN - 1: a longer name cannot exist. */
const MAX_NAME_BYTES = 63

/**
 * The dump file of a database: `<name>.dump` for plain names, every other byte written as %XX: a name
 * holding `/`, `..`, a leading `-`, spaces or newlines still gives one safe file name, and decodes back.
 */
export function dumpFileName(database: string): string {
  if (PLAIN_NAME.test(database)) return `${database}.dump`
  let out = ''
  for (const byte of Buffer.from(database, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out +=
      /[a-z0-9_-]/.test(ch) && !(out === '' && ch === '-') ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return `${out}.dump`
}

/** The database a dump file holds, or null for a name dumpFileName cannot have written. */
export function databaseOfDump(file: string): string | null {
  if (!DUMP_FILE.test(file)) return null
  const stem = file.slice(0, -'.dump'.length)
  const bytes = Buffer.from(
    stem.replace(/%([0-9A-F]{2})|(.)/g, (_m, hex: string | undefined, ch: string | undefined) =>
      hex ? String.fromCharCode(parseInt(hex, 16)) : ch!,
    ),
    'latin1',
  )
  const name = new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  return dumpFileName(name) === file ? name : null
}

export interface BackupFile {
  name: string
  bytes: number
}

function refuse(host: string, what: string, line: string, index: number): RemoteError {
  return new RemoteError({
    host,
    message: `${host}: the host's ${what} has a line ai-platform did not write (line ${index + 1}: ${quoted(line)}); nothing was copied`,
  })
}

/** A `<bytes> <file>` line, or null; `written` when the name is one the backup step writes. */
function fileLine(line: string): (BackupFile & { written: boolean }) | null {
  const match = /^(\d{1,15}) (.+)$/.exec(line)
  if (!match) return null
  const name = match[2]!
  return { name, bytes: Number(match[1]), written: name === GLOBALS_FILE || databaseOfDump(name) !== null }
}

/** `<bytes> <file>` lines, as the backup script prints them; any other line is refused. */
export function parseBackupFiles(stdout: string, host: string): BackupFile[] {
  const files: BackupFile[] = []
  stdout.split('\n').forEach((line, index) => {
    if (line === '') return
    const file = fileLine(line)
    if (!file?.written || files.some((f) => f.name === file.name)) throw refuse(host, 'backup listing', line, index)
    files.push({ name: file.name, bytes: file.bytes })
  })
  return files
}

/**
 * `@@backup <id>` headers, each followed by its files. A file ai-platform would not have written (an
 * operator's README, an old dump's name) is left out: it is never downloaded or restored, and does not
 * hide the backup's other files.
 */
export function parseBackupListing(stdout: string, host: string): { id: string; files: BackupFile[] }[] {
  const backups: { id: string; files: BackupFile[] }[] = []
  stdout.split('\n').forEach((line, index) => {
    if (line === '') return
    if (line.startsWith('@@backup ')) {
      const id = line.slice('@@backup '.length)
      if (!BACKUP_ID.test(id)) throw refuse(host, 'list of backups', line, index)
      backups.push({ id, files: [] })
      return
    }
    const current = backups.at(-1)
    if (!current) throw refuse(host, 'list of backups', line, index)
    const file = fileLine(line)
    if (!file) throw refuse(host, 'list of backups', line, index)
    if (file.written && !current.files.some((f) => f.name === file.name))
      current.files.push({ name: file.name, bytes: file.bytes })
  })
  return backups
}

/** postgresDatabases(): one hex-encoded UTF-8 name per line. */
export function parseDatabaseList(stdout: string, host: string): string[] {
  const names: string[] = []
  stdout.split('\n').forEach((line, index) => {
    if (line === '') return
    if (!/^(?:[0-9a-f]{2})+$/.test(line) || line.length > MAX_NAME_BYTES * 2)
      throw refuse(host, 'list of databases', line, index)
    const bytes = Buffer.from(line, 'hex')
    let name: string
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      throw refuse(host, 'list of databases', line, index)
    }
    if (name.includes('\0') || names.includes(name)) throw refuse(host, 'list of databases', line, index)
    names.push(name)
  })
  if (names.length === 0)
    throw new RemoteError({ host, message: `${host}: the database server lists no database to back up` })
  return names
}
