// A mistyped command (`ai-platform deploi`). On a terminal @oclif/plugin-not-found asks "Did you mean
// deploy?" and runs it on yes; without one (a pipe, CI=true) that plugin names no command, so the
// closest one is named here, as a user error with the shell's status for an unknown command (127).
import { toConfiguredId, type Hook } from '@oclif/core'
import { processTerminal } from './confirm.js'

const hook: Hook.CommandNotFound = async function (options) {
  if (processTerminal().interactive) {
    const { default: ask } = await import('@oclif/plugin-not-found')
    return ask.call(this, options)
  }
  // With a space as topic separator oclif joins the arguments into the id (`deploi all` is deploi:all):
  // the command typed is its first word, and the next ones while they name a topic (`models pul`).
  const words = options.id.split(':')
  let length = 1
  while (length < words.length && options.config.findTopic(words.slice(0, length).join(':'))) length++
  const id = words.slice(0, length).join(':')
  const visible = [
    ...options.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]),
    ...options.config.topics.map((t) => t.name),
  ]
  const typed = toConfiguredId(id, options.config)
  const closest = closestCommand(id, visible)
  const guess = closest === null ? '' : `did you mean ${toConfiguredId(closest, options.config)}? `
  process.stderr.write(
    `error: ${typed} is not an ${options.config.bin} command\nhint: ${guess}\`${options.config.bin} help\` lists every command.\n`,
  )
  process.exitCode = 127
  return undefined
}
export default hook

/**
 * The command id fewest single-character edits away from `typed` (the first of equals, in `ids` order),
 * when it is near enough to be a typo: at most a third of its characters changed, or two.
 */
function closestCommand(typed: string, ids: readonly string[]): string | null {
  let best: { id: string; distance: number } | null = null
  for (const id of ids) {
    const distance = editDistance(typed, id)
    if (best === null || distance < best.distance) best = { id, distance }
  }
  return best !== null && best.distance <= Math.max(2, Math.floor(typed.length / 3)) ? best.id : null
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++)
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)))
    previous = row
  }
  return previous[b.length]!
}
