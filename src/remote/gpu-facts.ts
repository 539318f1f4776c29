// What a GPU container needs from its host beyond the driver: probes run as sections of the facts
// script (facts.ts) and pure parsers of their output, tested on captured output.

/** Sections for a host whose services ask for its GPU, by vendor: [section name, command]. */
export const GPU_CONTAINER_PROBES: Readonly<Record<'nvidia' | 'amd', readonly (readonly [string, string])[]>> = {
  nvidia: [
    ['docker-runtimes', "docker info --format '{{json .Runtimes}}'"],
    // dockerd registers its "nvidia" device driver at start only when this hook is on its PATH;
    // nvidia-ctk tells a half-installed toolkit apart.
    ['nvidia-toolkit', 'for t in nvidia-container-runtime-hook nvidia-ctk; do command -v "$t"; done; true'],
  ],
  amd: [
    ['amd-devices', "stat -c '%g %n' /dev/kfd /dev/dri /dev/dri/renderD*"],
    [
      'host-groups',
      'if command -v getent >/dev/null 2>&1; then getent group video render; else grep -E "^(video|render):" /etc/group; fi',
    ],
  ],
}

/** `docker info --format '{{json .Runtimes}}'`: the runtime names, sorted; null when Docker did not answer. */
export function parseDockerRuntimes(output: string, code: number): string[] | null {
  if (code !== 0) return null
  let data: unknown
  try {
    data = JSON.parse(output.trim())
  } catch {
    return null
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null
  return Object.keys(data)
    .filter((name) => RUNTIME_NAME.test(name))
    .sort()
}

const RUNTIME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

const NVIDIA_TOOLS = ['nvidia-container-runtime-hook', 'nvidia-ctk'] as const
export type NvidiaTool = (typeof NVIDIA_TOOLS)[number]

/** `command -v` of each tool, one absolute path per line for those found: tool name -> path. */
export function parseToolPaths(output: string): Partial<Record<NvidiaTool, string>> {
  const found: Partial<Record<NvidiaTool, string>> = {}
  for (const line of output.split('\n')) {
    if (!/^\/[\x21-\x7e]{1,4095}$/.test(line)) continue
    const name = line.slice(line.lastIndexOf('/') + 1)
    const tool = NVIDIA_TOOLS.find((t) => t === name)
    if (tool && found[tool] === undefined) found[tool] = line
  }
  return found
}

export interface DeviceNode {
  path: string
  gid: number
}

/** `stat -c '%g %n' PATH...`: one `gid path` line per node that exists; stat's errors for the others are skipped. */
export function parseDeviceNodes(output: string): DeviceNode[] {
  const nodes: DeviceNode[] = []
  for (const line of output.split('\n')) {
    const match = /^(\d{1,10}) (\/dev\/[A-Za-z0-9._/-]{1,200})$/.exec(line)
    if (match) nodes.push({ path: match[2]!, gid: Number(match[1]) })
  }
  return nodes
}

export interface HostGroups {
  video?: number
  render?: number
}

/** `getent group video render` (or the same lines of /etc/group): `name:password:gid:members`. */
export function parseHostGroups(output: string): HostGroups {
  const groups: HostGroups = {}
  for (const line of output.split('\n')) {
    const match = /^(video|render):[^:\n]*:(\d{1,10}):/.exec(line)
    if (match && groups[match[1] as keyof HostGroups] === undefined)
      groups[match[1] as keyof HostGroups] = Number(match[2])
  }
  return groups
}
