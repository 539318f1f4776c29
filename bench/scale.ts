// Scale benchmark: what orchestration costs at 100 hosts, on the scale fleet (test/fleet/scale: each
// host only an sshd and a stand-in Docker, so the time measured is the CLI's and the SSH round trips,
// not Compose's). Planning (dry run), no-op redeploy, health, and one cold deploy, at 100 hosts and at
// 10 (the scaling ratio), with the CLI's peak RSS. Target (issue): no-op under 5 s, peak RSS under
// 250 MB at 100 hosts.
//   sudo bash test/fleet/scale/up.sh 100 && npx tsx bench/run.ts scale
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { generateScalePlatform, loadScale, type Scale } from '../test/fleet/scale/platform.js'
import {
  CLI,
  hyperfine,
  median,
  ms,
  readTime,
  ROOT,
  save,
  table,
  timeFile,
  underTime,
  WORK,
  type Measured,
  type Rss,
} from './lib/measure.js'

const SIZES = [100, 10]
const RESET = `bash ${join(ROOT, 'test/fleet/scale/reset.sh')}`
const TARGET = { noopS: 5, rssMb: 250 }

const platformDir = (n: number) => join(WORK, `scale-${n}`)
const ENV: NodeJS.ProcessEnv = { AIP_AUDIT_LOG: join(WORK, 'scale-audit.jsonl'), CI: 'true', NO_COLOR: '1' }

/** The command under GNU time (peak RSS and CPU per run, readTime(label)). */
function timed(label: string, args: string, stdout = '/dev/null'): string {
  return `cd /tmp && ${underTime(label, `${CLI} ${args}`)} > ${stdout} 2>/dev/null`
}

