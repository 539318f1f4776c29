// Opens the executor for each host of a run: SSH through one shared pool, or local for the workstation.
import type { Host, Project } from '../config/model.js'
import { UserError } from '../errors.js'
import type { Executor, Masked } from './executor.js'
import { LocalExecutor } from './local.js'
import { SshExecutor, SshPool, type SshOptions } from './ssh.js'
import { resolveSshTarget, type SshTarget } from './ssh-target.js'
import { probeSshConfig, sshClientInstalled, type ExplicitLogin, type SshConfig } from './ssh-config.js'
import { remember } from '../util/remember.js'

export interface Connector {
  get(host: string): Promise<Executor>
  closeAll(): Promise<void>
}

/** What a command decides for the connections its service opens. */
export interface ConnectChoices extends Masked {
  /** Record first-seen host keys (--accept-new); a changed key is always refused. */
  acceptNew?: boolean
}

export function connector(project: Project, options: SshOptions = {}): Connector {
  const pool = new SshPool(options)
  const executors = new Map<string, Promise<Executor>>()
  const opened = new Map<string, Executor>()
  // `ssh -G` once per address (and jump hop) for the run; the ssh-config library where no ssh is installed
  let client: Promise<boolean> | undefined
  const answers = new Map<string, Promise<SshConfig>>()
  const probe = (alias: string, configFile: string | undefined, login: ExplicitLogin): Promise<SshConfig> => {
    const key = [configFile ?? '', alias, login.user ?? '', login.port ?? ''].join('\0')
    return answers.get(key) ?? remember(answers, key, probeSshConfig(alias, { configFile, host: alias, ...login }))
  }
  const target = async (host: Host): Promise<SshTarget> =>
    resolveSshTarget(host, { projectDir: project.dir, probe: (await (client ??= sshClientInstalled())) ? probe : null })
  return {
    get(hostName: string): Promise<Executor> {
      // a connection that dropped is opened again (a host of a later wave, after a network blip)
      if (opened.get(hostName)?.lost) {
        opened.delete(hostName)
        executors.delete(hostName)
      }
      let pending = executors.get(hostName)
      if (!pending) {
        const host = project.hosts[hostName]
        if (!host)
          return Promise.reject(new UserError(`unknown host ${hostName}`, `Hosts: ${project.hostOrder.join(', ')}.`))
        pending = remember(
          executors,
          hostName,
          (host.local
            ? Promise.resolve(new LocalExecutor(hostName, process.env, options.redact))
            : target(host)
                .then((t) => pool.connect(t))
                .then((connection) => new SshExecutor(hostName, connection))
          ).then((executor: Executor) => {
            opened.set(hostName, executor)
            return executor
          }),
        )
      }
      return pending
    },
    async closeAll(): Promise<void> {
      executors.clear()
      opened.clear()
      await pool.closeAll()
    },
  }
}
