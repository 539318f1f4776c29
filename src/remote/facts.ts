// Remote reads are probe + parser: one shell script gathers every fact a deploy needs
// in a single round trip; pure parsers turn its sections into data and are tested on captured output.
import { GPU_CONTAINER_PROBES } from './gpu-facts.js'
import { quoteWord } from './quote.js'

export interface FactsRequest {
  baseDir: string
  mounts: string[]
  gpu: 'nvidia' | 'amd' | null
  /** A service on the host asks for the GPU: also probe what Docker needs to hand it to containers. */
  gpuContainers?: boolean
  /**
   * false: only what tells whether the host already runs a release (user, release, .env digest, lock):
   * a few milliseconds. true: also the preflight (Docker, Compose, disk, mounts, GPU), which can take
   * a second where the Python Compose v1 starts.
   */
  full: boolean
}

const SECTION = '@@aip:'

/** A POSIX sh script printing `@@aip:<name>` sections, each followed by `@@aip:rc:<exit code>`. */
export function factsScript(request: FactsRequest): string {
  const base = quoteWord(request.baseDir)
  const lines = [
    'export LC_ALL=C PATH="$PATH:/usr/sbin:/sbin:/usr/local/bin"',
    `b=${base}`,
    section('user', 'id -un'),
    section('release', `cat "$b/current/release.json"`),
    section('env', `sha256sum "$b/current/.env"`),
    // whether history.jsonl names the live release: a deploy cut off after its switch never recorded it
    section(
      'recorded',
      `id=$(readlink "$b/current") && id=\${id#releases/} && if grep -Fqs -e "\\"release\\":\\"$id\\"" -e "\\"to\\":\\"$id\\"" "$b/history.jsonl"; then echo yes; else echo no; fi`,
    ),
    section(
      'lock',
      `cat "$b/.lock/info.json" && echo && echo "@@age $(( $(date +%s) - $(stat -c %Y "$b/.lock/info.json") ))"`,
    ),
  ]
  if (!request.full) return lines.join('\n')
  lines.push(
    section('docker', "docker version --format '{{.Server.Version}}'"),
    section('compose-v2', 'docker compose version --short'),
    // The Python Compose v1 takes about a second to start: ask it only when the v2 plugin is absent.
    `if [ "$rc" -ne 0 ]; then ${section('compose-v1', 'docker-compose version --short')}; fi`,
    // Read-only: the deploy creates the base directory later; here we only learn whether it can.
    'p="$b"; while [ ! -d "$p" ]; do p=$(dirname "$p"); done',
    section(
      'base',
      `if [ "$p" = "$b" ]; then test -w "$b" && echo writable || echo read-only; else test -w "$p" && echo "creatable" || echo "missing"; fi`,
    ),
    section('disk', `df -Pk "$p"`),
  )
  request.mounts.forEach((path, i) =>
    lines.push(
      section(
        `mount-${i}`,
        `test -d ${quoteWord(path)} && (mountpoint -q ${quoteWord(path)} 2>/dev/null && echo mounted || echo directory)`,
      ),
    ),
  )
  if (request.gpu === 'nvidia') lines.push(section('gpu', NVIDIA_QUERY))
  if (request.gpu === 'amd') lines.push(section('gpu', ROCM_QUERY, true))
  if (request.gpu && request.gpuContainers)
    for (const [name, command] of GPU_CONTAINER_PROBES[request.gpu]) lines.push(section(name, command))
  return lines.join('\n')
}

export const NVIDIA_QUERY =
  'nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total,memory.used,utilization.gpu,temperature.gpu --format=csv,noheader,nounits'
export const ROCM_QUERY = 'rocm-smi --showproductname --showmeminfo vram --showuse --json'

export function section(name: string, command: string, keepStderrApart = false): string {
  // nvidia-smi prints its errors on stdout; rocm-smi's go to stderr, and must not be parsed as JSON.
  const redirect = keepStderrApart ? '2>/dev/null' : '2>&1'
  return `echo '${SECTION}${name}'; ( ${command} ) ${redirect}; rc=$?; echo "${SECTION}rc:$rc"`
}

export interface Section {
  output: string
  code: number
}

