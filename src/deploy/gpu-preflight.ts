// The GPU container preflight: can Docker hand this host's GPU to a container as the rendered compose
// file asks? Pure decisions on the facts script's GPU sections (src/remote/gpu-facts.ts).
import type { Gpu } from '../config/model.js'
import type { Section } from '../remote/facts.js'
import {
  parseDeviceNodes,
  parseDockerRuntimes,
  parseHostGroups,
  parseToolPaths,
  type DeviceNode,
  type HostGroups,
  type NvidiaTool,
} from '../remote/gpu-facts.js'
import type { PreflightCheck } from './preflight.js'

/** The checks for a host whose services ask for its GPU, from the sections GPU_CONTAINER_PROBES printed. */
export function gpuContainerChecks(
  hostName: string,
  gpu: Gpu,
  sections: ReadonlyMap<string, Section>,
): PreflightCheck[] {
  if (gpu.vendor === 'nvidia') {
    const toolkit = sections.get('nvidia-toolkit')
    if (!toolkit)
      return [{ name: 'gpu runtime', ok: false, detail: 'no answer from the host about the NVIDIA container toolkit' }]
    const runtimes = sections.get('docker-runtimes')
    return [
      nvidiaRuntimeCheck(
        parseToolPaths(toolkit.output),
        runtimes ? parseDockerRuntimes(runtimes.output, runtimes.code) : null,
      ),
    ]
  }
  const devices = sections.get('amd-devices')
  const groups = sections.get('host-groups')
  return [
    devices
      ? amdDeviceCheck(parseDeviceNodes(devices.output))
      : { name: 'gpu devices', ok: false, detail: 'no answer from the host about /dev/kfd and /dev/dri' },
    groups
      ? amdGroupCheck(hostName, gpu, parseHostGroups(groups.output))
      : { name: 'gpu groups', ok: false, detail: 'no answer from the host about its video and render groups' },
  ]
}

/**
 * Compose's `driver: nvidia` reservation needs dockerd's nvidia device driver, which dockerd registers
 * at start only when nvidia-container-runtime-hook is on its PATH; an `nvidia` runtime does not do it.
 */
export function nvidiaRuntimeCheck(
  tools: Partial<Record<NvidiaTool, string>>,
  runtimes: readonly string[] | null,
): PreflightCheck {
  const listed = runtimes && runtimes.length > 0 ? ` (Docker runtimes: ${runtimes.join(', ')})` : ''
  const hook = tools['nvidia-container-runtime-hook']
  if (hook)
    return { name: 'gpu runtime', ok: true, detail: `Docker can select the nvidia device driver: ${hook}${listed}` }
  const why: string[] = []
  if (runtimes?.includes('nvidia'))
    why.push(
      'Docker lists an nvidia runtime, but dockerd registers its nvidia device driver only when this hook is on its PATH',
    )
  const ctk = tools['nvidia-ctk']
  if (ctk) why.push(`${ctk} is there, from nvidia-container-toolkit-base, which lacks the hook`)
  return {
    name: 'gpu runtime',
    ok: false,
    detail:
      `Docker cannot hand the GPU to containers: nvidia-container-runtime-hook is not installed${why.length > 0 ? ` (${why.join('; ')})` : ''}, ` +
      `so \`compose up\` would fail with 'could not select device driver "nvidia"'. ` +
      'Install nvidia-container-toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker (`sudo systemctl restart docker`)',
  }
}

/** ROCm containers get /dev/kfd and /dev/dri (render nodes inside); both come from the amdgpu kernel driver. */
export function amdDeviceCheck(nodes: readonly DeviceNode[]): PreflightCheck {
  const has = (path: string): boolean => nodes.some((n) => n.path === path)
  const renderNodes = nodes
    .filter((n) => n.path.startsWith('/dev/dri/renderD'))
    .map((n) => n.path.slice('/dev/dri/'.length))
  const missing = ['/dev/kfd', '/dev/dri'].filter((p) => !has(p))
  if (missing.length === 0 && renderNodes.length === 0) missing.push('a render node (/dev/dri/renderD*)')
  if (missing.length > 0) {
    const device = has('/dev/kfd') ? '/dev/dri' : '/dev/kfd'
    return {
      name: 'gpu devices',
      ok: false,
      detail:
        `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing: the amdgpu kernel driver is not loaded, ` +
        `so \`compose up\` would fail with 'error gathering device information while adding custom device "${device}"'. ` +
        "Install the amdgpu/ROCm kernel driver (amdgpu-dkms, from AMD's amdgpu-install) and reboot",
    }
  }
  return {
    name: 'gpu devices',
    ok: true,
    detail: `/dev/kfd and /dev/dri present (render nodes: ${renderNodes.join(', ')})`,
  }
}

const GROUPS = [
  ['video', 'videoGid', 'video_gid'],
  ['render', 'renderGid', 'render_gid'],
] as const

/**
 * Device nodes keep the host's numeric group inside a container, and an image's /etc/group may lack
 * `video` or `render` (or give them other numbers): GPU containers get the gids the inventory names,
 * which must be the host's.
 */
export function amdGroupCheck(hostName: string, gpu: Gpu, groups: HostGroups): PreflightCheck {
  const path = (key: string): string => `hosts.${hostName}.hardware.gpu.${key}`
  const problems: string[] = []
  const unset: { group: string; key: string; gid: number }[] = []
  for (const [group, field, key] of GROUPS) {
    const configured = gpu[field]
    const actual = groups[group]
    if (configured !== undefined && actual === undefined)
      problems.push(`${path(key)} is ${configured}, but ${hostName} has no ${group} group: remove ${key}`)
    else if (configured !== undefined && configured !== actual)
      problems.push(
        `${path(key)} is ${configured}, but the ${group} group on ${hostName} is ${actual}: set ${path(key)}: ${actual}`,
      )
    else if (configured === undefined && actual !== undefined) unset.push({ group, key, gid: actual })
  }
  if (problems.length > 0) return { name: 'gpu groups', ok: false, detail: problems.join('; ') }
  const found = GROUPS.filter(([group]) => groups[group] !== undefined).map(([group]) => `${group} ${groups[group]}`)
  if (found.length === 0) return { name: 'gpu groups', ok: true, detail: `${hostName} has no video or render group` }
  if (unset.length === 0)
    return { name: 'gpu groups', ok: true, detail: `${found.join(', ')}: GPU containers get these groups` }
  const missing =
    unset.length === 1
      ? `no ${unset[0]!.key} in the inventory, so GPU containers do not get the ${unset[0]!.group} group`
      : `no ${unset.map((u) => u.key).join(' or ')} in the inventory, so GPU containers get neither group`
  return {
    name: 'gpu groups',
    ok: true,
    detail: `${found.join(', ')} on the host; ${missing} (enough for images that run as root; for others set ${unset.map((u) => `${path(u.key)}: ${u.gid}`).join(' and ')})`,
  }
}
