#!/usr/bin/env node
// Only the launcher decides exit codes: user errors exit 1 without a stack, bugs print one.
// `--version` and the top-level help (`--help`, `-h`, `help`: oclif prints the same text for each) are
// answered without loading oclif (about half the start-up time); the help text is what oclif printed
// at build time (tools/postbuild.mjs), at 80 columns whatever the terminal's width.
import { readFileSync } from 'node:fs'

const argv = process.argv.slice(2)
const fast = process.env.AIP_NO_FAST_PATH === undefined && argv.length === 1
const userAgent = () => {
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  return `${name}/${version} ${process.platform}-${process.arch} node-${process.version}`
}
if (fast && argv[0] === '--version') {
  process.stdout.write(`${userAgent()}\n`)
} else if (fast && ['--help', '-h', 'help'].includes(argv[0])) {
  let help = null
  try {
    help = readFileSync(new URL('../dist/help.txt', import.meta.url), 'utf8')
  } catch {
    // not built with the help text: oclif prints it
  }
  if (help !== null) process.stdout.write(help.replaceAll('@@USER_AGENT@@', userAgent()))
  else await (await import('@oclif/core')).execute({ dir: import.meta.url })
} else {
  // oclif checks its own `engines` with semver when it loads (20-60 ms here); ours is stricter
  // (package.json: node >=20.18.1) and needs no semver.
  const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const need = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(engines.node)?.slice(1).map(Number)
  if (!need) {
    process.stderr.write(
      `Error: package.json engines.node is ${JSON.stringify(engines.node)}; bin/run.js understands only ">=X.Y.Z".\n`,
    )
    process.exit(2)
  }
  const have = process.versions.node.split('.').map(Number)
  if ((have[0] - need[0] || have[1] - need[1] || have[2] - need[2]) < 0) {
    process.stderr.write(`Error: ai-platform needs Node.js ${engines.node}; this is ${process.version}.\n`)
    process.exit(1)
  }
  const quiet = process.env.OCLIF_DISABLE_ENGINE_WARNING
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  const oclif = await import('@oclif/core')
  if (quiet === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
  else process.env.OCLIF_DISABLE_ENGINE_WARNING = quiet
  await oclif.execute({ dir: import.meta.url })
}
