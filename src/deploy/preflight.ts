// Preflight: one probe per host (a probe and pure parsers, remote/facts.ts), each check reported on its own, so
// `ai-platform preflight` and the deploy engine say the same thing.
import type { Project } from '../config/model.js'
import { sh } from '../remote/commands.js'
import type { Executor } from '../remote/executor.js'
import {
  factsScript,
  parseCompose,
  parseDf,
  parseNvidiaSmi,
  parseRocmSmi,
  parseSections,
  type ComposeInfo,
  type Section,
} from '../remote/facts.js'
import { gpuContainerChecks } from './gpu-preflight.js'
import { parseHolder } from './lock-holder.js'
import { parseReleaseRecord, type ReleaseRecord } from './release.js'

export interface HostFacts {
  user: string
  compose: ComposeInfo
  current: ReleaseRecord | null
  envSha256: string | null
}

export interface PreflightCheck {
  name: string
  ok: boolean
  detail: string
}

export interface FactsResult {
  checks: PreflightCheck[]
  facts: HostFacts | null
  lock: ReturnType<typeof parseHolder> | null
}

const MIN_FREE_MIB = 512

export interface QuickFacts {
  user: string
  current: ReleaseRecord | null
  envSha256: string | null
  /** Whether history.jsonl names the current release (false: switched, then cut off before recording). */
  recorded: boolean
  /** `current` holds a release.json that is not a record ai-platform wrote: the host runs something unknown. */
  unreadable: boolean
  lock: ReturnType<typeof parseHolder> | null
}

/** What the host runs now: one short round trip, read-only. */
export async function quickFacts(exec: Executor, baseDir: string, timeoutMs = 30_000): Promise<QuickFacts> {
  const result = await exec.run(sh(factsScript({ baseDir, mounts: [], gpu: null, full: false })), {
    check: false,
    timeoutMs,
  })
  return readQuick(parseSections(result.stdout))
}

/** The quick probe's output, as parsed for quickFacts(): for tests and the fuzz tier. */
export function parseQuickFacts(stdout: string): QuickFacts {
  return readQuick(parseSections(stdout))
}

function readQuick(sections: Map<string, Section>): QuickFacts {
  const lockSection = sections.get('lock')
  let current: ReleaseRecord | null = null
  const release = sections.get('release')
  if (release?.code === 0) current = parseReleaseRecord(release.output)
  const env = sections.get('env')
  return {
    // shown in hints such as `sudo install -d -o USER DIR`: only a user name is believed
    user: /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(sections.get('user')?.output.trim() ?? '')
      ? sections.get('user')!.output.trim()
      : 'the deploy user',
    current,
    envSha256: env?.code === 0 && /^[0-9a-f]{64}(\s|$)/.test(env.output.trim()) ? env.output.trim().slice(0, 64) : null,
    recorded: current === null || sections.get('recorded')?.output.trim() !== 'no',
    unreadable: current === null && release?.code === 0,
    lock: lockSection?.code === 0 ? parseHolder(lockSection.output) : null,
  }
}

export async function gatherFacts(
  exec: Executor,
  project: Project,
  hostName: string,
  timeoutMs = 60_000,
): Promise<FactsResult> {
  const host = project.hosts[hostName]!
  const mounts = Object.values(host.mounts).map((m) => m.path)
  // A GPU node that would silently fall back to CPU is worth stopping for: check the driver when it runs GPU work.
  const gpuWork =
    host.gpu !== undefined &&
    Object.values(project.services).some(
      (s) => s.hosts.includes(hostName) && (s.gpu !== undefined || s.health.some((c) => c.ollama)),
    )
  // Where a service asks for the GPU, Docker must also be able to hand it over (device driver, /dev nodes).
  const gpuContainers =
    host.gpu !== undefined &&
    Object.values(project.services).some((s) => s.hosts.includes(hostName) && s.gpu !== undefined)
  const result = await exec.run(
    sh(
      factsScript({ baseDir: host.baseDir, mounts, gpu: gpuWork ? host.gpu!.vendor : null, gpuContainers, full: true }),
    ),
    { check: false, timeoutMs },
  )
  const sections = parseSections(result.stdout)
  const quick = readQuick(sections)
  const user = quick.user
  const checks: PreflightCheck[] = []
  const docker = sections.get('docker')
  checks.push(
    docker?.code === 0
      ? { name: 'docker', ok: true, detail: `Docker Engine ${docker.output.trim()}` }
      : { name: 'docker', ok: false, detail: `Docker is not reachable for ${user}: ${firstLine(docker)}` },
  )
  const compose = parseCompose(sections)
  checks.push(
    compose
      ? {
          name: 'compose',
          ok: true,
          detail: `Compose ${compose.variant} ${compose.version} (${compose.command.join(' ')})`,
        }
      : { name: 'compose', ok: false, detail: 'neither `docker compose` (v2) nor `docker-compose` (v1) works' },
  )
  const base = sections.get('base')?.output.trim()
  checks.push(
    base === 'writable' || base === 'creatable'
      ? {
          name: 'base directory',
          ok: true,
          detail: `${host.baseDir} ${base === 'writable' ? 'is writable' : 'can be created'} by ${user}`,
        }
      : base === 'read-only'
        ? { name: 'base directory', ok: false, detail: `${host.baseDir} is not writable by ${user}` }
        : {
            name: 'base directory',
            ok: false,
            detail: `${host.baseDir} does not exist and ${user} cannot create it: run \`sudo install -d -o ${user} ${host.baseDir}\` once`,
          },
  )
  const disk = parseDf(sections.get('disk')?.output ?? '')
  if (disk)
    checks.push({
      name: 'disk',
      ok: disk.availableKb >= MIN_FREE_MIB * 1024,
      detail: `${Math.round(disk.availableKb / 1024)} MiB free on ${disk.mount}${disk.availableKb < MIN_FREE_MIB * 1024 ? ` (need ${MIN_FREE_MIB})` : ''}`,
    })
  else checks.push({ name: 'disk', ok: false, detail: `cannot read free space: ${firstLine(sections.get('disk'))}` })
  mounts.forEach((path, i) => {
    const mount = sections.get(`mount-${i}`)
    checks.push(
      mount?.code === 0
        ? {
            name: `mount ${path}`,
            ok: true,
            detail: mount.output.trim() === 'mounted' ? `${path} is mounted` : `${path} exists (not a mount point)`,
          }
        : { name: `mount ${path}`, ok: false, detail: `NAS mount ${path} is missing` },
    )
  })
  const gpu = sections.get('gpu')
  if (gpu) {
    const probe =
      host.gpu!.vendor === 'nvidia' ? parseNvidiaSmi(gpu.output, gpu.code) : parseRocmSmi(gpu.output, gpu.code)
    checks.push(
      probe.ok
        ? {
            name: 'gpu',
            ok: true,
            detail: `${probe.gpus.length} ${host.gpu!.vendor} GPU(s): ${probe.gpus.map((g) => g.name).join(', ')}`,
          }
        : { name: 'gpu', ok: false, detail: `GPU driver check failed: ${probe.reason}` },
    )
  }
  if (gpuContainers) checks.push(...gpuContainerChecks(hostName, host.gpu!, sections))
  const facts = compose ? { user, compose, current: quick.current, envSha256: quick.envSha256 } : null
  return { checks, facts, lock: quick.lock }
}

function firstLine(section: Section | undefined): string {
  return section?.output.trim().split('\n')[0] || 'no answer'
}
