// Every wait on a host ends: the deadline helper, and the SSH connector against an SSH server that
// takes the connection and then never confirms a channel or a tunnel (ssh2's own server, as the peer
// that misbehaves in the way a frozen sshd would), or floods a command's output.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ssh2, { type Connection, type ServerChannel } from 'ssh2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listProject, parseContainerList } from '../../../src/deploy/containers.js'
import { isDockerStream, SshPool, type SshConnection } from '../../../src/remote/ssh.js'
import { withDeadline } from '../../../src/util/deadline.js'

describe('withDeadline', () => {
  it('settles with the work when it is in time', async () => {
    await expect(withDeadline('h', 'thing', 1000, async () => 42)).resolves.toBe(42)
    await expect(withDeadline('h', 'thing', 1000, async () => Promise.reject(new Error('own error')))).rejects.toThrow(
      'own error',
    )
  })

  it('fails at its deadline even when the work never notices its signal, and aborts that signal', async () => {
    let seen: AbortSignal | null = null
    const started = Date.now()
    await expect(
      withDeadline(
        'erebus',
        'the Docker API (list containers)',
        200,
        (signal) => ((seen = signal), new Promise(() => undefined)),
      ),
    ).rejects.toThrow('erebus: the Docker API (list containers): no answer within 0.2 s')
    expect(Date.now() - started).toBeLessThan(1000)
    expect(seen!.aborted).toBe(true)
  })

  it("the caller's signal ends it sooner", async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    await expect(
      withDeadline('erebus', 'logs', 60_000, () => new Promise(() => undefined), controller.signal),
    ).rejects.toThrow('erebus: logs was interrupted')
  })
})

describe('Docker API answers', () => {
  it.each([
    ['GET', '/v1.41/containers/json?all=true', false],
    ['GET', '/images/aip%2Fx/json', false],
    ['GET', '/containers/abc/logs?stdout=true&tail=15', true],
    ['GET', '/v1.41/events?since=1', true],
    ['GET', '/containers/abc/stats?stream=false', false],
    ['GET', '/containers/abc/stats', true],
    ['GET', '/containers/abc/logs?follow=true&stdout=true', true],
    ['POST', '/images/create?fromImage=x&tag=1', true],
    ['POST', '/exec/abc/start', true],
    ['POST', '/containers/abc/exec', false],
    ['POST', '/v1.41/build?t=reg%3A5000%2Fx%3Asrc-1&dockerfile=Dockerfile', true],
    ['POST', '/images/reg%3A5000%2Fx/push?tag=src-1', true],
    ['GET', '/images/reg%3A5000%2Fx/json', false],
    ['POST', '/builds', false],
  ])('%s %s is a stream: %s', (method, path, stream) => {
    expect(isDockerStream(method, path)).toBe(stream)
  })

  it('a container list of the wrong shape is refused, saying what was wrong', () => {
    const good = {
      Id: 'a'.repeat(64),
      Names: ['/p-db-1'],
      Image: 'x',
      State: 'running',
      Status: 'Up 1 second',
      Created: 1,
      Labels: { 'com.docker.compose.service': 'db' },
    }
    expect(parseContainerList([good], 'erebus')).toMatchObject([{ service: 'db', name: 'p-db-1', state: 'running' }])
    const hashed = { ...good, Labels: { ...good.Labels, 'com.docker.compose.config-hash': 'f'.repeat(64) } }
    expect(parseContainerList([hashed, good], 'erebus').map((c) => c.configHash)).toEqual(['f'.repeat(64), ''])
    for (const [list, detail] of [
      [{ containers: [] }, 'not a list'],
      [[null], 'entry 0 is not an object'],
      [[{ ...good, Names: '/x' }], 'entry 0: Names'],
      [[{ ...good, Id: '../x' }], 'entry 0: Id'],
      [[{ ...good, Labels: { 'com.docker.compose.service': 5 } }], 'entry 0: Labels'],
      [[good, { ...good, Created: '1' }], 'entry 1: Created'],
      [[{ ...good, State: { x: 1 } }], 'entry 0: State'],
    ] as const) {
      expect(() => parseContainerList(list, 'erebus')).toThrow(
        `erebus: the Docker API's container list is not what Docker sends (${detail})`,
      )
    }
  })
})

/** One connection of its own (a pool each) to the peer on 127.0.0.1:port, its key and known_hosts in dir. */
function connectPeer(port: number, dir: string): Promise<SshConnection> {
  return new SshPool({ attempts: 1 }).connect({
    name: 'peer',
    alias: '127.0.0.1',
    hostname: '127.0.0.1',
    port,
    user: 'deploy',
    identityFiles: [join(dir, 'id')],
    knownHostsFiles: [join(dir, 'known_hosts')],
    proxyJump: null,
  })
}

