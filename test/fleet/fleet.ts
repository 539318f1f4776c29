// The test fleet from TypeScript: what fleet:up wrote to test/fleet/.state/fleet.json, and the
// fault switches of test/fleet/fault.sh. No side effects on import.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'

export const FLEET_DIR = dirname(fileURLToPath(import.meta.url))
export const FLEET_JSON = join(FLEET_DIR, '.state', 'fleet.json')

export type HostName =
  'erebus' | 'hephaestus' | 'thanatos' | 'zelus' | 'orpheus' | 'kratos' | 'nyx' | 'hades' | 'moros' | 'local'

export interface FleetGpu {
  vendor: 'nvidia' | 'amd'
  count: number
  /** Total VRAM of the host, GiB (hades: 2 x 24 = 48). */
  vramGb: number
  vramGbPerGpu: number
}

export interface FleetHost {
  name: HostName
  address: string
  port: number
  user: string
  identityFile: string
  compose: 'v1' | 'v2'
  gpu: FleetGpu | null
  /** Network namespace name; nsenter --net=<netnsPath> enters it. */
  netns: string
  netnsPath: string
  /** /opt/ai-platform as the host sees it; for `local` the path on the machine (no SSH there). */
  baseDir: string
  /** Docker socket as the host sees it; for `local` the path on the machine. */
  dockerSocket: string
  /** The same things seen from the machine's own mount namespace. */
  outside: { root: string; baseDir: string; dockerSocket: string; usrLocal: string }
  images: string[]
  pids: { holder: number | null; sshd: number | null; dockerd: number | null }
  /** Only on `local`: environment for docker / docker compose (v2) run on the machine. */
  env?: { DOCKER_HOST: string; DOCKER_CONFIG: string }
}

export interface Fleet {
  version: number
  stateDir: string
  bridge: string
  bridgeAddress: string
  subnet: string
  knownHostsFile: string
  identityFile: string
  composeV2Plugin: string
  images: string[]
  hosts: FleetHost[]
  /** The fleet's image registry (test/fleet/registry.sh): TLS from caFile, which every host's engine trusts. */
  registry?: { address: string; user: string; passwordFile: string; caFile: string }
}

export class FleetMissingError extends Error {
  constructor(path: string) {
    super(`the test fleet is not running: ${path} does not exist. Bring it up as root with \`npm run fleet:up\`.`)
    this.name = 'FleetMissingError'
  }
}

export function fleetAvailable(path: string = process.env.AIP_FLEET_JSON ?? FLEET_JSON): boolean {
  return existsSync(path)
}

/** Reads fleet.json; throws FleetMissingError (telling to run `npm run fleet:up`) when absent. */
export function loadFleet(path: string = process.env.AIP_FLEET_JSON ?? FLEET_JSON): Fleet {
  if (!existsSync(path)) throw new FleetMissingError(path)
  return JSON.parse(readFileSync(path, 'utf8')) as Fleet
}

export function fleetHost(fleet: Fleet, name: string): FleetHost {
  const host = fleet.hosts.find((h) => h.name === name)
  if (!host) throw new Error(`the fleet has no host ${name} (up: ${fleet.hosts.map((h) => h.name).join(', ')})`)
  return host
}

/** known_hosts as address -> raw public key blobs (what ssh2's hostVerifier receives). */
export function knownHostKeys(fleet: Fleet): Map<string, Buffer[]> {
  const keys = new Map<string, Buffer[]>()
  for (const line of readFileSync(fleet.knownHostsFile, 'utf8').split('\n')) {
    const [names, , blob] = line.trim().split(/\s+/)
    if (!names || !blob || names.startsWith('#')) continue
    for (const name of names.split(',')) keys.set(name, [...(keys.get(name) ?? []), Buffer.from(blob, 'base64')])
  }
  return keys
}

export type FaultAction =
  | 'sshd-stop'
  | 'sshd-start'
  | 'link-down'
  | 'link-up'
  | 'docker-stop'
  | 'docker-start'
  | 'hostkey-rotate'
  | 'hostkey-restore'
  | 'gpu-driver-missing'
  | 'gpu-driver-ok'
  | 'gpu-runtime-missing'
  | 'gpu-runtime-ok'
  | 'service-unhealthy'
  | 'service-healthy'
  | 'docker-hang'
  | 'docker-unhang'
  | 'hostcert-on'
  | 'hostcert-off'
  | 'status'

/** Runs test/fleet/fault.sh HOST ACTION [ARGS] (needs root); resolves with its stdout. */
export async function fault(host: string, action: FaultAction, ...args: string[]): Promise<string> {
  const result = await execa('bash', [join(FLEET_DIR, 'fault.sh'), host, action, ...args], { reject: false })
  if (result.exitCode !== 0) {
    throw new Error(
      `fault.sh ${host} ${action} ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr || result.stdout}`,
    )
  }
  return result.stdout
}
