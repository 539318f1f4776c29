// Which node pulls which model: one source of truth with the LiteLLM routes (host.models). A shared
// store (a NAS export several nodes mount) is pulled into once, by the one node that mounts it
// read-write. Ollama servers do not coordinate over a shared models directory: each tracks its
// in-flight downloads in its own process, so two pulling one model write the same partial files, and
// one starting up may prune another's partial downloads.
import type { Project } from '../config/model.js'
import { UserError } from '../errors.js'

export interface OllamaNode {
  host: string
  address: string
  port: number
  /** NAS export the node's models live in, when shared. */
  store: string | null
  writer: boolean
  models: string[]
}

export interface PullJob {
  /** The node that pulls. */
  host: string
  model: string
  /** Nodes that serve the model from what this pull writes (the puller and the store's readers). */
  servedBy: string[]
}

export function ollamaNodes(project: Project): OllamaNode[] {
  const nodes: OllamaNode[] = []
  for (const service of Object.values(project.services).sort((a, b) => a.name.localeCompare(b.name))) {
    const check = service.health.find((c) => c.ollama)
    if (!check?.ollama || service.tier === 'on-demand') continue
    for (const name of service.hosts) {
      const host = project.hosts[name]!
      // The model store: the first NAS mount the Ollama service's volumes use, if any.
      const mounted = Object.values(host.mounts)
      const store = mounted.find((m) => m.export === 'models') ?? (mounted.length === 1 ? mounted[0] : undefined)
      nodes.push({
        host: name,
        address: host.address,
        port: check.ollama.port,
        store: store?.export ?? null,
        writer: store?.mode === 'rw',
        models: [...host.models],
      })
    }
  }
  return nodes.sort((a, b) => project.hostOrder.indexOf(a.host) - project.hostOrder.indexOf(b.host))
}

export function normalizeModel(name: string): string {
  return name.includes(':') ? name : `${name}:latest`
}

/** Pull jobs for the selected nodes and models: shared stores resolved to their writer, each (puller, model) once. */
export function planPulls(
  nodes: readonly OllamaNode[],
  selection: { hosts?: readonly string[]; models?: readonly string[] },
): PullJob[] {
  const wanted = nodes.filter((n) => !selection.hosts || selection.hosts.includes(n.host))
  const jobs = new Map<string, PullJob>()
  for (const node of wanted) {
    const models = selection.models ? node.models.filter((m) => selection.models!.includes(m)) : node.models
    let puller = node.host
    if (node.store && !node.writer) {
      const writer = nodes.find((n) => n.store === node.store && n.writer)
      if (!writer) {
        throw new UserError(
          `${node.host} reads models from the shared store "${node.store}", which no node mounts read-write`,
          `Give exactly one Ollama node mounts.${node.store}.mode: rw; it pulls for every node that shares the store.`,
        )
      }
      puller = writer.host
    }
    for (const model of models) {
      const key = `${puller}\0${model}`
      const job = jobs.get(key) ?? { host: puller, model, servedBy: [] }
      if (!job.servedBy.includes(node.host)) job.servedBy.push(node.host)
      jobs.set(key, job)
    }
  }
  // Explicit models nobody serves are a mistake worth naming.
  for (const model of selection.models ?? []) {
    if (![...jobs.values()].some((j) => j.model === model)) {
      throw new UserError(
        `no selected node serves ${model}`,
        "Place it in the inventory (models: placement, or a host's models list) first: pulls and LiteLLM routes follow the same placement.",
      )
    }
  }
  return [...jobs.values()].sort(
    (a, b) =>
      nodes.findIndex((n) => n.host === a.host) - nodes.findIndex((n) => n.host === b.host) ||
      a.model.localeCompare(b.model),
  )
}

/** Models present on a store but declared for none of its nodes: what `sync --prune` removes. */
export function undeclared(nodes: readonly OllamaNode[], puller: string, present: readonly string[]): string[] {
  const node = nodes.find((n) => n.host === puller)!
  const sharing = node.store ? nodes.filter((n) => n.store === node.store) : [node]
  const declared = new Set(sharing.flatMap((n) => n.models.map(normalizeModel)))
  return present.filter((m) => !declared.has(normalizeModel(m))).sort()
}