function cli(args: string): string {
  return execFileSync('bash', ['-c', `cd /tmp && ${CLI} ${args}`], {
    env: { ...process.env, ...ENV },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
}

/** Where and how loaded the measurement ran: other work on the machine inflates every wall time. */
function context(): Record<string, unknown> {
  const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
  return {
    commit: git(['rev-parse', '--short', 'HEAD']),
    srcChanged: git(['status', '--porcelain', '--', 'src', 'commands']) !== '',
    distBuilt: statSync(join(ROOT, 'dist/src/deploy/engine.js')).mtime.toISOString(),
    loadavg: loadavg().map((l) => Math.round(l * 10) / 10),
  }
}

/** Where a no-op's time goes, from its own report: per step, across hosts. */
function stepSummary(report: {
  durationMs: number
  hosts: { host: string; durationMs: number; steps: { step: string; ms: number }[] }[]
}) {
  const byStep = new Map<string, number[]>()
  for (const h of report.hosts) for (const s of h.steps) byStep.set(s.step, [...(byStep.get(s.step) ?? []), s.ms])
  return {
    engineMs: report.durationMs,
    steps: Object.fromEntries(
      [...byStep].map(([step, values]) => [
        step,
        {
          hosts: values.length,
          medianMs: median(values),
          maxMs: Math.max(...values),
          sumMs: values.reduce((a, b) => a + b, 0),
        },
      ]),
    ),
  }
}

async function measureSize(
  fleet: Scale,
  n: number,
): Promise<{
  rows: Measured[]
  rss: Rss[]
  noop: ReturnType<typeof stepSummary>
  cold: ReturnType<typeof stepSummary>
  health: { durationMs: number; checks: number; ok: boolean }
}> {
  const dir = platformDir(n)
  await generateScalePlatform(fleet, dir, { hosts: n })
  const project = `--project ${dir}`
  for (const label of [`dryrun-${n}`, `noop-${n}`, `health-${n}`, `cold-${n}`]) rmSync(timeFile(label), { force: true })

  const dryrun = hyperfine(
    [
      {
        name: `deploy all --dry-run --json, ${n} hosts (plan + render)`,
        command: timed(`dryrun-${n}`, `deploy all --dry-run --json ${project}`),
      },
    ],
    { runs: 10, warmup: 1, env: ENV },
  )

  // Cold: every host reset (no release, no containers, no images), then one deploy.
  const coldReport = join(WORK, `scale-cold-${n}.json`)
  const cold = hyperfine(
    [
      {
        name: `cold deploy all, ${n} hosts (--concurrency 10, the default)`,
        command: timed(`cold-${n}`, `deploy all --yes --json ${project}`, coldReport),
      },
    ],
    {
      runs: 1,
      prepare: `${RESET} ${fleet.hosts
        .slice(0, n)
        .map((h) => h.name)
        .join(' ')}`,
      env: ENV,
    },
  )

  // Converged: the no-op report first (for its steps), then the measured runs.
  const report = JSON.parse(cli(`deploy all --yes --json ${project}`))
  if (report.summary.unchanged !== n)
    throw new Error(`no-op at ${n} hosts was not one: ${JSON.stringify(report.summary)}`)
  const health = JSON.parse(cli(`health all --json ${project}`))
  if (!health.ok) throw new Error(`health at ${n} hosts is not ok: ${JSON.stringify(health.summary)}`)
  const warm = hyperfine(
    [
      {
        name: `no-op deploy all --yes --json, ${n} hosts`,
        command: timed(`noop-${n}`, `deploy all --yes --json ${project}`),
      },
      { name: `health all --json, ${n} hosts`, command: timed(`health-${n}`, `health all --json ${project}`) },
    ],
    { runs: 7, warmup: 1, env: ENV },
  )
  return {
    rows: [...dryrun, ...cold, ...warm],
    rss: [`dryrun-${n}`, `cold-${n}`, `noop-${n}`, `health-${n}`].map(readTime),
    noop: stepSummary(report),
    cold: stepSummary(JSON.parse(readFileSync(coldReport, 'utf8'))),
    health: { durationMs: health.durationMs, checks: health.summary.checks, ok: health.ok },
  }
}

export async function scale(): Promise<void> {
  const fleet = loadScale()
  if (fleet.hosts.length < Math.max(...SIZES))
    throw new Error(
      `the scale fleet has ${fleet.hosts.length} hosts; run sudo bash test/fleet/scale/up.sh ${Math.max(...SIZES)}`,
    )
  mkdirSync(WORK, { recursive: true })
  const before = context()
  const startup = hyperfine([{ name: 'ai-platform --version (start-up alone)', command: `${CLI} --version` }], {
    runs: 10,
    warmup: 2,
  })
  const results: Record<number, Awaited<ReturnType<typeof measureSize>>> = {}
  for (const n of SIZES) results[n] = await measureSize(fleet, n)
  // Leave the fleet converged on the full platform (s001's Prometheus targets differ between sizes).
  cli(`deploy all --yes --json --project ${platformDir(Math.max(...SIZES))}`)

  const row = (n: number, prefix: string) => results[n]!.rows.find((r) => r.name.startsWith(prefix))!
  const ratio = (prefix: string) => row(100, prefix).median / row(10, prefix).median
  const scaling = {
    noop: ratio('no-op'),
    health: ratio('health'),
    dryrun: ratio('deploy all --dry-run'),
    cold: ratio('cold'),
  }
  const noop100 = row(100, 'no-op').median
  const rss100 = Math.max(
    ...results[100]!.rss.filter((r) => r.label.startsWith('noop') || r.label.startsWith('health')).map((r) => r.maxMb),
  )
  const verdict = { noopS: noop100, noopOk: noop100 < TARGET.noopS, peakRssMb: rss100, rssOk: rss100 < TARGET.rssMb }
  const after = context()
  const rows = [...startup, ...SIZES.flatMap((n) => results[n]!.rows)]
  const label = (r: Rss) =>
    r.label
      .replace(/^noop/, 'no-op')
      .replace(/^dryrun/, 'dry run')
      .replace(/-(\d+)$/, ', $1 hosts')
  // rows, rss (label -> MB) and notes are what bench/report.ts puts in BENCHMARKS.md; the rest is detail.
  const rssByLabel = Object.fromEntries(
    SIZES.flatMap((n) => results[n]!.rss.map((r) => [`${label(r)} (max of ${r.runs} runs)`, r.maxMb])),
  )
  const cpu = (n: number, what: string) => results[n]!.rss.find((r) => r.label === `${what}-${n}`)!.medianCpuS
  const notes = [
    `Load average (1, 5, 15 min) before ${JSON.stringify(before.loadavg)}, after ${JSON.stringify(after.loadavg)} on 2 cores: the hosts' sshds run on the same cores as the CLI, and so does whatever else runs on the machine.`,
    `CPU of the CLI process (user + sys, medians): no-op ${cpu(100, 'noop')} s at 100 hosts, ${cpu(10, 'noop')} s at 10; health ${cpu(100, 'health')} s / ${cpu(10, 'health')} s; dry run ${cpu(100, 'dryrun')} s / ${cpu(10, 'dryrun')} s.`,
    `100 / 10 hosts: no-op ${scaling.noop.toFixed(2)}x, health ${scaling.health.toFixed(2)}x, dry run ${scaling.dryrun.toFixed(2)}x, cold ${scaling.cold.toFixed(2)}x.`,
    `Commit ${String(after.commit)}${after.srcChanged ? ' (with uncommitted src/ changes)' : ''}, dist built ${String(after.distBuilt)}.`,
  ].join(' ')
  save('scale', { rows, rss: rssByLabel, notes, target: TARGET, verdict, scaling, before, after, sizes: results })

  console.log(table(rows))
  console.log(
    '\n| the CLI process | peak RSS, median | peak RSS, max | CPU (user+sys), median | runs |\n|---|---|---|---|---|',
  )
  for (const n of SIZES)
    for (const r of results[n]!.rss)
      console.log(`| ${label(r)} | ${r.medianMb} MB | ${r.maxMb} MB | ${r.medianCpuS} s | ${r.runs} |`)
  console.log(
    `\n100 / 10 hosts (medians): no-op ${scaling.noop.toFixed(2)}x, health ${scaling.health.toFixed(2)}x, dry run ${scaling.dryrun.toFixed(2)}x, cold ${scaling.cold.toFixed(2)}x`,
  )
  for (const n of SIZES) {
    for (const kind of ['noop', 'cold'] as const) {
      const s = results[n]![kind]
      console.log(
        `${kind === 'noop' ? 'no-op' : 'cold'} at ${n} hosts, engine ${ms(s.engineMs / 1000)}; per host: ${Object.entries(
          s.steps,
        )
          .map(([step, v]) => `${step} median ${v.medianMs} ms, max ${v.maxMs} ms`)
          .join('; ')}`,
      )
    }
  }
  console.log(
    `\nload average before ${JSON.stringify(before.loadavg)}, after ${JSON.stringify(after.loadavg)} (2 cores); commit ${String(after.commit)}${after.srcChanged ? ' with uncommitted src/ changes' : ''}, dist built ${String(after.distBuilt)}`,
  )
  console.log(
    `target at 100 hosts: no-op ${ms(noop100)} (< ${TARGET.noopS} s: ${verdict.noopOk ? 'met' : 'MISSED'}), peak RSS ${rss100} MB (< ${TARGET.rssMb} MB: ${verdict.rssOk ? 'met' : 'MISSED'})`,
  )
}
