// A run that would change more than one host asks first; without a terminal it needs --yes.
import { describe, expect, it } from 'vitest'
import { confirmChanges, needsConfirmation, type Terminal } from '../../../src/cli/confirm.js'
import { UserError } from '../../../src/errors.js'

function terminal(interactive: boolean, answer = 'y'): Terminal & { asked: string[] } {
  const asked: string[] = []
  return {
    interactive,
    asked,
    async ask(question) {
      asked.push(question)
      return answer
    },
  }
}

const change = { action: 'Deploy 3 hosts of platform mini in 2 waves', hosts: ['alpha', 'beta', 'gamma'] }

describe('confirmation before changing hosts', () => {
  it('is needed for more than one distinct host, whatever words chose them', () => {
    expect(needsConfirmation([])).toBe(false)
    expect(needsConfirmation(['gamma'])).toBe(false)
    expect(needsConfirmation(['gamma', 'gamma'])).toBe(false)
    expect(needsConfirmation(['alpha', 'gamma'])).toBe(true)
  })

  it('one host: nothing is asked, with or without a terminal', async () => {
    for (const t of [terminal(true, 'n'), terminal(false)]) {
      await confirmChanges('deploy', false, t)({ action: 'Deploy 1 hosts', hosts: ['gamma'] })
      expect(t.asked).toEqual([])
    }
  })

  it('more than one on a terminal: asks, naming the hosts; only y or yes goes on', async () => {
    const yes = terminal(true, ' Yes ')
    await confirmChanges('deploy', false, yes)(change)
    expect(yes.asked).toEqual(['Deploy 3 hosts of platform mini in 2 waves: alpha, beta, gamma? [y/N] '])
    for (const answer of ['', 'n', 'no', 'yep']) {
      await expect(confirmChanges('deploy', false, terminal(true, answer))(change)).rejects.toThrow(
        new UserError('cancelled'),
      )
    }
  })

  it('more than one without a terminal: refused, naming the command, the hosts and --yes', async () => {
    const none = terminal(false)
    const refused = await confirmChanges(
      'lock release',
      false,
      none,
    )({ action: 'Remove the deploy lock on', hosts: ['alpha', 'beta'] }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(UserError)
    expect((refused as UserError).message).toBe(
      'lock release would change 2 hosts (alpha, beta), and no terminal is attached to confirm it on',
    )
    expect((refused as UserError).hint).toBe(
      'Run again with --yes to confirm without a prompt (a pipe, or CI=true, has no terminal to ask on).',
    )
    expect(none.asked).toEqual([])
  })

  it('--yes answers for any number of hosts, asking nothing', async () => {
    for (const t of [terminal(true, 'n'), terminal(false)]) {
      await confirmChanges('deploy', true, t)(change)
      expect(t.asked).toEqual([])
    }
  })

  it('a long list is cut to ten names', async () => {
    const t = terminal(true)
    const hosts = Array.from({ length: 100 }, (_, i) => `h${i}`)
    await confirmChanges('deploy', false, t)({ action: 'Deploy 100 hosts', hosts })
    expect(t.asked).toEqual(['Deploy 100 hosts: h0, h1, h2, h3, h4, h5, h6, h7, h8 and 91 more? [y/N] '])
  })
})
