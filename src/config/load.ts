// load: read -> YAML with positions -> ajv -> merge -> build (defaults) -> rules -> frozen model.
// Returns every problem at once ({project, issues}); nothing here throws for a user mistake. Each file
// is checked on its own first, so one broken file (say platform.yaml failing its schema) hides nothing
// wrong in the others; the rules across files then run only on files that passed.
// Where changes go: a new key in schemas/*.json, then `npx tsx tools/schema-types.ts` and build.ts; a
// new rule in rules/, called from here, with a code in issues.ts and a case in
// test/unit/config/error-cases.ts.
import { join, relative } from 'node:path'
import { buildHost, buildModel, buildPlatform, buildService, buildStack } from './build.js'
import { fileIssue, hasErrors, type ConfigIssue } from './issues.js'
import { mergeInventory, missingInventory } from './merge.js'
import type { Host, Model, Platform, Project, Service, Stack } from './model.js'
import { originOf, type Origin, type Origins } from './origins.js'
import type { ProjectLocation } from './project-dir.js'
import { listYaml, readDocuments, readTemplates } from './read.js'
import { loadValidators, type Validators } from './schema.js'
import { selectHosts } from './select.js'
import { configIssueAt } from './source.js'
import { bindMountRules } from './rules/bind-mounts.js'
import { alertRules, metricsSecretRules } from './rules/monitoring.js'
import { buildRules, imageSourceRules, registryRules } from './rules/builds.js'
import { hostCycleRules, serviceCycleRules } from './rules/cycles.js'
import { nonFiniteNumbers, obsoleteVersion } from './rules/documents.js'
import { hostRules, mountWriterRules } from './rules/hosts.js'
import { imageRules } from './rules/images.js'
import { modelRules } from './rules/models.js'
import { vramRules } from './rules/vram.js'
import { portRules, replicaPortRules } from './rules/ports.js'
import { selectionRules } from './rules/selection.js'
import { gpuRules, overrideRules, requiresRules, rolloutRules } from './rules/services.js'
import { templateFileRules, templateSyntaxRules } from './rules/templates.js'
import { variableRules } from './rules/variables.js'

export interface LoadResult {
  project: Project | null
  issues: ConfigIssue[]
  /** Where each host, service, model and stack was written: `host:NAME`, `service:NAME`, `model:NAME`, `stack:NAME`. */
  origins: Map<string, Origin>
}

let validatorsCache: Promise<Validators> | undefined
function loadOnce(): Promise<Validators> {
  // Compiling the schemas costs ~100 ms: the build precompiles them; a process loads them once.
  validatorsCache ??= loadValidators()
  return validatorsCache
}

