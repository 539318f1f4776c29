// The CLI's commands as the build lists them (oclif.manifest.json, written by tools/postbuild.mjs), for
// the tests that must cover every command that connects to hosts: a command added later is covered by
// them, or fails them, without anyone remembering to add it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from './project.js'

/**
 * The commands that read or write the platform's files and never connect to a host. oclif's own
 * (help, autocomplete) come from its plugins: they are not in the CLI's manifest.
 */
export const NOT_CONNECTING: readonly string[] = ['init', 'plan', 'render', 'secrets init', 'validate']

export interface BuiltCommand {
  /** As typed: `lock status`. */
  id: string
  flags: string[]
}

/** Every command of the built CLI, with its flags. */
export function builtCommands(): BuiltCommand[] {
  const manifest = JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { flags: Record<string, unknown> }>
  }
  return Object.entries(manifest.commands)
    .map(([id, command]) => ({ id: id.replaceAll(':', ' '), flags: Object.keys(command.flags) }))
    .sort((a, b) => a.id.localeCompare(b.id))
}

/** The command an invocation runs: the longest command id its first words spell (`backup list`, not `backup`). */
export function commandOf(args: readonly string[], commands = builtCommands()): string | undefined {
  return commands
    .map((c) => c.id)
    .filter((id) => id.split(' ').every((word, i) => args[i] === word))
    .sort((a, b) => b.length - a.length)[0]
}

/**
 * What a test's invocations of the commands that connect leave out: every command of the CLI must be
 * invoked there or be listed in NOT_CONNECTING, and one that connects must take --accept-new, since
 * every host-key refusal tells the operator to pass it. Empty when nothing is left out.
 */
export function uncovered(invocations: readonly (readonly string[])[]): string[] {
  const commands = builtCommands()
  const invoked = new Set(invocations.map((args) => commandOf(args, commands)))
  const problems: string[] = []
  for (const { id, flags } of commands) {
    const connects = invoked.has(id)
    const listed = NOT_CONNECTING.includes(id)
    if (!connects && !listed)
      problems.push(`${id}: neither invoked here as a command that connects nor listed in NOT_CONNECTING`)
    if (connects && listed)
      problems.push(`${id}: invoked here as a command that connects, yet listed in NOT_CONNECTING`)
    if (connects && !flags.includes('accept-new')) problems.push(`${id}: connects to hosts but has no --accept-new`)
    if (listed && flags.includes('accept-new'))
      problems.push(`${id}: listed in NOT_CONNECTING but takes --accept-new (so it connects)`)
  }
  for (const args of invocations)
    if (commandOf(args, commands) === undefined) problems.push(`${args.join(' ')}: no command of the CLI`)
  for (const id of NOT_CONNECTING)
    if (!commands.some((c) => c.id === id)) problems.push(`${id}: in NOT_CONNECTING but no command of the CLI`)
  return problems
}
