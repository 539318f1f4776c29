import { Args, Flags } from '@oclif/core'

export const targetArgs = {
  targets: Args.string({ description: 'Hosts to act on: host names, @tag, or all (default all).', required: false }),
}

export const targetFlags = {
  phase: Flags.string({ description: 'Only hosts that run services of this phase.', options: ['infra', 'ai', 'monitor'] }),
  'with-deps': Flags.boolean({ description: 'Also include the hosts the targets depend on, transitively.', default: false }),
}

/** How long a read-only command waits for each host: its connection, and each answer it needs. */
export const timeoutFlag = (defaultS = 30) => ({
  timeout: Flags.integer({ description: 'Seconds each connection and each answer from a host may take.', default: defaultS, min: 1, helpValue: 'SECONDS' }),
})
