import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { REPO } from './project.js'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the built CLI (bin/run.js) as a user would. */
export function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO, 'bin/run.js'), ...args],
      { cwd: options.cwd ?? REPO, env: { ...process.env, NO_COLOR: '1', ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : 1
          : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}
