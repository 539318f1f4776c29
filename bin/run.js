#!/usr/bin/env node
// Only the launcher decides exit codes: user errors exit 1 without a stack, bugs print one.
// `--version` and the top-level `--help` are answered without loading oclif (about half the
// start-up time); the help text is what oclif printed at build time (tools/postbuild.mjs), at 80
// columns whatever the terminal's width.
import { readFileSync } from 'node:fs'

const argv = process.argv.slice(2)
const fast = process.env.AIP_NO_FAST_PATH === undefined && argv.length === 1
const userAgent = () => {
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  return `${name}/${version} ${process.platform}-${process.arch} node-${process.version}`
}
if (fast && argv[0] === '--version') {
  process.stdout.write(`${userAgent()}\n`)
} else if (fast && argv[0] === '--help') {
  let help = null
  try {
    help = readFileSync(new URL('../dist/help.txt', import.meta.url), 'utf8')
  } catch {
    // not built with the help text: oclif prints it
  }
  if (help !== null) process.stdout.write(help.replaceAll('@@USER_AGENT@@', userAgent()))
  else await (await import('@oclif/core')).execute({ dir: import.meta.url })
} else {
  await (await import('@oclif/core')).execute({ dir: import.meta.url })
}
