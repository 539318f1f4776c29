// A command ai-platform stops (its deadline passed, or Ctrl-C) is sent TERM through the real sshd
// before its channel is closed, so that a script's trap can clean up: without it, a session without a
// terminal never learns that its client left (a backup went on and renamed its dumps into place).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SshPool, type SshConnection } from '../../../src/remote/ssh.js'
import { HAVE_FLEET, fleetHost, fleetOrEmpty, fleetTarget } from '../fleet/helpers.js'

const fleet = fleetOrEmpty()
const pool = new SshPool({ attempts: 1 })
let connection: SshConnection

// The trap writes a marker and exits; `sleep & wait` lets the shell take the signal at once.
const script = (marker: string) => [
  'sh',
  '-c',
  `rm -f ${marker}; trap 'echo stopped > ${marker}; exit 1' TERM; sleep 30 & wait`,
]
const marker = async (path: string) => {
  for (let i = 0; i < 50; i++) {
    const read = await connection.run(['cat', path], { check: false })
    if (read.code === 0) return read.stdout.trim()
    await new Promise((r) => setTimeout(r, 100))
  }
  return null
}

describe.skipIf(!HAVE_FLEET)('stopping a command on a host', () => {
  beforeAll(async () => {
    connection = await pool.connect(fleetTarget(fleet, fleetHost(fleet, 'erebus')))
  })
  afterAll(async () => {
    await pool.closeAll()
  })

  it('past its deadline: TERM reaches it, and its trap runs', async () => {
    await expect(connection.run(script('/tmp/aip-stop-deadline'), { timeoutMs: 1000 })).rejects.toThrow(
      'did not finish within 1 s',
    )
    expect(await marker('/tmp/aip-stop-deadline')).toBe('stopped')
  })

  it('on Ctrl-C (its abort signal): the same', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 500)
    await expect(connection.run(script('/tmp/aip-stop-abort'), { signal: controller.signal })).rejects.toThrow(
      'was interrupted',
    )
    expect(await marker('/tmp/aip-stop-abort')).toBe('stopped')
  })
})
