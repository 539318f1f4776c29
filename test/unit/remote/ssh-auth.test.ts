// How a run logs in, through the connector as commands use it: the SSH configuration read by the real
// `ssh -G` (once per address for the run) or, where no ssh is installed, by the ssh-config library; the
// agent it names tried before the identity files, none with IdentitiesOnly; and a refusal that names
// the user certificates ssh would have offered and ssh2 cannot. The host is ssh2's own server, which
// records the keys offered; the agent a real ssh-agent.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ssh2, { type Connection } from 'ssh2'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { openProject } from '../../../src/config/open.js'
import type { Project } from '../../../src/config/model.js'
import { connector } from '../../../src/remote/connect.js'
import { sshClientInstalled } from '../../../src/remote/ssh-config.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'

const dir = mkdtempSync(join(tmpdir(), 'aip-ssh-auth-'))
const keygen = (...args: string[]) => execFileSync('ssh-keygen', ['-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
/** A key pair made by ssh-keygen; its public key blob, as the server sees it offered. */
const key = (name: string): string => {
  keygen('-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name))
  return readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ')[1]!
}
const agentKey = key('id_agent')
const fileKey = key('id_file')
const certifiedKey = key('id_certified')
const otherKey = key('id_other')
keygen('-t', 'ed25519', '-N', '', '-f', join(dir, 'user_ca'))
keygen('-s', join(dir, 'user_ca'), '-I', 'deploy', '-n', 'deploy', join(dir, 'id_certified.pub'))
const certificate = join(dir, 'id_certified-cert.pub')

let server: ssh2.Server
let port = 0
let agent: ChildProcess
let project: Project
/** The keys offered, in order: each once (a query and its signature are one offer). */
const offered: string[] = []
const realSsh = execFileSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim()

beforeAll(async () => {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519')
  // accepts the file key only: the agent's and the certified one are refused
  server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client: Connection) => {
    client.on('error', () => undefined)
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey'])
      const blob = ctx.key.data.toString('base64')
      if (offered.at(-1) !== blob) offered.push(blob)
      return blob === fileKey ? ctx.accept() : ctx.reject(['publickey'])
    })
    client.on('ready', () => client.end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}\n`)

  // the agent holds the agent key only, at the socket the configuration names (%r: the user)
  const socket = join(dir, 'agent_deploy.sock')
  agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' })
  await vi.waitFor(() => expect(existsSync(socket)).toBe(true), { timeout: 10_000 })
  execFileSync('ssh-add', ['-q', join(dir, 'id_agent')], { env: { ...process.env, SSH_AUTH_SOCK: socket } })

  const common = ['  HostName 127.0.0.1', `  Port ${port}`, '  User deploy', `  UserKnownHostsFile ${dir}/known_hosts`]
  writeFileSync(
    join(dir, 'config'),
    [
      'Host agent-first',
      ...common,
      `  IdentityAgent ${dir}/agent_%r.sock`,
      `  IdentityFile ${dir}/id_file`,
      'Host files-only',
      ...common,
      '  IdentitiesOnly yes',
      `  IdentityAgent ${dir}/agent_%r.sock`,
      `  IdentityFile ${dir}/id_file`,
      'Host certified',
      ...common,
      '  IdentityAgent none',
      `  IdentityFile ${dir}/id_certified`,
      `  CertificateFile ${certificate}`,
      'Host uncertified',
      ...common,
      '  IdentityAgent none',
      // a plain key the host refuses, with no certificate beside it
      `  IdentityFile ${dir}/id_other`,
      // through a hop that refuses connections: the host is resolved, never reached
      'Host behind-*',
      '  ProxyJump jump',
      'Host jump',
      '  HostName 127.0.0.1',
      '  Port 1',
      '',
    ].join('\n'),
  )
  const hosts = `hosts:
  alpha: { address: agent-first, tags: [gpu, db], hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 12 } } }
  beta: { address: files-only }
  gamma: { address: certified }
  delta: { address: uncertified }
  one: { address: behind-one }
  two: { address: behind-two }
`
  const platform = await projectFrom(MINIMAL, { 'inventory/hosts.yaml': hosts })
  project = (await openProject(platform)).project
})
afterAll(async () => {
  agent?.kill()
  server?.close()
  if (project) await removeProject(project.dir)
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  offered.length = 0
  vi.stubEnv('AIP_SSH_CONFIG', join(dir, 'config'))
  vi.stubEnv('AIP_KNOWN_HOSTS', undefined)
  // an agent in the environment: IdentitiesOnly and IdentityAgent none keep it out
  vi.stubEnv('SSH_AUTH_SOCK', join(dir, 'agent_deploy.sock'))
})
afterEach(() => vi.unstubAllEnvs())

/** Logs in to `host` through a connector of its own (one run), and says what the server saw offered. */
async function logIn(host: string): Promise<{ offered: string[]; error?: { message: string; hint?: string } }> {
  offered.length = 0
  const connections = connector(project, { attempts: 1 })
  try {
    await connections.get(host)
    return { offered: [...offered] }
  } catch (error) {
    return {
      offered: [...offered],
      error: { message: (error as Error).message, hint: (error as { hint?: string }).hint },
    }
  } finally {
    await connections.closeAll()
  }
}

const HINT = 'Check the user and identity_file in the inventory or ~/.ssh/config, or load the key into ssh-agent.'

describe('logging in as the SSH configuration says', () => {
  it('the agent IdentityAgent names is tried first, then the identity files; IdentitiesOnly yes: the files only', async () => {
    // no agent in the environment: the one offered is the configuration's
    vi.stubEnv('SSH_AUTH_SOCK', undefined)
    expect(await logIn('alpha')).toEqual({ offered: [agentKey, fileKey] })
    expect(await logIn('beta')).toEqual({ offered: [fileKey] })
  })

  it('refused where ssh would also offer a user certificate (CertificateFile): the hint says ai-platform cannot, and what to do', async () => {
    expect(await logIn('gamma')).toEqual({
      offered: [certifiedKey],
      error: {
        message: `gamma: SSH authentication failed for deploy@127.0.0.1:${port} (tried ${dir}/id_certified)`,
        hint: `${HINT} ssh would also offer the user certificate ${certificate} (CertificateFile): ai-platform cannot offer user certificates (ssh2, its SSH client, has no certificate authentication). Authorise a plain key for deploy on the host (in that user's ~/.ssh/authorized_keys) and name it in IdentityFile (or the inventory's ssh.identity_file), or load it into ssh-agent.`,
      },
    })
    // no certificate: nothing said of them; IdentityAgent none: the environment's agent is not asked
    expect(await logIn('delta')).toEqual({
      offered: [otherKey],
      error: {
        message: `delta: SSH authentication failed for deploy@127.0.0.1:${port} (tried ${dir}/id_other)`,
        hint: HINT,
      },
    })
  })

  it('where no ssh client is installed, the ssh-config library reads the configuration, and the logins are the same', async () => {
    const empty = join(dir, 'no-ssh')
    mkdirSync(empty, { recursive: true })
    vi.stubEnv('PATH', empty)
    expect(await sshClientInstalled()).toBe(false)
    expect(await logIn('alpha')).toEqual({ offered: [agentKey, fileKey] })
    expect(await logIn('beta')).toEqual({ offered: [fileKey] })
    expect((await logIn('gamma')).error?.hint).toContain(
      `ssh would also offer the user certificate ${certificate} (CertificateFile): ai-platform cannot offer user certificates`,
    )
  })
})

describe('ssh -G in a run', () => {
  it('runs once per address and jump hop, whatever hosts and retries share it; the next run asks again', async () => {
    // an ssh that logs its arguments first on the PATH, the real one doing the work
    const bin = join(dir, 'bin')
    const log = join(dir, 'ssh.log')
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${realSsh}' "$@"\n`, { mode: 0o755 })
    vi.stubEnv('PATH', `${bin}:${process.env.PATH}`)
    /** The address of each `ssh -G [-F FILE] -- ADDRESS` so far. */
    const probed = () =>
      (existsSync(log) ? readFileSync(log, 'utf8') : '')
        .split('\n')
        .filter((line) => line.startsWith('-G '))
        .map((line) => line.split(' ').at(-1))
    const run = connector(project, { attempts: 1 })
    try {
      // two hosts at once behind one hop, each refused there (it refuses connections)
      const both = await Promise.allSettled([run.get('one'), run.get('two')])
      expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected'])
      // a failed connection is opened again on the next get(): its settings are not read again
      await expect(run.get('one')).rejects.toThrow()
      await run.get('alpha')
      await run.get('alpha')
      expect(probed().sort()).toEqual(['agent-first', 'behind-one', 'behind-two', 'jump'])
    } finally {
      await run.closeAll()
    }
    const next = connector(project, { attempts: 1 })
    try {
      await next.get('alpha')
      expect(probed().filter((address) => address === 'agent-first')).toHaveLength(2)
    } finally {
      await next.closeAll()
    }
  })
})
