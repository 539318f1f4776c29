import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { UserError } from '../errors.js'
import { packageRoot } from '../util/paths.js'

export interface ProjectLocation {
  dir: string
  bundled: boolean
}

export interface ProjectChoice {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /**
   * The command, when it connects to hosts: it refuses to fall back to the bundled reference platform,
   * whose hosts are examples (names under home.arpa that may answer on the operator's network, with
   * the operator's keys offered to them) and whose `local` host is this machine.
   */
  connecting?: string
}

/**
 * `--project DIR`, else $AIP_PROJECT, else the current directory when it holds an inventory, else the
 * bundled reference platform (for commands that do not connect to hosts).
 */
export function resolveProjectDir(flag: string | undefined, choice: ProjectChoice = {}): ProjectLocation {
  const cwd = choice.cwd ?? process.cwd()
  const env = choice.env ?? process.env
  if (flag !== undefined) return { dir: platformDir(resolve(cwd, flag), `--project ${flag}`), bundled: false }
  if (env.AIP_PROJECT)
    return { dir: platformDir(resolve(cwd, env.AIP_PROJECT), `AIP_PROJECT=${env.AIP_PROJECT}`), bundled: false }
  const here = resolve(cwd)
  if (hasInventory(here)) return { dir: here, bundled: false }
  if (choice.connecting !== undefined) {
    throw new UserError(
      `${choice.connecting} connects to hosts and needs your platform: there is no --project, no AIP_PROJECT, and ${here} is not a platform directory (it has no inventory/). The bundled reference platform is an example, used only by validate, plan, render and deploy --dry-run.`,
      'Pass --project DIR, set AIP_PROJECT=DIR, or cd into a platform directory (one with inventory/); `ai-platform init DIR` scaffolds one.',
    )
  }
  return { dir: packageRoot(), bundled: true }
}

function hasInventory(dir: string): boolean {
  return existsSync(join(dir, 'inventory')) && statSync(join(dir, 'inventory')).isDirectory()
}

/** `dir`, chosen by `source` (the flag or the variable, as the user wrote it), when it is a platform directory. */
function platformDir(dir: string, source: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`${source}: no such directory`, 'Create one with `ai-platform init DIR`.')
  }
  if (!existsSync(join(dir, 'inventory'))) {
    throw new UserError(
      `${source}: ${dir} has no inventory/ directory`,
      'A platform directory holds inventory/, stacks/ and templates/; `ai-platform init DIR` scaffolds one.',
    )
  }
  return dir
}
