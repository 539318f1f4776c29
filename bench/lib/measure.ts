// Measuring: hyperfine for wall times (several runs, medians), machine details, result files.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')
export const WORK = join(ROOT, 'bench/.work')
const RESULTS = join(ROOT, 'bench/results')
export const CLI = `node ${join(ROOT, 'bin/run.js')}`

export interface Measured {
  command: string
  name: string
  runs: number
  median: number
  mean: number
  min: number
  max: number
  stddev: number
}

export function hyperfine(
  commands: { name: string; command: string }[],
  options: { runs: number; warmup?: number; prepare?: string; env?: NodeJS.ProcessEnv; ignoreFailure?: boolean },
): Measured[] {
  mkdirSync(WORK, { recursive: true })
  const out = join(WORK, `hyperfine-${process.pid}.json`)
  const args = [
    '--runs',
    String(options.runs),
    '--warmup',
    String(options.warmup ?? 0),
    '--export-json',
    out,
    '--shell',
    'bash',
    '--style',
    'basic',
  ]
  if (options.prepare) args.push('--prepare', options.prepare)
  if (options.ignoreFailure) args.push('--ignore-failure')
  for (const c of commands) args.push('--command-name', c.name, c.command)
  const result = spawnSync('hyperfine', args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (result.status !== 0) throw new Error(`hyperfine failed (${result.status})`)
  const data = JSON.parse(readFileSync(out, 'utf8')) as {
    results: {
      command: string
      median: number
      mean: number
      min: number
      max: number
      stddev: number
      times: number[]
    }[]
  }
  rmSync(out, { force: true })
  return data.results.map((r, i) => ({
    command: commands[i]!.command,
    name: commands[i]!.name,
    runs: r.times.length,
    median: r.median,
    mean: r.mean,
    min: r.min,
    max: r.max,
    stddev: r.stddev ?? 0,
  }))
}

export function machine(): Record<string, string> {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim()
    } catch {
      return 'n/a'
    }
  }
  return {
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    os: run('sh', ['-c', '. /etc/os-release; echo $PRETTY_NAME']),
    kernel: run('uname', ['-r']),
    node: process.version,
    docker: run('sh', ['-c', 'docker --version 2>/dev/null | head -1']),
    ansible: run('sh', ['-c', 'ansible --version 2>/dev/null | head -1']),
    date: new Date().toISOString(),
  }
}

export function save(name: string, data: unknown): void {
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(
    join(RESULTS, `${name}.json`),
    `${JSON.stringify({ machine: machine(), ...(data as object) }, null, 2)}\n`,
  )
}

export function ms(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`
}

export function table(rows: Measured[]): string {
  const lines = ['| scenario | median | min | max | runs |', '|---|---|---|---|---|']
  for (const r of rows) lines.push(`| ${r.name} | ${ms(r.median)} | ${ms(r.min)} | ${ms(r.max)} | ${r.runs} |`)
  return lines.join('\n')
}

export const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

/** The file GNU time appends one line per run to, for a scenario label. */
export const timeFile = (label: string): string => join(WORK, `rss-${label}.txt`)

/** A command under GNU time, appending the CLI's peak RSS (KiB) and CPU seconds (user, sys) to timeFile(label). */
export function underTime(label: string, command: string): string {
  return `/usr/bin/time -f '%M %U %S' -a -o ${timeFile(label)} ${command}`
}

export interface Rss {
  label: string
  runs: number
  medianMb: number
  maxMb: number
  /** user + system CPU seconds of the CLI process: less sensitive to a loaded machine than wall time. */
  medianCpuS: number
}

/** What underTime(label, ...) recorded over its runs. */
export function readTime(label: string): Rss {
  const runs = readFileSync(timeFile(label), 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f[0]! > 0)
  const kb = runs.map((f) => f[0]!)
  const mb = (v: number) => Math.round((v / 1024) * 10) / 10
  return {
    label,
    runs: runs.length,
    medianMb: mb(median(kb)),
    maxMb: mb(Math.max(...kb)),
    medianCpuS: Math.round(median(runs.map((f) => f[1]! + f[2]!)) * 100) / 100,
  }
}
