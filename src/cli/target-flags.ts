import { Args, Flags } from '@oclif/core'

/**
 * The help group of the flags that mean the same on every command that has them (--project, --verbose,
 * --accept-new, --yes, --timeout): help lists them apart, under oclif's own GLOBAL FLAGS with --json.
 */
export const GLOBAL = 'GLOBAL'

export const targetArgs = {
  targets: Args.string({ description: 'Hosts to act on: host names, @tag, or all (default all).', required: false }),
}

export const targetFlags = {
  phase: Flags.string({
    description: 'Only hosts that run services of this phase.',
    options: ['infra', 'ai', 'monitor'],
  }),
  'with-deps': Flags.boolean({
    description: 'Also include the hosts the targets depend on, transitively.',
    default: false,
  }),
}

/** How long a read-only command waits for each host: its connection, and each answer it needs. */
export const timeoutFlag = (defaultS = 30) => ({
  timeout: Flags.integer({
    description: 'Seconds each connection and each answer from a host may take.',
    default: defaultS,
    min: 1,
    helpValue: 'SECONDS',
    helpGroup: GLOBAL,
  }),
})

/**
 * For every command that connects to hosts: one definition, so that the advice of every host-key
 * refusal ("run again with --accept-new") works wherever it is given.
 */
export const acceptNewFlag = {
  'accept-new': Flags.boolean({
    description:
      'Record the key of a host seen for the first time in known_hosts, as ssh -o StrictHostKeyChecking=accept-new does; a changed key is always refused.',
    env: 'AIP_ACCEPT_NEW',
    default: false,
    helpGroup: GLOBAL,
  }),
}

/** For every command that may change more than one host (and restore, which always asks). */
export const yesFlag = {
  yes: Flags.boolean({
    char: 'y',
    description: 'Answer yes to the confirmation this command asks for (needed without a terminal, or with CI=true).',
    default: false,
    helpGroup: GLOBAL,
  }),
}
