// Opens the executor for each host of a run: SSH through one shared pool, or local for the workstation.
import type { Project } from '../config/model.js'
import type { Executor } from './executor.js'
import { LocalExecutor } from './local.js'
import { SshExecutor, SshPool, type SshOptions } from './ssh.js'
import { resolveSshTarget } from './ssh-target.js'

export interface Connector {
  get(host: string): Promise<Executor>
  /**
   * Starts connecting to these hosts now, while the caller does other work (rendering). A connection
   * that fails is reported once, to the first get() of its host, which does not try again.
   */
  warm(hosts: readonly string[]): void
  closeAll(): Promise<void>
}

export function connector(project: Project, options: SshOptions = {}): Connector {
  const pool = new SshPool(options)
  const executors = new Map<string, Promise<Executor>>()
  const warmed = new Map<string, Promise<Executor>>()
  const open = (hostName: string): Promise<Executor> => {
    const host = project.hosts[hostName]!
    const pending = host.local
      ? Promise.resolve(new LocalExecutor(hostName, process.env, options.redact))
      : pool.connect(resolveSshTarget(host, { projectDir: project.dir })).then((connection) => new SshExecutor(hostName, connection))
    executors.set(hostName, pending)
    return pending
  }
  return {
    get(hostName: string): Promise<Executor> {
      const early = warmed.get(hostName)
      if (early) {
        warmed.delete(hostName)
        early.catch(() => executors.delete(hostName))
        return early
      }
      let pending = executors.get(hostName)
      if (!pending) {
        pending = open(hostName)
        pending.catch(() => executors.delete(hostName))
      }
      return pending
    },
    warm(hosts: readonly string[]): void {
      for (const hostName of hosts) {
        if (executors.has(hostName) || !project.hosts[hostName]) continue
        const pending = open(hostName)
        pending.catch(() => undefined)
        warmed.set(hostName, pending)
      }
    },
    async closeAll(): Promise<void> {
      executors.clear()
      warmed.clear()
      await pool.closeAll()
    },
  }
}
