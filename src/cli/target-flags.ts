import { Args, Flags } from '@oclif/core'

export const targetArgs = {
  targets: Args.string({ description: 'Hosts to act on: host names, @tag, or all (default all).', required: false }),
}

export const targetFlags = {
  phase: Flags.string({ description: 'Only hosts that run services of this phase.', options: ['infra', 'ai', 'monitor'] }),
  'with-deps': Flags.boolean({ description: 'Also include the hosts the targets depend on, transitively.', default: false }),
}
