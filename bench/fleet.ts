// Fleet benchmarks: the CLI against the ten-host test fleet, and the baselines users would pick
// instead (Ansible with Compose, the original scripts' sequential scp/ssh loop), in the same run.
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { loadFleet, type Fleet } from '../test/fleet/fleet.js'
import { generateTestPlatform } from '../test/integration/platform/generate.js'
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
} from './lib/measure.js'

const PLATFORM = join(WORK, 'platform')
const TSX = join(ROOT, 'node_modules/.bin/tsx')
const RESET = `${TSX} ${join(ROOT, 'bench/lib/reset.ts')}`

function env(fleet: Fleet): NodeJS.ProcessEnv {
  const local = fleet.hosts.find((h) => h.name === 'local')
  return { AIP_AUDIT_LOG: join(WORK, 'audit.jsonl'), CI: 'true', NO_COLOR: '1', ...(local?.env ?? {}) }
}

async function platform(fleet: Fleet, options: Parameters<typeof generateTestPlatform>[2] = {}): Promise<string> {
  rmSync(PLATFORM, { recursive: true, force: true })
  await generateTestPlatform(fleet, PLATFORM, options)
  return PLATFORM
}

function cli(args: string, fleet: Fleet): string {
  return execFileSync('bash', ['-c', `${CLI} ${args} --project ${PLATFORM}`], {
    env: { ...process.env, ...env(fleet) },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
}

/** Longest path through the plan where each host weighs what its own Compose and health wait took. */
function criticalPath(plan: any, report: any): { ms: number; hosts: string[] } {
  const cost = new Map<string, number>()
  for (const h of report.hosts)
    cost.set(
      h.host,
      h.steps.filter((s: any) => s.step === 'up' || s.step === 'health').reduce((a: number, s: any) => a + s.ms, 0),
    )
  const best = new Map<string, { ms: number; hosts: string[] }>()
  for (const host of plan.hosts) {
    const deps = host.dependsOn.map((d: any) => best.get(d.host)).filter(Boolean) as { ms: number; hosts: string[] }[]
    const before = deps.sort((a, b) => b.ms - a.ms)[0] ?? { ms: 0, hosts: [] }
    best.set(host.name, { ms: before.ms + (cost.get(host.name) ?? 0), hosts: [...before.hosts, host.name] })
  }
  return [...best.values()].sort((a, b) => b.ms - a.ms)[0]!
}

async function fleetScenario(): Promise<void> {
  const fleet = loadFleet()
  await platform(fleet)
  const deploy = `cd /tmp && ${CLI} deploy all --yes --pull never --project ${PLATFORM} > /dev/null 2>&1`
  // One cold deploy with its report, for where the time goes.
  execFileSync('bash', ['-c', RESET])
  const plan = JSON.parse(cli('plan all --json', fleet))
  const started = Date.now()
  const report = JSON.parse(cli('deploy all --yes --json --pull never', fleet))
  const wall = Date.now() - started
  const path = criticalPath(plan, report)
  const overhead = {
    wallMs: wall,
    engineMs: report.durationMs,
    criticalPathComposeMs: path.ms,
    criticalPath: path.hosts,
    overheadMs: wall - path.ms,
    overheadRatio: (wall - path.ms) / path.ms,
  }
  const cold = hyperfine([{ name: 'cold deploy, 10 hosts', command: deploy }], {
    runs: 3,
    prepare: RESET,
    env: env(fleet),
  })
  // A healthy fleet for what follows: the reset wiped the nodes' models, which `health all` checks.
  cli('models pull --yes', fleet)
  // The CLI's own CPU (user + sys) and peak RSS per run, beside hyperfine's wall time.
  for (const label of ['noop', 'health']) rmSync(timeFile(label), { force: true })
  const timed = (label: string, cli: string, args: string) =>
    `cd /tmp && ${underTime(label, `${cli} ${args} --project ${PLATFORM}`)} > /dev/null 2>&1`
  // BENCH_EARLIER=DIR: the same no-op and health runs with the CLI built in DIR (an earlier commit's
  // worktree after `npm run build`), in the same hyperfine run, for a before/after ratio.
  const earlier = process.env.BENCH_EARLIER ? `node ${join(process.env.BENCH_EARLIER, 'bin/run.js')}` : null
  const load0 = loadavg()
  const warm = hyperfine(
    [
      { name: 'no-op redeploy, 10 hosts', command: timed('noop', CLI, 'deploy all --yes --pull never') },
      { name: 'health all, 10 hosts', command: timed('health', CLI, 'health all') },
      ...(earlier
        ? [
            {
              name: `no-op redeploy, 10 hosts (earlier build: ${process.env.BENCH_EARLIER_LABEL ?? process.env.BENCH_EARLIER})`,
              command: `cd /tmp && ${earlier} deploy all --yes --pull never --project ${PLATFORM} > /dev/null 2>&1`,
            },
            {
              name: `health all, 10 hosts (earlier build: ${process.env.BENCH_EARLIER_LABEL ?? process.env.BENCH_EARLIER})`,
              command: `cd /tmp && ${earlier} health all --project ${PLATFORM} > /dev/null 2>&1`,
            },
          ]
        : []),
    ],
    { runs: 10, warmup: 1, env: env(fleet) },
  )
  const load1 = loadavg()
  const cpu = { noop: readTime('noop'), health: readTime('health') }
  // Where a no-op's time goes, host by host (the engine's own step times).
  const noopReport = JSON.parse(cli('deploy all --yes --json --pull never', fleet))
  const noopSteps = Object.fromEntries(
    ['connect', 'facts', 'check'].map((step) => [
      step,
      spread(
        noopReport.hosts.flatMap((h: any) =>
          h.steps.filter((x: any) => x.step === step && h.host !== 'local').map((x: any) => x.ms),
        ),
      ),
    ]),
  )
  const change = hyperfine([{ name: 'one-service change (grafana on moros), 10 hosts', command: deploy }], {
    runs: 5,
    prepare: `node ${join(ROOT, 'bench/lib/toggle.mjs')} ${PLATFORM}`,
    env: env(fleet),
  })
  const rows = [...cold, ...warm, ...change]
  save('fleet', {
    rows,
    overhead,
    cpu,
    noop: { engineMs: noopReport.durationMs, steps: noopSteps, statuses: noopReport.summary },
    loadavg: { before: load0, after: load1 },
    report: { steps: report.hosts.map((h: any) => ({ host: h.host, steps: h.steps })) },
  })
  console.log(table(rows))
  console.log(
    `\ncold deploy: ${ms(wall / 1000)} wall; critical path of the hosts' own compose up + health wait: ${ms(path.ms / 1000)} (${path.hosts.join(' -> ')}); orchestration overhead ${ms(overhead.overheadMs / 1000)} = ${(overhead.overheadRatio * 100).toFixed(1)}%`,
  )
}

function spread(values: number[]): { min: number; median: number; max: number } {
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) }
}

