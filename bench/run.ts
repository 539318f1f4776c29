// Benchmarks, side by side in one run (hyperfine), results to bench/results/<scenario>.json.
//   npx tsx bench/run.ts startup dryrun        no fleet needed
//   npx tsx bench/run.ts fleet baselines models   needs `npm run fleet:up` (root)
//   npx tsx bench/run.ts scale                 needs `bash test/fleet/scale/up.sh 100` (root)
// The CLI measured is the built one (npm run build first).
import { join } from 'node:path'

import { CLI, hyperfine, save, table, WORK } from './lib/measure.js'
import { scale } from './scale.js'

async function startup(): Promise<void> {
  const rows = hyperfine(
    [
      { name: 'ai-platform --version', command: `${CLI} --version` },
      { name: 'ai-platform --help', command: `${CLI} --help` },
      { name: 'node -e 0 (Node alone)', command: 'node -e 0' },
    ],
    { runs: 20, warmup: 3 },
  )
  save('startup', { rows })
  console.log(table(rows))
}

async function dryrun(): Promise<void> {
  const out = join(WORK, 'rendered')
  const cache = join(WORK, 'yaml-cache')
  const rows = hyperfine(
    [
      {
        name: 'deploy all --dry-run --json, 10 hosts (parse cache warm)',
        command: `cd /tmp && AIP_CACHE_DIR=${cache} ${CLI} deploy all --dry-run --json > /dev/null`,
      },
      {
        name: 'deploy all --dry-run --json, 10 hosts (no parse cache)',
        command: `cd /tmp && AIP_NO_CACHE=1 ${CLI} deploy all --dry-run --json > /dev/null`,
      },
      {
        name: 'validate, 10 hosts (every host rendered)',
        command: `cd /tmp && AIP_CACHE_DIR=${cache} ${CLI} validate > /dev/null`,
      },
      {
        name: 'render all --out, 10 hosts',
        command: `cd /tmp && rm -rf ${out} && AIP_CACHE_DIR=${cache} ${CLI} render all --no-secrets --out ${out} > /dev/null`,
      },
    ],
    { runs: 15, warmup: 2 },
  )
  save('dryrun', { rows })
  console.log(table(rows))
}

const scenarios: Record<string, () => Promise<void>> = { startup, dryrun, scale }

const wanted = process.argv.slice(2)
if (wanted.length === 0) {
  console.error(
    `usage: tsx bench/run.ts ${Object.keys(scenarios).join('|')} ... (also: fleet, baselines, models from bench/fleet.ts)`,
  )
  process.exit(2)
}
for (const name of wanted) {
  const scenario = scenarios[name] ?? (await import('./fleet.js')).scenarios[name]
  if (!scenario) throw new Error(`unknown scenario ${name}`)
  console.log(`\n## ${name}\n`)
  await scenario()
}
