import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { UserError } from '../errors.js'
import { packageRoot } from '../util/paths.js'

export interface ProjectLocation {
  dir: string
  bundled: boolean
}

/** `--project DIR`, else the current directory when it holds an inventory, else the bundled reference platform. */
export function resolveProjectDir(flag: string | undefined, cwd: string = process.cwd()): ProjectLocation {
  if (flag !== undefined) {
    const dir = resolve(cwd, flag)
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new UserError(`--project ${flag}: no such directory`, 'Create one with `ai-platform init DIR`.')
    }
    if (!existsSync(join(dir, 'inventory'))) {
      throw new UserError(`--project ${flag}: ${dir} has no inventory/ directory`, 'A platform directory holds inventory/, stacks/ and templates/; `ai-platform init DIR` scaffolds one.')
    }
    return { dir, bundled: false }
  }
  if (existsSync(join(cwd, 'inventory')) && statSync(join(cwd, 'inventory')).isDirectory()) {
    return { dir: resolve(cwd), bundled: false }
  }
  return { dir: packageRoot(), bundled: true }
}