function composeCommand(fleet: Fleet, name: string): string[] {
  const host = fleet.hosts.find((h) => h.name === name)!
  return host.compose === 'v2' ? ['docker', 'compose'] : ['docker-compose']
}

/** Ansible inventory and the sequential script's host list, in plan order, from the same rendered files. */
function baselineInputs(fleet: Fleet): { inventory: string; hostsTsv: string; rendered: string; waves: string[][] } {
  const plan = JSON.parse(cli('plan all --json', fleet))
  const rendered = join(WORK, 'rendered')
  rmSync(rendered, { recursive: true, force: true })
  cli(`render all --out ${rendered}`, fleet)
  const local = fleet.hosts.find((h) => h.name === 'local')!
  const lines = [
    '[all:vars]',
    `ansible_user=deploy`,
    `ansible_ssh_private_key_file=${fleet.identityFile}`,
    `rendered=${rendered}`,
    '',
  ]
  for (const wave of plan.waves) {
    lines.push(`[wave${wave.wave}]`)
    for (const name of wave.hosts) {
      const host = fleet.hosts.find((h) => h.name === name)!
      const hasFiles = existsSync(join(rendered, name, 'files'))
      const base = name === 'local' ? local.baseDir : '/opt/ai-platform'
      const connection =
        name === 'local'
          ? 'ansible_connection=local ansible_python_interpreter=/usr/bin/python3'
          : `ansible_host=${host.address}`
      lines.push(
        `${name} ${connection} base_dir=${base} has_files=${hasFiles} compose_cmd='${JSON.stringify(composeCommand(fleet, name))}'${name === 'local' ? ` compose_env='${JSON.stringify(local.env)}'` : ''}`,
      )
    }
    lines.push('')
  }
  const inventory = join(WORK, 'ansible-inventory.ini')
  writeFileSync(inventory, lines.join('\n'))
  const tsv = plan.hosts.map((h: any) =>
    [
      h.name,
      fleet.hosts.find((f) => f.name === h.name)!.address,
      composeCommand(fleet, h.name).join(' '),
      h.name === 'local' ? local.baseDir : '/opt/ai-platform',
      h.name === 'local' ? 'local' : 'ssh',
    ].join('\t'),
  )
  const hostsTsv = join(WORK, 'hosts.tsv')
  writeFileSync(hostsTsv, `${tsv.join('\n')}\n`)
  return { inventory, hostsTsv, rendered, waves: plan.waves.map((w: any) => w.hosts) }
}

