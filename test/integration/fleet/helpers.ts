// Shared helpers for the fleet's own integration tests: skipping without a fleet, SSH (ssh2 with
// strict host keys against the fleet's known_hosts, and the real ssh binary), remote commands.
import { readFileSync } from 'node:fs'
import { execa } from 'execa'
import { Client, type SFTPWrapper } from 'ssh2'
import { fleetHost, knownHostKeys, loadFleet, type Fleet, type FleetHost } from '../../fleet/fleet.js'
import type { SshTarget } from '../../../src/remote/ssh-target.js'
import { currentSituation, fleetGate } from '../helpers/fleet-gate.js'

export const IS_ROOT = process.getuid?.() === 0
// The fleet's keys and sockets belong to root: without root the suites skip too (under CI=true the run
// fails instead, before the first file: helpers/fleet-gate.ts).
const GATE = fleetGate(currentSituation())
export const HAVE_FLEET = GATE.action === 'run'
export const SKIP_REASON = GATE.action === 'run' ? '' : GATE.reason

/** The fleet, or an empty stand-in when it is down (the suites are skipped then). */
export function fleetOrEmpty(): Fleet {
  if (!HAVE_FLEET) {
    console.warn(`[fleet tests] skipped: ${SKIP_REASON}`)
    return {
      version: 0,
      stateDir: '',
      bridge: '',
      bridgeAddress: '',
      subnet: '',
      knownHostsFile: '',
      identityFile: '',
      composeV2Plugin: '',
      images: [],
      hosts: [],
    }
  }
  return loadFleet()
}

export { fleetHost }

export interface ExecResult {
  stdout: string
  stderr: string
  code: number | null
}

/** An ssh2 connection as `deploy`, verifying the host key against the fleet's known_hosts. */
export function sshConnect(fleet: Fleet, host: FleetHost, options: { timeoutMs?: number } = {}): Promise<Client> {
  const known = knownHostKeys(fleet).get(host.address) ?? []
  return new Promise((resolve, reject) => {
    const client = new Client()
    let offered: Buffer | null = null
    client
      .on('ready', () => resolve(client))
      .on('error', (err: Error) => {
        if (offered && !known.some((k) => k.equals(offered!))) reject(new HostKeyMismatchError(host.address))
        else reject(err)
      })
      .connect({
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: readFileSync(host.identityFile),
        readyTimeout: options.timeoutMs ?? 15_000,
        hostVerifier: (key: Buffer) => {
          offered = key
          return known.some((k) => k.equals(key))
        },
      })
  })
}

export class HostKeyMismatchError extends Error {
  constructor(address: string) {
    super(`host key of ${address} does not match known_hosts`)
    this.name = 'HostKeyMismatchError'
  }
}

export function sshExec(client: Client, command: string, stdin?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err)
      let stdout = ''
      let stderr = ''
      let code: number | null = null
      stream.on('data', (d: Buffer) => (stdout += d.toString()))
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      stream.on('exit', (c: number | null) => (code = c))
      stream.on('close', () => resolve({ stdout, stderr, code }))
      if (stdin !== undefined) stream.end(stdin)
      else stream.end()
    })
  })
}

export function sftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))))
}

/** One command over a fresh ssh2 connection. */
export async function onHost(fleet: Fleet, host: FleetHost, command: string): Promise<ExecResult> {
  const client = await sshConnect(fleet, host)
  try {
    return await sshExec(client, command)
  } finally {
    client.end()
  }
}

/** The real OpenSSH client with strict host key checking against the fleet's known_hosts. */
export async function sshBinary(fleet: Fleet, host: FleetHost, command: string, timeoutS = 10): Promise<ExecResult> {
  const r = await execa(
    'ssh',
    [
      '-F',
      '/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${fleet.knownHostsFile}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `ConnectTimeout=${timeoutS}`,
      '-i',
      host.identityFile,
      '-p',
      String(host.port),
      `${host.user}@${host.address}`,
      command,
    ],
    { reject: false, timeout: (timeoutS + 20) * 1000 },
  )
  return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode ?? null }
}

/** docker on the machine against a host's daemon (outside socket; root only). */
export async function dockerOutside(host: FleetHost, args: string[]): Promise<ExecResult> {
  const r = await execa('/usr/bin/docker', ['-H', `unix://${host.outside.dockerSocket}`, ...args], { reject: false })
  return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode ?? null }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < until) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(
    `timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`,
  )
}

/** Shell-quotes one word for a remote command line. */
export const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/** A fleet host as the CLI's SSH connector reaches it: the deploy key, strict host keys from the fleet's known_hosts. */
export function fleetTarget(fleet: Fleet, host: FleetHost): SshTarget {
  return {
    name: host.name,
    alias: host.address,
    hostname: host.address,
    port: host.port,
    user: host.user,
    identityFiles: [host.identityFile],
    knownHostsFiles: [fleet.knownHostsFile],
    proxyJump: null,
  }
}
