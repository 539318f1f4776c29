import { describe, expect, it } from 'vitest'
import { RemoteError } from '../../src/errors.js'

describe('RemoteError', () => {
  it('by default says the host, what ran, how it ended and the last 12 lines it printed', () => {
    const stderr = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n')
    const error = new RemoteError({
      host: 'gpu1',
      argv: ['docker', 'compose', 'up'],
      exitCode: 3,
      stderr: `${stderr}\n\n`,
    })
    expect(error.message).toBe(`gpu1: \`docker compose up\` exited with 3:\n${stderr.split('\n').slice(3).join('\n')}`)
    expect([error.host, error.argv, error.exitCode, error.stderrTail.split('\n').length]).toEqual([
      'gpu1',
      ['docker', 'compose', 'up'],
      3,
      12,
    ])
  })

  it('a command that ended without a status and printed nothing', () => {
    expect(new RemoteError({ host: 'gpu1', argv: ['true'] }).message).toBe('gpu1: `true` exited with a signal')
  })

  it('a message of its own; what was not given is empty', () => {
    const error = new RemoteError({ host: 'gpu1', message: 'gpu1: the SSH connection is closed' })
    expect([error.message, error.argv, error.exitCode, error.stderrTail]).toEqual([
      'gpu1: the SSH connection is closed',
      [],
      null,
      '',
    ])
  })
})