async function baselines(): Promise<void> {
  const fleet = loadFleet()
  await platform(fleet)
  const { inventory, hostsTsv, rendered, waves } = baselineInputs(fleet)
  const ansibleEnv = {
    ANSIBLE_FORKS: '10',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_SSH_ARGS: `-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${fleet.knownHostsFile} -o StrictHostKeyChecking=yes`,
    ANSIBLE_STDOUT_CALLBACK: 'minimal',
    ANSIBLE_LOCALHOST_WARNING: 'False',
  }
  const playbook = join(ROOT, 'bench/baselines/ansible/deploy.yml')
  const ansible = `cd /tmp && ${waves.map((_, i) => `ansible-playbook -i ${inventory} ${playbook} -e wave=wave${i + 1}`).join(' && ')} > /dev/null`
  const sequential = `bash ${join(ROOT, 'bench/baselines/sequential.sh')} ${hostsTsv} ${rendered} ${fleet.knownHostsFile} ${fleet.identityFile}`
  const ours = `cd /tmp && ${CLI} deploy all --yes --pull never --project ${PLATFORM} > /dev/null 2>&1`
  const environment = { ...env(fleet), ...ansibleEnv }
  // BENCH_NOOP_ONLY=1: the no-op comparison alone (the cold one takes ~10 minutes)
  const cold = process.env.BENCH_NOOP_ONLY
    ? []
    : hyperfine(
        [
          { name: 'cold: ai-platform deploy all', command: ours },
          { name: 'cold: Ansible (forks 10, pipelining, one play per wave)', command: ansible },
          { name: 'cold: sequential scp + ssh loop', command: sequential },
        ],
        { runs: 2, prepare: RESET, env: environment },
      )
  execFileSync('bash', ['-c', ours], { env: { ...process.env, ...environment } })
  const noop = hyperfine(
    [
      { name: 'no-op: ai-platform deploy all', command: ours },
      { name: 'no-op: Ansible', command: ansible },
      { name: 'no-op: sequential scp + ssh loop', command: sequential },
    ],
    { runs: 5, warmup: 1, env: environment },
  )
  const ratio = (rows: Measured[]) =>
    rows.length < 3
      ? null
      : { ansible: rows[1]!.median / rows[0]!.median, sequential: rows[2]!.median / rows[0]!.median }
  save('baselines', { cold, noop, ratios: { cold: ratio(cold), noop: ratio(noop) } })
  console.log(table([...cold, ...noop]))
  const r = { cold: ratio(cold), noop: ratio(noop)! }
  console.log(
    `\nratios (baseline / ai-platform, medians of this run): ${r.cold ? `cold Ansible ${r.cold.ansible.toFixed(2)}x, sequential ${r.cold.sequential.toFixed(2)}x; ` : ''}no-op Ansible ${r.noop.ansible.toFixed(1)}x, sequential ${r.noop.sequential.toFixed(1)}x`,
  )
}

async function models(): Promise<void> {
  const fleet = loadFleet()
  await platform(fleet, { ollamaRate: '8MB' })
  cli('deploy all --yes --pull never', fleet)
  const nodes = ['orpheus', 'kratos', 'nyx', 'hades']
  const wipe = `node ${join(ROOT, 'bench/lib/wipe-models.mjs')} ${nodes.map((n) => fleet.hosts.find((h) => h.name === n)!.address).join(' ')}`
  const rows = hyperfine(
    [
      {
        name: 'models pull, four nodes in parallel',
        command: `cd /tmp && ${CLI} models pull --yes --project ${PLATFORM} > /dev/null 2>&1`,
      },
      {
        name: 'models pull, one node after another',
        command: `cd /tmp && for n in ${nodes.join(' ')}; do ${CLI} models pull --on $n --project ${PLATFORM} > /dev/null 2>&1; done`,
      },
      ...nodes.map((n) => ({
        name: `models pull --on ${n} alone`,
        command: `cd /tmp && ${CLI} models pull --on ${n} --project ${PLATFORM} > /dev/null 2>&1`,
      })),
    ],
    { runs: 3, prepare: wipe, env: env(fleet) },
  )
  const slowest = Math.max(...rows.slice(2).map((r) => r.median))
  const sum = rows.slice(2).reduce((a, r) => a + r.median, 0)
  const summary = {
    parallel: rows[0]!.median,
    sequential: rows[1]!.median,
    slowestNode: slowest,
    sumOfNodes: sum,
    parallelOverSlowest: rows[0]!.median / slowest,
    sequentialOverParallel: rows[1]!.median / rows[0]!.median,
  }
  save('models', { rows, summary })
  console.log(table(rows))
  console.log(
    `\nparallel ${ms(summary.parallel)} vs slowest node alone ${ms(slowest)} (${summary.parallelOverSlowest.toFixed(2)}x) vs sum of nodes ${ms(sum)}; one after another took ${summary.sequentialOverParallel.toFixed(2)}x the parallel pull`,
  )
  cli('deploy all --yes --pull never', fleet)
}

export const scenarios: Record<string, () => Promise<void>> = { fleet: fleetScenario, baselines, models }
