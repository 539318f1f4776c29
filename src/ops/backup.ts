// `ai-platform backup | backup list | restore`: PostgreSQL dumps made inside the database container,
// kept and rotated on its host, optionally copied to this machine.
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { ConfirmChange } from '../cli/confirm.js'
import type { Project, Service } from '../config/model.js'
import { RemoteError, UserError, errorMessage } from '../errors.js'
import { resolveTargets } from '../plan/plan.js'
import { listBackups, postgresBackup, postgresDatabases, postgresRestore } from '../remote/commands.js'
import { quoted } from '../util/printable.js'
import {
  GLOBALS_FILE,
  databaseOfDump,
  dumpFileName,
  parseBackupFiles,
  parseBackupListing,
  parseDatabaseList,
  type BackupFile,
} from './backup-files.js'
import { connector, type ConnectChoices } from '../remote/connect.js'
import { listProject } from '../deploy/containers.js'

export interface BackupTarget {
  host: string
  service: Service
}

function backupTargets(project: Project, selectors: string[]): BackupTarget[] {
  const hosts = selectors.length > 0 ? resolveTargets(project, { selectors }) : project.hostOrder
  const targets = Object.values(project.services)
    .filter((s) => s.backup)
    .flatMap((service) => service.hosts.filter((h) => hosts.includes(h)).map((host) => ({ host, service })))
  if (targets.length === 0)
    throw new UserError(
      `no service with x-ai-platform.backup runs on ${selectors.length > 0 ? selectors.join(', ') : 'any host'}`,
      'Mark the database service with `backup: { engine: postgres }` in its stack.',
    )
  return targets
}

async function containerFor(
  exec: Awaited<ReturnType<ReturnType<typeof connector>['get']>>,
  project: Project,
  target: BackupTarget,
): Promise<string> {
  const containers = await listProject(exec, project.platform.composeProject)
  const running = containers.find((c) => c.service === target.service.name && c.state === 'running')
  if (!running)
    throw new UserError(`${target.host}: ${target.service.name} is not running, so it cannot be backed up or restored`)
  return running.name
}

export interface BackupResult {
  host: string
  service: string
  id: string
  ok: boolean
  files: BackupFile[]
  downloaded?: string
  error?: string
}

/** Where a file of a backup lands here: always directly inside `dir`, whatever the name (refused otherwise). */
export function downloadPath(dir: string, name: string, host: string): string {
  const path = resolve(dir, name)
  if (dirname(path) !== resolve(dir) || name === '.' || name === '..')
    throw new RemoteError({ host, message: `${host}: refused to write ${quoted(name)} outside ${dir}` })
  return path
}

