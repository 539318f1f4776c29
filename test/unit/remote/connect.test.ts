// The connector's warm(): connections start early, and one that fails is reported once, without a
// second attempt behind the caller's back. The "sshd" is a loopback socket that counts connections
// and hangs up on each (an SSH handshake that fails at once).
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openProject } from '../../../src/config/open.js'
import { connector } from '../../../src/remote/connect.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'

let server: Server
let port = 0
let accepted = 0
let dir = ''

beforeAll(async () => {
  server = createServer((socket) => {
    accepted++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  dir = await projectFrom(MINIMAL, {
    'inventory/hosts.yaml': (text) => text.replace('address: 10.0.0.3', `address: 127.0.0.1\n    ssh: { port: ${port}, known_hosts: known_hosts }`),
  })
})
afterAll(async () => {
  server.close()
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
})
