// Every command that connects to hosts takes --accept-new (and AIP_ACCEPT_NEW=1), since every host-key
// refusal tells the user to pass it. alpha is an SSH server of ssh2's own, on this machine, whose key no
// known_hosts holds: each command records it with the flag, and is refused without it. Which commands
// connect comes from the built CLI's manifest: one added without an invocation here fails the first test.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ssh2, { type Connection } from 'ssh2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { commandOf, uncovered } from '../helpers/commands.js'
import { MINIMAL, projectFrom } from '../helpers/project.js'

let scratch = ''
let dir = ''
let server: ssh2.Server
let port = 0
let hostKey = ''
const knownHosts = () => join(scratch, 'known_hosts')
/** The keys a known_hosts file holds (its host names are hashed, as OpenSSH's HashKnownHosts writes them). */
const recordedKeys = async (file = knownHosts()) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ').slice(1).join(' '))

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'aip-accept-new-'))
  const host = ssh2.utils.generateKeyPairSync('ed25519')
  const client = ssh2.utils.generateKeyPairSync('ed25519')
  hostKey = host.public.split(' ').slice(0, 2).join(' ')
  await writeFile(join(scratch, 'id'), client.private, { mode: 0o600 })
  // an empty ssh_config of its own: nothing of this machine's ~/.ssh/config applies
  await writeFile(join(scratch, 'ssh_config'), '')
  // Takes any client and fails every command: a command gets past the handshake, then fails as it will.
  server = new ssh2.Server({ hostKeys: [host.private] }, (conn: Connection) => {
    conn.on('authentication', (ctx) => ctx.accept())
    conn.on('error', () => undefined)
    conn.on('tcpip', (_accept, reject) => reject())
    conn.on('session', (accept) => {
      accept().on('exec', (acceptExec) => {
        const stream = acceptExec()
        stream.stderr.write('peer: no such command\n')
        stream.exit(1)
        stream.end()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  const hosts = `hosts:
  alpha:
    address: 127.0.0.1
    ssh: { port: ${port}, user: deploy, identity_file: ${join(scratch, 'id')} }
    tags: [gpu, db]
    hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 12 } }
  beta:
    address: 127.0.0.1
    ssh: { port: 1 }
    tags: [gpu]
    hardware: { gpu: { vendor: amd, count: 2, vram_gb: 24 } }
`
  dir = await projectFrom(MINIMAL, {
    // beta refuses connections: rollback --fleet reads every host
    'inventory/hosts.yaml': hosts,
    'inventory/platform.yaml': (t) =>
      t.replace('  domain: lab.test\n', '  domain: lab.test\n  image_registry: registry.lab.test:5000\n'),
    // for up and down, and images build
    'stacks/lab.yaml': `x-ai-platform:
  placement: { hosts: [alpha] }
  phase: ai
services:
  notebook:
    image: example/notebook:1
    x-ai-platform:
      tier: on-demand
  tool:
    command: ["tool"]
    x-ai-platform:
      build: { context: docker/tool }
      oneshot: true
`,
    'docker/tool/Dockerfile': 'FROM alpine:3.20\n',
    // reached through the SSH connection (a tunnel), so the models commands connect too
    'stacks/ollama.yaml': (t) => t.replace('"11434:11434"', '"127.0.0.1:11434:11434"'),
    'stacks/db.yaml': (t) => t.replace('      health:\n', '      backup: { engine: postgres }\n      health:\n'),
    'secrets.env': 'DB_PASSWORD=db-password-0123\nAPI_KEY=sk-key-0123\n',
  })
  await chmod(join(dir, 'secrets.env'), 0o600)
})
afterAll(async () => {
  server?.close()
  await rm(dir, { recursive: true, force: true })
  await rm(scratch, { recursive: true, force: true })
})

const env = (extra: NodeJS.ProcessEnv = {}) => ({
  XDG_STATE_HOME: join(scratch, 'state'),
  AIP_SSH_CONFIG: join(scratch, 'ssh_config'),
  AIP_KNOWN_HOSTS: knownHosts(),
  SSH_AUTH_SOCK: '',
  AIP_ACCEPT_NEW: '',
  ...extra,
})
/** The command's own words and flags, then --project, then what follows a `--` (exec's remote argv). */
const run = (args: string[], extra: string[] = [], more: NodeJS.ProcessEnv = {}) => {
  const end = args.includes('--') ? args.indexOf('--') : args.length
  return cli([...args.slice(0, end), ...extra, '--project', dir, ...args.slice(end)], { env: env(more) })
}
const connecting: string[][] = [
  ['status', 'alpha', '--timeout', '5'],
  ['health', 'alpha', '--timeout', '2'],
  ['preflight', 'alpha', '--timeout', '5'],
  ['diff', 'alpha'],
  ['audit', 'alpha', '--remote', '--timeout', '5'],
  ['lock', 'status', 'alpha', '--timeout', '5'],
  ['lock', 'release', 'alpha'],
  ['logs', 'alpha'],
  ['exec', 'alpha', '--', 'true'],
  ['deploy', 'alpha', '--health-timeout', '5'],
  ['rollback', 'alpha'],
  ['backup', 'alpha'],
  ['backup', 'list', 'alpha'],
  ['restore', 'alpha', '--from', '20261123T040000Z', '--yes'],
  ['models', 'list', '--on', 'alpha', '--timeout', '2'],
  ['models', 'pull', '--on', 'alpha', '--timeout', '2', '--attempts', '1'],
  ['models', 'rm', 'small', '--on', 'alpha', '--timeout', '2'],
  ['models', 'sync', '--on', 'alpha', '--timeout', '2', '--attempts', '1'],
  ['drift', 'alpha', '--timeout', '5'],
  ['up', 'alpha', 'notebook', '--health-timeout', '5'],
  ['down', 'alpha', 'notebook'],
  ['images', 'build', '--on', 'alpha'],
  ['releases', 'alpha', '--remote', '--timeout', '5'],
  ['rollback', '--fleet', '--dry-run'],
]

describe('--accept-new on every command that connects', () => {
  it('every command of the CLI is invoked here, or listed as one that does not connect', () => {
    expect(uncovered(connecting)).toEqual([])
  })

  it('each records a first-seen host key with --accept-new', async () => {
    // in parallel, each with a known_hosts of its own
    await Promise.all(
      connecting.map(async (args, i) => {
        const file = join(scratch, `known_hosts.${i}`)
        await writeFile(file, '')
        const result = await run(args, ['--accept-new'], { AIP_KNOWN_HOSTS: file })
        const name = args.join(' ')
        expect.soft(result.stderr, name).not.toMatch(/Nonexistent flag|Unexpected argument/)
        expect.soft(`${result.stdout}${result.stderr}`, name).not.toContain('is not known')
        expect.soft(await recordedKeys(file), name).toEqual([hostKey])
      }),
    )
  }, 60_000)

  it('AIP_ACCEPT_NEW=1 does the same; without either, the key is refused and nothing is recorded', async () => {
    await writeFile(knownHosts(), '')
    const refused = await run(['lock', 'status', 'alpha'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain(`alpha: unreachable: the host key of 127.0.0.1:${port} is not known`)
    expect(await recordedKeys()).toEqual([])
    const viaEnv = await run(['status', 'alpha'], [], { AIP_ACCEPT_NEW: '1' })
    expect(`${viaEnv.stdout}${viaEnv.stderr}`).not.toContain('is not known')
    expect(await recordedKeys()).toEqual([hostKey])
  })

  it('a refusal names both ways to accept the key', async () => {
    await writeFile(knownHosts(), '')
    const refused = await run(['exec', 'alpha', '--', 'true'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('hint: Check the fingerprint')
    expect(refused.stderr).toContain('run again with --accept-new (or AIP_ACCEPT_NEW=1)')
  })

  it('--help of each names the flag and its variable', async () => {
    for (const id of new Set(connecting.map((args) => commandOf(args)!))) {
      const help = await cli([...id.split(' '), '--help'])
      expect(help.stdout.replace(/\s+/g, ' '), id).toContain(
        '--accept-new [env: AIP_ACCEPT_NEW] Record the key of a host seen for the first time in known_hosts',
      )
    }
  })
})
