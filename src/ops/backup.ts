// `ai-platform backup | backup list | restore`: PostgreSQL dumps made inside the database container,
// kept and rotated on its host, optionally copied to this machine.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Project, Service } from '../config/model.js'
import { UserError, errorMessage } from '../errors.js'
import { resolveTargets } from '../plan/plan.js'
import { listBackups, postgresBackup, postgresRestore } from '../remote/commands.js'
import { connector } from '../remote/connect.js'
import { projectContainers } from '../deploy/containers.js'

export interface BackupTarget {
  host: string
  service: Service
}

export function backupTargets(project: Project, selectors: string[]): BackupTarget[] {
  const hosts = selectors.length > 0 ? resolveTargets(project, { selectors }) : project.hostOrder
  const targets = Object.values(project.services)
    .filter((s) => s.backup)
    .flatMap((service) => service.hosts.filter((h) => hosts.includes(h)).map((host) => ({ host, service })))
  if (targets.length === 0) throw new UserError(`no service with x-ai-platform.backup runs on ${selectors.length > 0 ? selectors.join(', ') : 'any host'}`, 'Mark the database service with `backup: { engine: postgres }` in its stack.')
  return targets
}

async function containerFor(exec: Awaited<ReturnType<ReturnType<typeof connector>['get']>>, project: Project, target: BackupTarget): Promise<string> {
  const containers = await projectContainers(exec.docker(), project.platform.composeProject)
  const running = containers.find((c) => c.service === target.service.name && c.state === 'running')
  if (!running) throw new UserError(`${target.host}: ${target.service.name} is not running, so it cannot be backed up or restored`)
  return running.name
}

export interface BackupResult {
  host: string
  service: string
  id: string
  ok: boolean
  files: { name: string; bytes: number }[]
  downloaded?: string
  error?: string
}

function parseFiles(stdout: string): { name: string; bytes: number }[] {
  return stdout
    .split('\n')
    .map((l) => /^(\d+) (.+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[2]!, bytes: Number(m[1]) }))
}

export async function backup(project: Project, options: { selectors: string[]; download?: string; now?: Date }): Promise<{ kind: 'ai-platform/backup'; ok: boolean; backups: BackupResult[] }> {
  const targets = backupTargets(project, options.selectors)
  const id = (options.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  const connections = connector(project)
  try {
    const backups = await Promise.all(
      targets.map(async (target): Promise<BackupResult> => {
        const result: BackupResult = { host: target.host, service: target.service.name, id, ok: false, files: [] }
        try {
          const exec = await connections.get(target.host)
          const container = await containerFor(exec, project, target)
          const { user, keep } = target.service.backup!
          const baseDir = project.hosts[target.host]!.baseDir
          const out = await exec.run(postgresBackup(baseDir, target.service.name, container, user, id, keep), { timeoutMs: 6 * 3600_000 })
          result.files = parseFiles(out.stdout)
          if (options.download) {
            const local = join(options.download, target.host, target.service.name, id)
            await mkdir(local, { recursive: true, mode: 0o700 })
            for (const file of result.files) await exec.download(`${baseDir}/backups/${target.service.name}/${id}/${file.name}`, join(local, file.name))
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

export async function backupList(project: Project, selectors: string[]) {
  const targets = backupTargets(project, selectors)
  const connections = connector(project)
  try {
    const hosts = await Promise.all(
      targets.map(async (target) => {
        try {
          const exec = await connections.get(target.host)
          const out = await exec.run(listBackups(project.hosts[target.host]!.baseDir, target.service.name))
          const backups: { id: string; files: { name: string; bytes: number }[] }[] = []
          for (const line of out.stdout.split('\n')) {
            if (line.startsWith('@@backup ')) backups.push({ id: line.slice(9).trim(), files: [] })
            else if (backups.length > 0) backups.at(-1)!.files.push(...parseFiles(line))
          }
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

export async function restore(project: Project, options: { host: string; from: string; databases: string[] }) {
  const target = backupTargets(project, [options.host]).find((t) => t.host === options.host)!
  const listing = (await backupList(project, [options.host])).hosts.find((h) => h.service === target.service.name)
  const chosen = listing?.backups.find((b) => b.id === options.from)
  if (!chosen) throw new UserError(`${options.host} has no backup ${options.from} of ${target.service.name}`, `Backups: ${listing?.backups.map((b) => b.id).join(', ') || 'none'} (see \`ai-platform backup list ${options.host}\`).`)
  const available = chosen.files.filter((f) => f.name.endsWith('.dump')).map((f) => f.name.slice(0, -5))
  const databases = options.databases.length > 0 ? options.databases : available
  const unknown = databases.filter((d) => !available.includes(d))
  if (unknown.length > 0) throw new UserError(`backup ${options.from} has no dump of ${unknown.join(', ')}`, `It has: ${available.join(', ')}.`)
  const connections = connector(project)
  try {
    const exec = await connections.get(options.host)
    const container = await containerFor(exec, project, target)
    const restored: string[] = []
    for (const database of databases) {
      await exec.run(postgresRestore(project.hosts[options.host]!.baseDir, target.service.name, container, target.service.backup!.user, options.from, database), { timeoutMs: 6 * 3600_000 })
      restored.push(database)
    }
    return { kind: 'ai-platform/restore' as const, host: options.host, service: target.service.name, from: options.from, restored }
  } finally {
    await connections.closeAll()
  }
}