export async function loadProject(location: ProjectLocation): Promise<LoadResult> {
  const { dir } = location
  const validators = await loadOnce()
  const issues: ConfigIssue[] = []
  const origins: Origins = new Map()
  const display = (abs: string): string => relative(dir, abs) || abs
  const [inventoryFiles, stackFiles] = await Promise.all([
    listYaml(join(dir, 'inventory')),
    listYaml(join(dir, 'stacks')),
  ])
  const [inventoryRead, stackRead, templates] = await Promise.all([
    readDocuments(inventoryFiles, display, validators.inventory),
    readDocuments(stackFiles, display, validators.stack),
    readTemplates(join(dir, 'templates')),
  ])

  // 1. Inventory files: parse, schema-check, merge.
  if (inventoryFiles.length === 0)
    issues.push(fileIssue('no-inventory', 'inventory/', 'no inventory files (*.yaml) found'))
  const inventory = mergeInventory(inventoryRead, origins)
  issues.push(...inventory.issues)
  if (inventoryFiles.length > 0) issues.push(...missingInventory(inventory, display(inventoryFiles[0]!)))
  // Rules across files run only on files that passed their schema: a broken file's hosts or services
  // would otherwise show up again as "unknown host" or "unknown service" everywhere.
  const inventoryBroken = hasErrors(issues)
  const platform: Platform | null = inventory.platform ? buildPlatform(inventory.platform.raw) : null
  const hostOrder = platform ? inventory.hosts.map((h) => h.name) : []
  const hosts: Record<string, Host> = {}
  const exports = platform ? Object.keys(platform.nas?.exports ?? {}) : null
  for (const written of inventory.hosts) {
    if (platform) hosts[written.name] = buildHost(written.name, written.raw, platform)
    issues.push(...hostRules(written, exports))
  }
  issues.push(...mountWriterRules(inventory.hosts))

  // 2. Models.
  const models: Record<string, Model> = {}
  for (const { raw } of inventory.models) models[raw.name] = buildModel(raw)

  // 3. Stacks, each checked on its own whatever the inventory's state; placement only against a sound inventory.
  const stacks: Stack[] = []
  const services: Record<string, Service> = {}
  for (const { abs, issues: found, checked } of stackRead) {
    issues.push(...found)
    if (!checked) continue
    const { source, value } = checked
    const stackName = basenameNoExt(abs)
    issues.push(...nonFiniteNumbers(source, value))
    if (stacks.some((s) => s.name === stackName)) {
      issues.push(
        fileIssue(
          'duplicate-stack',
          source.display,
          `duplicate stack name "${stackName}" (stacks/${stackName}.yaml and .yml)`,
        ),
      )
      continue
    }
    const placement = value['x-ai-platform'].placement
    const selection = selectHosts(placement, hosts, hostOrder)
    if (!inventoryBroken)
      issues.push(...selectionRules(source, ['x-ai-platform', 'placement'], placement, selection, hostOrder))
    const stack = buildStack(stackName, source.display, value, selection.hosts)
    if (!inventoryBroken && stack.singleHost && stack.hosts.length > 1)
      issues.push(
        configIssueAt(
          'single-host',
          source,
          ['x-ai-platform', 'placement'],
          `single_host: the stack forms one cluster, but its placement selects ${stack.hosts.length} hosts (${stack.hosts.join(', ')}): each would run a cluster of its own`,
          { allowed: 'a placement that selects exactly one host' },
        ),
      )
    origins.set(`stack:${stackName}`, { source, path: [] })
    stacks.push(stack)
    for (const [serviceName, raw] of Object.entries(value.services)) {
      const earlier = origins.get(`service:${serviceName}`)
      if (earlier) {
        issues.push(
          configIssueAt(
            'duplicate-service',
            source,
            ['services', serviceName],
            `duplicate service name: already defined in ${earlier.source.display}`,
            { key: true },
          ),
        )
        continue
      }
      origins.set(`service:${serviceName}`, { source, path: ['services', serviceName] })
      const service = buildService(serviceName, stack, raw)
      services[serviceName] = service
      stack.services.push(serviceName)
      issues.push(...imageRules(service, source, ['services', serviceName]))
      issues.push(...imageSourceRules(service, { source, path: ['services', serviceName] }))
    }
    issues.push(...obsoleteVersion(source, value))
  }

  // 4. Templates: each compiles, each one a stack names exists.
  const templateIssues = templateSyntaxRules(templates)
  for (const stack of stacks)
    templateIssues.push(...templateFileRules(stack, templates, originOf(origins, 'stack', stack.name)))

  // 5. Rules that need the whole fleet.
  if (!platform || hasErrors(issues)) return { project: null, issues: [...issues, ...templateIssues], origins }
  const declaredSecrets = Object.keys(platform.secrets)
  for (const service of Object.values(services)) {
    const origin = originOf(origins, 'service', service.name)
    issues.push(
      ...requiresRules(service, services, origin),
      ...overrideRules(service, hosts, hostOrder, origin),
      ...rolloutRules(service, origin),
      ...gpuRules(service, hosts, origin),
      ...variableRules(service, declaredSecrets, origin),
      ...bindMountRules(service, origin),
      ...replicaPortRules(service, hosts, hostOrder, origin),
    )
  }
  issues.push(...portRules(services, hosts, hostOrder, origins))
  if (inventory.platform) {
    issues.push(...registryRules(platform, inventory.platform.source, hostOrder))
    issues.push(...alertRules(platform, services, inventory.platform.source, { stacks, templates }))
    issues.push(...metricsSecretRules(platform, services, origins, { stacks, templates }))
  }
  for (const service of Object.values(services))
    issues.push(...(await buildRules(service, platform, dir, originOf(origins, 'service', service.name))))
  const serviceCycles = serviceCycleRules(services, origins)
  issues.push(...serviceCycles)
  // A service cycle is also a host cycle: it is reported once, as the former.
  if (serviceCycles.length === 0) issues.push(...hostCycleRules(services, hostOrder, origins))
  issues.push(...modelRules(models, hosts, hostOrder, services, origins, platform ? Object.keys(platform.secrets) : []))
  assignModels(hosts, hostOrder, models)
  if (!hasErrors(issues)) issues.push(...vramRules(hosts, hostOrder, services, models, origins))
  issues.push(...templateIssues)

  const project: Project = {
    dir,
    bundled: location.bundled,
    platform,
    hosts,
    hostOrder,
    stacks,
    services,
    models,
    templates,
  }
  return { project: deepFreeze(project), issues, origins }
}

function basenameNoExt(path: string): string {
  return path
    .split('/')
    .pop()!
    .replace(/\.ya?ml$/, '')
}

/** Each host serves its own models plus those whose placement selects it, sorted. */
function assignModels(hosts: Record<string, Host>, order: string[], models: Record<string, Model>): void {
  for (const model of Object.values(models)) {
    if (!model.placement) continue
    for (const name of selectHosts(model.placement, hosts, order).hosts) {
      const host = hosts[name]!
      if (!host.models.includes(model.name)) host.models.push(model.name)
    }
  }
  for (const name of order) hosts[name]!.models.sort()
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}
