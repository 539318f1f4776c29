// The CLI against the fleet: a generated test platform, a clean slate on every host, and direct access
// to each host's Docker engine and files (from the machine, not through the CLI) for assertions.
import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { fleetAvailable, loadFleet, type Fleet, type FleetHost } from '../../fleet/fleet.js'
import { generateTestPlatform, MODELS_DIR, type GenerateOptions } from '../platform/generate.js'
import { REPO } from '../../helpers/project.js'

export const HAVE_FLEET = fleetAvailable()

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  json: any
}

export interface TestPlatform {
  fleet: Fleet
  dir: string
  auditLog: string
  env: NodeJS.ProcessEnv
  cli(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliRun>
  edit(path: string, change: (text: string) => string): Promise<void>
  /** Rewrites the platform's files (same secrets): unchanged services keep identical bytes. */
  regenerate(options: GenerateOptions): Promise<void>
  cleanup(): Promise<void>
}

export async function testPlatform(options: GenerateOptions = {}): Promise<TestPlatform> {
  const fleet = loadFleet()
  const dir = await mkdtemp(join(tmpdir(), 'aip-fleet-platform-'))
  await generateTestPlatform(fleet, dir, options)
  await ensureModelStores(fleet)
  const local = fleet.hosts.find((h) => h.name === 'local')
  const auditLog = join(dir, 'audit.jsonl')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    CI: 'true',
    AIP_AUDIT_LOG: auditLog,
    ...(local?.env ?? {}),
  }
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    new Promise<CliRun>((resolve) => {
      // before a `--`: what follows it is the remote command's argv (exec)
      const end = args.includes('--') ? args.indexOf('--') : args.length
      execFile(
        process.execPath,
        [join(REPO, 'bin/run.js'), ...args.slice(0, end), '--project', dir, ...args.slice(end)],
        { env: { ...env, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error
            ? typeof (error as { code?: unknown }).code === 'number'
              ? (error as { code: number }).code
              : 1
            : 0
          let json: unknown = null
          if (args.includes('--json')) {
            try {
              json = JSON.parse(stdout)
            } catch {
              json = null
            }
          }
          resolve({ code, stdout, stderr, json })
        },
      )
    })
  return {
    fleet,
    dir,
    auditLog,
    env,
    cli,
    async edit(path, change) {
      const file = join(dir, path)
      await writeFile(file, change(await readFile(file, 'utf8')))
    },
    async regenerate(next) {
      await generateTestPlatform(fleet, dir, { ...options, ...next })
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The host's own Docker engine, through its socket as seen from the machine. */
export function hostDocker(host: FleetHost): Docker {
  return new Docker({ socketPath: host.outside.dockerSocket })
}

/** Removes the platform's containers and every file under the base directory, keeping the model store. */
export async function resetFleet(fleet: Fleet, project = 'ai-platform', only?: string[]): Promise<void> {
  await Promise.all(
    fleet.hosts
      .filter((h) => !only || only.includes(h.name))
      .map(async (host) => {
        const docker = hostDocker(host)
        const containers = await docker.listContainers({
          all: true,
          filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }),
        })
        await Promise.all(
          containers.map((c) =>
            docker
              .getContainer(c.Id)
              .remove({ force: true })
              .catch(() => undefined),
          ),
        )
        const networks = await docker.listNetworks({
          filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }),
        })
        await Promise.all(
          networks.map((n) =>
            docker
              .getNetwork(n.Id)
              .remove()
              .catch(() => undefined),
          ),
        )
        const base = host.outside.baseDir
        for (const entry of await readdir(base).catch(() => [] as string[])) {
          if (entry !== 'nas') await rm(join(base, entry), { recursive: true, force: true })
        }
      }),
  )
  await ensureModelStores(fleet)
}

/** The "NAS" model store of the test platform lives under each host's base directory (MODELS_DIR). */
async function ensureModelStores(fleet: Fleet): Promise<void> {
  await Promise.all(
    fleet.hosts.map((host) =>
      mkdir(join(host.outside.baseDir, MODELS_DIR.slice('/opt/ai-platform/'.length)), { recursive: true }),
    ),
  )
}

export interface HostState {
  current: string | null
  release: any
  containers: { id: string; service: string; state: string; health: string; created: string; composeVersion: string }[]
  history: any[]
}

/** What a host really runs and records, read from its engine and its disk. */
export async function hostState(host: FleetHost, project = 'ai-platform'): Promise<HostState> {
  const docker = hostDocker(host)
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }),
  })
  const containers = await Promise.all(
    list.map(async (c) => {
      const info = await docker.getContainer(c.Id).inspect()
      return {
        id: c.Id,
        service: c.Labels['com.docker.compose.service'] ?? '',
        state: info.State.Status,
        health: info.State.Health?.Status ?? 'none',
        created: info.Created,
        composeVersion: c.Labels['com.docker.compose.version'] ?? '',
      }
    }),
  )
  const base = host.outside.baseDir
  let current: string | null = null
  let release: any = null
  try {
    current = (await readlink(join(base, 'current'))).replace(/^releases\//, '')
    release = JSON.parse(await readFile(join(base, 'current', 'release.json'), 'utf8'))
  } catch {
    current = null
  }
  const history = (await readFile(join(base, 'history.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
  return { current, release, containers: containers.sort((a, b) => a.service.localeCompare(b.service)), history }
}

/** Deploys the platform (a no-op when the fleet already runs it) and fails loudly if anything did not deploy. */
export async function ensureDeployed(platform: TestPlatform): Promise<void> {
  const run = await platform.cli(['deploy', 'all', '--yes', '--json', '--pull', 'never'])
  if (run.code !== 0) throw new Error(`deploy failed (${run.code}):\n${run.stderr.split('\n').slice(-30).join('\n')}`)
}

/** The first container of a service on a host, by its engine. */
export async function serviceContainer(host: FleetHost, service: string, project = 'ai-platform') {
  const docker = hostDocker(host)
  const [info] = await docker.listContainers({
    all: true,
    filters: JSON.stringify({
      label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`],
    }),
  })
  if (!info) throw new Error(`${host.name} has no container for ${service}`)
  return { docker, info, container: docker.getContainer(info.Id), name: info.Names[0]!.replace(/^\//, '') }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** A deploy started in the background, as a second operator would: its stderr as it comes (to wait on a step), and how it ended. */
export function startDeploy(platform: Pick<TestPlatform, 'dir' | 'env'>, args: string[], dir = platform.dir) {
  const child = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'deploy', ...args, '--project', dir], {
    env: platform.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; json: any }>((resolve) =>
    child.on('close', (code) => {
      let json: unknown = null
      try {
        json = JSON.parse(stdout)
      } catch {
        json = null
      }
      resolve({ code, stdout, stderr, json })
    }),
  )
  return { child, done, output: () => stderr }
}
