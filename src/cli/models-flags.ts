import { Flags } from '@oclif/core'
import { acceptNewFlag, GLOBAL } from './target-flags.js'

export const modelsFlags = {
  on: Flags.string({
    description: 'Only these Ollama nodes: host names, @tag or all (repeatable).',
    multiple: true,
    helpValue: 'HOST|@tag',
  }),
  timeout: Flags.integer({
    description: 'Seconds each API call may take to answer.',
    default: 10,
    min: 1,
    helpValue: 'SECONDS',
    helpGroup: GLOBAL,
  }),
  ...acceptNewFlag,
}