export function parseSections(stdout: string): Map<string, Section> {
  const sections = new Map<string, Section>()
  let name: string | null = null
  let lines: string[] = []
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${SECTION}rc:`)) {
      if (name !== null) sections.set(name, { output: lines.join('\n'), code: Number(line.slice(SECTION.length + 3)) })
      name = null
      lines = []
    } else if (line.startsWith(SECTION)) {
      name = line.slice(SECTION.length)
      lines = []
    } else if (name !== null) {
      lines.push(line)
    }
  }
  return sections
}

export interface ComposeInfo {
  /** v1 is the Python docker-compose 1.x; v2 the Go rewrite, as a docker plugin or standalone. */
  variant: 'v2' | 'v1'
  version: string
  /** How to invoke it: ['docker', 'compose'] or ['docker-compose']. */
  command: string[]
}

export function parseCompose(sections: Map<string, Section>): ComposeInfo | null {
  const plugin = sections.get('compose-v2')
  const pluginVersion = plugin?.output.trim().split('\n').pop()?.replace(/^v/, '') ?? ''
  if (plugin && plugin.code === 0 && /^\d+\.\d+/.test(pluginVersion))
    return { variant: 'v2', version: pluginVersion, command: ['docker', 'compose'] }
  const standalone = sections.get('compose-v1')
  const version = standalone?.output.trim().split('\n').pop()?.replace(/^v/, '') ?? ''
  if (standalone && standalone.code === 0 && /^\d+\.\d+/.test(version)) {
    return { variant: version.startsWith('1.') ? 'v1' : 'v2', version, command: ['docker-compose'] }
  }
  return null
}

/** Free kilobytes on the filesystem holding the base directory, from `df -Pk`. */
export function parseDf(output: string): { availableKb: number; mount: string } | null {
  const line = output.trim().split('\n').pop()
  if (!line) return null
  const fields = line.split(/\s+/)
  if (fields.length < 6 || !/^\d+$/.test(fields[3]!)) return null
  return { availableKb: Number(fields[3]), mount: fields.slice(5).join(' ') }
}

export interface GpuInfo {
  index: number
  name: string
  memoryTotalMiB: number | null
  memoryUsedMiB: number | null
  driver: string | null
}

export type GpuProbe = { ok: true; gpus: GpuInfo[] } | { ok: false; reason: string }

/** nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total,memory.used,... --format=csv,noheader,nounits */
export function parseNvidiaSmi(output: string, code: number): GpuProbe {
  const text = output.trim()
  if (code === 127 || (/command not found|not found/.test(text) && code !== 0))
    return { ok: false, reason: 'nvidia-smi is not installed' }
  if (code !== 0)
    return { ok: false, reason: `nvidia-smi failed (exit ${code}): ${text.split('\n')[0] || 'no output'}` }
  const gpus: GpuInfo[] = []
  for (const line of text.split('\n')) {
    const fields = line.split(',').map((f) => f.trim())
    if (fields.length < 6 || !/^\d+$/.test(fields[0]!))
      return { ok: false, reason: `unexpected nvidia-smi output: ${line.slice(0, 120)}` }
    const number = (v: string | undefined): number | null =>
      v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : null
    gpus.push({
      index: Number(fields[0]),
      name: fields[1]!,
      driver: fields[3] ?? null,
      memoryTotalMiB: number(fields[4]),
      memoryUsedMiB: number(fields[5]),
    })
  }
  if (gpus.length === 0) return { ok: false, reason: 'nvidia-smi lists no GPU' }
  return { ok: true, gpus }
}

/** rocm-smi --showproductname --showmeminfo vram --showuse --json: every value a string; errors on stderr with exit 0. */
export function parseRocmSmi(output: string, code: number): GpuProbe {
  const text = output.trim()
  if (code === 127) return { ok: false, reason: 'rocm-smi is not installed' }
  if (text === '')
    return { ok: false, reason: `rocm-smi printed nothing (exit ${code}): the amdgpu driver is not loaded` }
  let data: Record<string, Record<string, unknown>>
  try {
    data = JSON.parse(text) as Record<string, Record<string, unknown>>
  } catch {
    return { ok: false, reason: `rocm-smi output is not JSON (exit ${code}): ${text.split('\n')[0]!.slice(0, 120)}` }
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { ok: false, reason: 'rocm-smi output is not a JSON object' }
  const gpus: GpuInfo[] = Object.keys(data)
    .filter((k) => /^card\d{1,3}$/.test(k) && data[k] !== null && typeof data[k] === 'object')
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
    .map((card) => {
      const info = data[card]!
      const bytes = (v: unknown): number | null =>
        typeof v === 'string' && /^\d{1,20}$/.test(v) ? Math.round(Number(v) / (1024 * 1024)) : null
      const name = [info['Card Series'], info['Card series'], info['Card Model'], info['Card model']].find(
        (v): v is string => typeof v === 'string',
      )
      return {
        index: Number(card.slice(4)),
        name: name ?? card,
        memoryTotalMiB: bytes(info['VRAM Total Memory (B)']),
        memoryUsedMiB: bytes(info['VRAM Total Used Memory (B)']),
        driver: null,
      }
    })
  if (gpus.length === 0) return { ok: false, reason: 'rocm-smi lists no GPU' }
  return { ok: true, gpus }
}