/** Dumps and rotates on every host with a backup service among the targets: `confirm` is asked first, with those hosts. */
export async function backup(
  project: Project,
  options: { selectors: string[]; download?: string; now?: Date; confirm: ConfirmChange } & ConnectChoices,
): Promise<{ kind: 'ai-platform/backup'; ok: boolean; backups: BackupResult[] }> {
  const targets = backupTargets(project, options.selectors)
  await options.confirm({
    action: `Back up ${targets.map((t) => `${t.service.name} on ${t.host}`).join(', ')} (older backups are rotated out) on`,
    hosts: targets.map((t) => t.host),
  })
  const id = (options.now ?? new Date())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const backups = await Promise.all(
      targets.map(async (target): Promise<BackupResult> => {
        const result: BackupResult = { host: target.host, service: target.service.name, id, ok: false, files: [] }
        try {
          const exec = await connections.get(target.host)
          const container = await containerFor(exec, project, target)
          const { user, keep } = target.service.backup!
          const baseDir = project.hosts[target.host]!.baseDir
          const databases = parseDatabaseList(
            (await exec.run(postgresDatabases(container, user), { timeoutMs: 60_000 })).stdout,
            target.host,
          )
          const dumps = databases.map((database) => ({ database, file: dumpFileName(database) }))
          const out = await exec.run(postgresBackup(baseDir, target.service.name, container, user, id, keep, dumps), {
            timeoutMs: 6 * 3600_000,
          })
          const files = parseBackupFiles(out.stdout, target.host)
          // The listing must name exactly the files this backup wrote.
          const expected = [GLOBALS_FILE, ...dumps.map((d) => d.file)].sort()
          const listed = files.map((f) => f.name).sort()
          if (listed.join('\n') !== expected.join('\n')) {
            const odd = listed.filter((n) => !expected.includes(n))
            throw new RemoteError({
              host: target.host,
              message: `${target.host}: backup ${id} lists ${odd.length > 0 ? `files it did not write (${odd.map((n) => quoted(n)).join(', ')})` : `only ${listed.length} of its ${expected.length} files`}; nothing was copied`,
            })
          }
          result.files = files
          if (options.download) {
            const local = join(options.download, target.host, target.service.name, id)
            await mkdir(local, { recursive: true, mode: 0o700 })
            for (const file of files)
              await exec.download(
                `${baseDir}/backups/${target.service.name}/${id}/${file.name}`,
                downloadPath(local, file.name, target.host),
                { maxBytes: file.bytes },
              )
            result.downloaded = local
          }
          result.ok = true
        } catch (error) {
          result.error = errorMessage(error)
        }
        return result
      }),
    )
    return { kind: 'ai-platform/backup', ok: backups.every((b) => b.ok), backups }
  } finally {
    await connections.closeAll()
  }
}

export async function backupList(project: Project, selectors: string[], options: ConnectChoices = {}) {
  const targets = backupTargets(project, selectors)
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const hosts = await Promise.all(
      targets.map(async (target) => {
        try {
          const exec = await connections.get(target.host)
          const out = await exec.run(listBackups(project.hosts[target.host]!.baseDir, target.service.name))
          const backups = parseBackupListing(out.stdout, target.host)
          return { host: target.host, service: target.service.name, backups }
        } catch (error) {
          return { host: target.host, service: target.service.name, backups: [], error: errorMessage(error) }
        }
      }),
    )
    return { kind: 'ai-platform/backup-list' as const, hosts }
  } finally {
    await connections.closeAll()
  }
}

export async function restore(
  project: Project,
  options: { host: string; from: string; databases: string[] } & ConnectChoices,
) {
  const target = backupTargets(project, [options.host]).find((t) => t.host === options.host)!
  const listing = (await backupList(project, [options.host], options)).hosts.find(
    (h) => h.service === target.service.name,
  )
  const chosen = listing?.backups.find((b) => b.id === options.from)
  if (!chosen)
    throw new UserError(
      `${options.host} has no backup ${options.from} of ${target.service.name}`,
      `Backups: ${listing?.backups.map((b) => b.id).join(', ') || 'none'} (see \`ai-platform backup list ${options.host}\`).`,
    )
  const dumps = new Map(
    chosen.files.flatMap((f) => {
      const database = databaseOfDump(f.name)
      return database === null ? [] : [[database, f.name] as const]
    }),
  )
  const available = [...dumps.keys()]
  const databases = options.databases.length > 0 ? options.databases : available
  const unknown = databases.filter((d) => !dumps.has(d))
  if (unknown.length > 0)
    throw new UserError(
      `backup ${options.from} has no dump of ${unknown.join(', ')}`,
      `It has: ${available.join(', ')}.`,
    )
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const exec = await connections.get(options.host)
    const container = await containerFor(exec, project, target)
    const restored: string[] = []
    for (const database of databases) {
      await exec.run(
        postgresRestore(
          project.hosts[options.host]!.baseDir,
          target.service.name,
          container,
          target.service.backup!.user,
          options.from,
          database,
          dumps.get(database)!,
        ),
        { timeoutMs: 6 * 3600_000 },
      )
      restored.push(database)
    }
    return {
      kind: 'ai-platform/restore' as const,
      host: options.host,
      service: target.service.name,
      from: options.from,
      restored,
    }
  } finally {
    await connections.closeAll()
  }
}
