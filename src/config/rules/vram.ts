// The VRAM budget of each GPU node: the models its Ollama must hold at once (the largest
// `max_loaded_models` of those it serves: the inventory's, else OLLAMA_MAX_LOADED_MODELS as its stack
// sets it, else one; Ollama loads more only when they fit, evicting idle ones) plus what its GPU services hold
// (`gpu.vram_gb` per container), against the node's VRAM (count x vram_gb). Models and services
// without a declared size are not counted, and the message says so. On-demand services are checked
// on top of the rest, as a warning: they may fit one at a time.
import type { ConfigIssue } from '../issues.js'
import type { Host, Model, Service } from '../model.js'
import { originOf, type Origins } from '../origins.js'
import { replicasOn } from '../service-for-host.js'
import { configIssueAt } from '../source.js'

const gb = (n: number) => `${Number(n.toFixed(1))} GB`

export function vramRules(
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
  services: Readonly<Record<string, Service>>,
  models: Readonly<Record<string, Model>>,
  origins: Origins,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const name of order) {
    const host = hosts[name]!
    const gpu = host.gpu
    if (!gpu?.vramGb) continue
    const total = gpu.count * gpu.vramGb
    const placed = Object.values(services).filter((s) => s.hosts.includes(name))
    const runsOllama = placed.some((s) => s.tier !== 'on-demand' && s.health.some((c) => c.ollama))
    const sized = runsOllama
      ? host.models
          .map((m) => ({ name: m, size: models[m]?.sizeGb }))
          .filter((m): m is { name: string; size: number } => m.size !== undefined)
          .sort((a, b) => b.size - a.size || a.name.localeCompare(b.name))
      : []
    const loaded = sized.slice(0, host.ollama?.maxLoadedModels ?? stackMaxLoaded(placed) ?? 1)
    const holding = (tierOnDemand: boolean) =>
      placed
        .filter((s) => s.gpu?.vramGb !== undefined && (s.tier === 'on-demand') === tierOnDemand)
        .map((s) => ({ name: s.name, size: s.gpu!.vramGb! * Math.max(0, replicasOn(s, host, hosts, order)) }))
        .filter((s) => s.size > 0)
    const always = holding(false)
    const onDemand = holding(true)
    const sum = (items: { size: number }[]) => items.reduce((a, b) => a + b.size, 0)
    const parts = (items: { name: string; size: number }[]) => items.map((i) => `${i.name} ${gb(i.size)}`).join(' + ')
    const modelPart =
      loaded.length === 0
        ? ''
        : `${loaded.length === 1 ? 'the largest model' : `the ${loaded.length} largest models (max_loaded_models)`} ${parts(loaded)}`
    const needed = sum(loaded) + sum(always)
    const capacity = `${gb(total)} of VRAM (${gpu.count} x ${gb(gpu.vramGb)})`
    const { source, path } = originOf(origins, 'host', name)
    const at = [...path, 'hardware', 'gpu', 'vram_gb']
    const terms = [modelPart, always.length > 0 ? `services ${parts(always)}` : ''].filter(Boolean).join(' + ')
    if (needed > total + 1e-9) {
      issues.push(
        configIssueAt('vram-budget', source, at, `host "${name}" has ${capacity}, but needs ${gb(needed)}: ${terms}`, {
          allowed: `at most ${gb(total)}: fewer or smaller models, a lower ollama.max_loaded_models, or GPU services elsewhere or on demand`,
          got: gb(needed),
        }),
      )
      continue
    }
    if (onDemand.length > 0 && needed + sum(onDemand) > total + 1e-9) {
      const room = total - needed
      const alone = onDemand.filter((s) => s.size > room + 1e-9)
      const advice =
        alone.length > 0
          ? `${parts(alone)} cannot start while the rest runs`
          : `together they need ${gb(sum(onDemand))}: start them one at a time`
      issues.push(
        configIssueAt(
          'vram-on-demand',
          source,
          at,
          `host "${name}" has ${capacity}: ${terms || 'nothing'} (${gb(needed)}) leaves ${gb(room)} for its on-demand GPU services; ${advice}`,
          { severity: 'warning' },
        ),
      )
    }
  }
  return issues
}

/** OLLAMA_MAX_LOADED_MODELS as the Ollama service's own environment sets it, when a plain number. */
function stackMaxLoaded(placed: readonly Service[]): number | undefined {
  for (const service of placed) {
    if (!service.health.some((c) => c.ollama)) continue
    const env = service.compose.environment
    const value = Array.isArray(env)
      ? env
          .map(String)
          .find((e) => e.startsWith('OLLAMA_MAX_LOADED_MODELS='))
          ?.slice('OLLAMA_MAX_LOADED_MODELS='.length)
      : env !== null && typeof env === 'object'
        ? (env as Record<string, unknown>).OLLAMA_MAX_LOADED_MODELS
        : undefined
    const n = Number(value)
    if (value !== undefined && value !== null && Number.isInteger(n) && n > 0) return n
  }
  return undefined
}
