// hyperfine --prepare for the one-service change: flips one environment value of grafana (moros).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const file = join(process.argv[2], 'stacks/monitoring.yaml')
const text = readFileSync(file, 'utf8')
const next = text.includes('BENCH_TOGGLE: a')
  ? text.replace('BENCH_TOGGLE: a', 'BENCH_TOGGLE: b')
  : text.includes('BENCH_TOGGLE: b')
    ? text.replace('BENCH_TOGGLE: b', 'BENCH_TOGGLE: a')
    : text.replace('GF_USERS_ALLOW_SIGN_UP:', 'BENCH_TOGGLE: a\n      GF_USERS_ALLOW_SIGN_UP:')
if (next === text) throw new Error('toggle: nothing changed')
writeFileSync(file, next)
