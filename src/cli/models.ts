// Glue between the models commands and the service: connections, signals, reporters, text output.
import chalk from 'chalk'
import type { Project } from '../config/model.js'
import { connector, type ConnectChoices } from '../remote/connect.js'
import {
  listrModelsReporter,
  plainModelsReporter,
  formatPullSummary,
  bytes,
  type ModelsReporter,
} from '../ui/models-reporters.js'
import { ollamaNodes, planPulls } from '../models/placement.js'
import {
  listModels,
  pullHosts,
  pullModels,
  removeHosts,
  removeModels,
  selectNodes,
  syncHosts,
  syncModels,
  type ModelsOptions,
  type PullReport,
  type SyncReport,
} from '../models/service.js'
import { printable } from '../util/printable.js'
import type { Interruptible } from './interrupts.js'
import type { ConfirmChange } from './confirm.js'
import { interactive, stderrLine } from './reporters.js'

async function reporterFor(
  project: Project,
  options: { on: string[]; models: string[]; json: boolean },
): Promise<ModelsReporter> {
  if (!interactive(options.json)) return plainModelsReporter(stderrLine)
  const jobs = planPulls(ollamaNodes(project), {
    hosts: selectNodes(project, options.on).map((n) => n.host),
    ...(options.models.length ? { models: options.models } : {}),
  })
  return listrModelsReporter(jobs)
}

/** Ctrl-C (or SIGTERM) stops the transfers in flight; Ollama keeps what they fetched, and the next pull resumes from it. */
async function withSignals<T>(interruptible: Interruptible, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signals = interruptible({
    steps: [
      { called: 'stop the pulls', doing: 'stopping the pulls in flight; what they fetched stays for the next pull' },
    ],
    left: () =>
      'pulls in flight stop where they are; their partial files stay, and the next `ai-platform models pull` resumes them.',
  })
  try {
    return await work(signals.after(1))
  } finally {
    signals.dispose()
  }
}

type Interruptions = { interruptible: Interruptible }
/** Asked before anything is contacted, with the nodes the run writes to. */
type Confirmation = { confirm: ConfirmChange }

export async function runModelsPull(
  project: Project,
  options: Omit<ModelsOptions, 'emit' | 'signal'> & { json: boolean } & ConnectChoices & Interruptions & Confirmation,
): Promise<PullReport> {
  await options.confirm({
    action: `Pull ${options.models.length > 0 ? options.models.join(', ') : 'the placed models'} on`,
    hosts: pullHosts(project, options),
  })
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  const reporter = await reporterFor(project, options)
  try {
    const report = await withSignals(options.interruptible, (signal) =>
      pullModels(project, connections, { ...options, signal, emit: (e) => reporter.emit(e) }),
    )
    await reporter.done()
    if (!options.json) process.stderr.write(`${formatPullSummary(report)}\n`)
    return report
  } finally {
    await connections.closeAll()
  }
}

export async function runModelsSync(
  project: Project,
  options: Omit<ModelsOptions, 'emit' | 'signal'> & { json: boolean; prune: boolean } & ConnectChoices &
    Interruptions &
    Confirmation,
): Promise<SyncReport> {
  await options.confirm({
    action: options.prune ? 'Pull missing models and delete undeclared ones on' : 'Pull missing models on',
    hosts: syncHosts(project, options),
  })
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  const reporter = await reporterFor(project, options)
  try {
    const report = await withSignals(options.interruptible, (signal) =>
      syncModels(project, connections, { ...options, signal, emit: (e) => reporter.emit(e) }),
    )
    await reporter.done()
    if (!options.json) {
      process.stderr.write(`${formatPullSummary(report.pull)}\n`)
      for (const r of report.removed)
        process.stderr.write(
          `${printable(`${r.host} ${r.model}: ${r.status === 'deleted' ? 'deleted (not declared)' : r.status}${r.error ? `: ${r.error}` : ''}`)}\n`,
        )
    }
    return report
  } finally {
    await connections.closeAll()
  }
}

export async function runModelsList(project: Project, options: { on: string[]; timeoutMs: number } & ConnectChoices) {
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const report = await listModels(project, connections, options)
    const lines: string[] = []
    for (const node of report.nodes) {
      lines.push(
        chalk.bold(`${node.host}${node.store ? chalk.dim(` (store ${node.store})`) : ''}`) +
          (node.reachable ? '' : chalk.red(`  unreachable: ${printable(node.error ?? '')}`)),
      )
      for (const m of node.models) {
        const state =
          m.state === 'present'
            ? chalk.green('present')
            : m.state === 'missing'
              ? chalk.red('missing')
              : chalk.yellow('undeclared')
        lines.push(
          `  ${printable(m.name).padEnd(28)} ${state.padEnd(20)} ${m.size !== null ? bytes(m.size).padStart(10) : ''.padStart(10)}  ${m.digest ? chalk.dim(printable(m.digest.slice(0, 12))) : ''}`,
        )
      }
    }
    return { report, text: lines.join('\n') }
  } finally {
    await connections.closeAll()
  }
}

export async function runModelsRm(
  project: Project,
  options: { on: string[]; models: string[]; timeoutMs: number } & ConnectChoices & Confirmation,
) {
  await options.confirm({ action: `Delete ${options.models.join(', ')} on`, hosts: removeHosts(project, options.on) })
  const connections = connector(project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const report = await removeModels(project, connections, options)
    return {
      report,
      text: report.results.map((r) => `${r.host} ${r.model}: ${r.status}${r.error ? `: ${r.error}` : ''}`).join('\n'),
    }
  } finally {
    await connections.closeAll()
  }
}