describe('the SSH connector against a peer that stops answering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aip-deadlines-'))
  let server: ssh2.Server
  let port = 0
  let mode: 'silent' | 'flood' = 'silent'
  let connection: SshConnection
  const opened: SshConnection[] = []

  beforeAll(async () => {
    const hostKey = ssh2.utils.generateKeyPairSync('ed25519')
    const clientKey = ssh2.utils.generateKeyPairSync('ed25519')
    writeFileSync(join(dir, 'id'), clientKey.private, { mode: 0o600 })
    server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client: Connection) => {
      client.on('authentication', (ctx) => ctx.accept())
      client.on('error', () => undefined)
      client.on('session', (accept) => {
        if (mode === 'silent') return // never confirmed, never refused
        const session = accept()
        session.on('exec', (acceptExec) => {
          const stream = acceptExec()
          const chunk = Buffer.alloc(64 * 1024, 'x')
          let sent = 0
          const pump = (): void => {
            while (sent < 4 * 1024 * 1024) {
              sent += chunk.length
              if (!stream.write(chunk)) return void stream.once('drain', pump)
            }
            stream.exit(0)
            stream.end()
          }
          pump()
        })
      })
      client.on('tcpip', () => undefined) // a tunnel request, never answered
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}\n`)
    connection = await freshConnection()
  })
  // a pool per connection: the one above keeps its channel places held by the silent tests
  const freshConnection = async () => {
    const fresh = await connectPeer(port, dir)
    opened.push(fresh)
    return fresh
  }
  afterAll(async () => {
    for (const c of opened) c.close()
    server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a channel the server never confirms fails the command by its timeout', async () => {
    mode = 'silent'
    const started = Date.now()
    await expect(connection.run(['true'], { timeoutMs: 300 })).rejects.toThrow(
      'peer: the SSH server did not open a channel within 0.3 s',
    )
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    await expect(connection.run(['true'], { timeoutMs: 60_000, signal: controller.signal })).rejects.toThrow(
      'peer: interrupted while opening an SSH channel',
    )
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('a host that holds every channel place: the next command fails by its deadline, not waiting for a place forever', async () => {
    mode = 'silent'
    // eight channels the server never confirms keep their places (a late confirmation must still be closed)
    await Promise.all(
      Array.from({ length: 8 }, () => connection.run(['true'], { timeoutMs: 200 }).catch(() => undefined)),
    )
    const started = Date.now()
    await expect(connection.run(['true'], { timeoutMs: 300 })).rejects.toThrow(
      'peer: no SSH channel came free within 0.3 s (the host holds them all)',
    )
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('a tunnel the server never opens fails by its timeout', async () => {
    await expect(connection.forward(8080, '127.0.0.1', { timeoutMs: 300 })).rejects.toThrow(
      'peer: cannot reach 127.0.0.1:8080 through SSH: no answer within 0.3 s',
    )
  })

  it('output past the bound stops the command with a message, not the process', async () => {
    mode = 'flood'
    connection = await freshConnection()
    await expect(connection.run(['cat', '/dev/zero'], { maxOutputBytes: 1024 * 1024 })).rejects.toThrow(
      'peer: `cat /dev/zero` printed more than 1 MiB; stopped reading it',
    )
    // a streaming caller keeps nothing, so nothing bounds it
    let seen = 0
    const result = await connection.run(['cat', 'big'], {
      keepOutput: false,
      maxOutputBytes: 1024 * 1024,
      onStdout: (t) => (seen += t.length),
    })
    expect(seen).toBe(4 * 1024 * 1024)
    expect(result.stdout).toBe('')
  })
})

describe("the Docker API over dial-stdio channels: a request given up on does not keep the agent's socket", () => {
  const dir = mkdtempSync(join(tmpdir(), 'aip-dial-stdio-'))
  let server: ssh2.Server
  let connection: SshConnection
  /** dial-stdio channels the peer opens and never answers, before it answers every request with []. */
  let silent = 0
  /** dial-stdio channels the peer confirms late (after the client's deadline). */
  let slow = 0

  beforeAll(async () => {
    const hostKey = ssh2.utils.generateKeyPairSync('ed25519')
    const clientKey = ssh2.utils.generateKeyPairSync('ed25519')
    writeFileSync(join(dir, 'id'), clientKey.private, { mode: 0o600 })
    /** An engine that answers each request on the connection, kept alive as dockerd does. */
    const engine = (stream: ServerChannel): void => {
      let pending = ''
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1')
        while (pending.includes('\r\n\r\n')) {
          pending = pending.slice(pending.indexOf('\r\n\r\n') + 4)
          stream.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]')
        }
      })
    }
    server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client: Connection) => {
      client.on('authentication', (ctx) => ctx.accept())
      client.on('error', () => undefined)
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          if (info.command !== 'docker system dial-stdio') return
          if (slow > 0) {
            // confirmed only after the client gave its request up, then answering
            slow--
            return void setTimeout(() => engine(acceptExec()), 600)
          }
          const stream = acceptExec()
          if (silent > 0) return void silent-- // takes the request, never answers
          engine(stream)
        })
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}\n`)
    connect = async () => {
      connection?.close()
      connection = await connectPeer(port, dir)
    }
  })
  /** A new connection: no socket of an earlier test's agent. */
  let connect: () => Promise<void>
  afterAll(() => {
    connection?.close()
    server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('more lists given up on than the agent has sockets, then an engine that answers: the next list is answered', async () => {
    await connect()
    const exec = { host: 'peer', docker: () => connection.docker() }
    silent = 5
    for (let i = 0; i < 5; i++)
      await expect(listProject(exec, 'p', { timeoutMs: 300 })).rejects.toThrow(
        'peer: the Docker API (list containers): no answer within 0.3 s',
      )
    // each given-up request's channel is gone, and its socket with it: the agent is free again
    await expect(listProject(exec, 'p', { timeoutMs: 5000 })).resolves.toEqual([])
    await expect(listProject(exec, 'p', { timeoutMs: 5000 })).resolves.toEqual([])
  })

  it('channels confirmed only after their requests were given up (a loaded sshd): the next list is still answered', async () => {
    await connect()
    const exec = { host: 'peer', docker: () => connection.docker() }
    slow = 5
    await Promise.all(
      Array.from({ length: 5 }, () =>
        expect(listProject(exec, 'p', { timeoutMs: 300 })).rejects.toThrow('no answer within 0.3 s'),
      ),
    )
    await new Promise((resolve) => setTimeout(resolve, 1500)) // the late channels have come
    await expect(listProject(exec, 'p', { timeoutMs: 5000 })).resolves.toEqual([])
  })
})
