// The connector's connections: a failed one is reported and tried again on the next get(); closeAll()
// abandons handshakes still in flight. The "sshds" are loopback sockets: one counts connections and
// resets each (a handshake that fails at once), one accepts and never answers.
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openProject } from '../../../src/config/open.js'
import { connector } from '../../../src/remote/connect.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'

let server: Server
let silent: Server
let port = 0
let silentPort = 0
let accepted = 0
let silentAccepted = 0
let dir = ''

beforeAll(async () => {
  server = createServer((socket) => {
    accepted++
    // A reset, as an sshd over its MaxStartups answers: ssh2 then reports two errors in a row.
    socket.once('data', () => socket.resetAndDestroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  // Accepts and never says a word: a handshake that would hang until its ready timeout.
  silent = createServer(() => {
    silentAccepted++
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  silentPort = (silent.address() as { port: number }).port
  dir = await projectFrom(MINIMAL, {
    'inventory/hosts.yaml': (text) =>
      text
        .replace('address: 10.0.0.3', `address: 127.0.0.1\n    ssh: { port: ${port}, known_hosts: known_hosts }`)
        .replace('address: 10.0.0.2', `address: 127.0.0.1\n    ssh: { port: ${silentPort}, known_hosts: known_hosts }`),
  })
})
afterAll(async () => {
  server.close()
  silent.close()
  await removeProject(dir)
})

describe('connector', () => {
  it('reports a failed connection, and tries again on the next get()', async () => {
    const { project } = await openProject(dir)
    const connections = connector(project, { attempts: 1, readyTimeoutMs: 5000 })
    try {
      await expect(connections.get('gamma')).rejects.toThrow(/^gamma: /)
      expect(accepted).toBe(1)
      await expect(connections.get('gamma')).rejects.toThrow(/^gamma: /)
      expect(accepted).toBe(2)
    } finally {
      await connections.closeAll()
    }
  })

  it('closeAll() abandons a handshake still in flight instead of waiting out its timeout and retries', async () => {
    const { project } = await openProject(dir)
    // A minute to answer, three attempts: were closeAll() to wait for them, this test would time out.
    const connections = connector(project, { attempts: 3, readyTimeoutMs: 60_000 })
    const pending = connections.get('beta')
    await expect.poll(() => silentAccepted).toBe(1)
    await connections.closeAll()
    await expect(pending).rejects.toThrow(/^beta: connection abandoned/)
    expect(silentAccepted).toBe(1)
  }, 10_000)
})
