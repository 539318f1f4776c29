// The connector's warm(): connections start early, and one that fails is reported once, without a
// second attempt behind the caller's back. The "sshd" is a loopback socket that counts connections
// and hangs up on each (an SSH handshake that fails at once).
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
let dir = ''

beforeAll(async () => {
  server = createServer((socket) => {
    accepted++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  // Accepts and never says a word: a handshake that would hang until its ready timeout.
  silent = createServer(() => undefined)
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
  silent.closeAllConnections?.()
  await removeProject(dir)
})

describe('connector.warm', () => {
  it('connects before the first get(), which gets that attempt and its failure; a later get() tries again', async () => {
    const { project } = await openProject(dir)
    const connections = connector(project, { attempts: 1, readyTimeoutMs: 5000 })
    try {
      connections.warm(['gamma', 'no-such-host'])
      await expect.poll(() => accepted).toBe(1)
      await expect(connections.get('gamma')).rejects.toThrow(/gamma/)
      expect(accepted).toBe(1)
      await expect(connections.get('gamma')).rejects.toThrow(/gamma/)
      expect(accepted).toBe(2)
    } finally {
      await connections.closeAll()
    }
  })

  it('closeAll() abandons a handshake still in flight instead of waiting out its timeout', async () => {
    const { project } = await openProject(dir)
    // A minute to answer: were closeAll() to wait for it, this test would time out.
    const connections = connector(project, { attempts: 3, readyTimeoutMs: 60_000 })
    connections.warm(['beta'])
    await new Promise((resolve) => setTimeout(resolve, 200))
    await connections.closeAll()
  }, 10_000)
})
