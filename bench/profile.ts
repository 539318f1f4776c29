// Where one CLI run spends its CPU: runs the built CLI under `node --cpu-prof` and prints the time
// of its samples by package (node_modules/<package>, our dist/ modules, Node's internals, GC, idle).
//   npx tsx bench/profile.ts deploy all --yes --project DIR
//   npx tsx bench/profile.ts --by-caller undici health all --project DIR   (who calls into a package)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './lib/measure.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

function group(node: ProfileNode): string {
  const { functionName, url } = node.callFrame
  if (functionName === '(garbage collector)') return '(GC)'
  if (functionName === '(idle)') return '(idle: waiting on I/O)'
  if (functionName === '(program)') return '(program)'
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  if (url.includes('/dist/')) return `ai-platform ${url.split('/dist/')[1]!.split('/').slice(0, 2).join('/')}`
  if (url.startsWith('node:')) return "Node's own modules (loading, streams, crypto)"
  return url || '(native)'
}

const args = process.argv.slice(2)
const byCaller = args[0] === '--by-caller' ? args.splice(0, 2)[1]! : null
const dir = mkdtempSync(join(tmpdir(), 'aip-profile-'))
try {
  const run = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, join(ROOT, 'bin/run.js'), ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no profile written (exit ${run.status})`)
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const totals = new Map<string, number>()
  let all = 0
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    all += us
    let key: string | null = group(nodes.get(id)!)
    if (byCaller) {
      // The first frame outside the package (and outside Node's internals) above a sample inside it.
      const chain: ProfileNode[] = []
      for (let n: ProfileNode | undefined = nodes.get(id); n; n = nodes.get(parent.get(n.id) ?? -1)) chain.push(n)
      const inside = chain.findIndex((n) => n.callFrame.url.includes(`node_modules/${byCaller}/`))
      if (inside < 0) key = null
      else {
        const caller = chain
          .slice(inside)
          .find(
            (n) =>
              n.callFrame.url &&
              !n.callFrame.url.includes(`node_modules/${byCaller}/`) &&
              !n.callFrame.url.startsWith('node:'),
          )
        key = caller
          ? `${caller.callFrame.functionName || '(top level)'} ${caller.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/')}:${caller.callFrame.lineNumber + 1}`
          : '(no caller outside it)'
      }
    }
    if (key) totals.set(key, (totals.get(key) ?? 0) + us)
  })
  console.log(
    `${(all / 1000).toFixed(0)} ms sampled (exit ${run.status})${byCaller ? `; samples inside ${byCaller}, by caller:` : ''}`,
  )
  for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${key}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
