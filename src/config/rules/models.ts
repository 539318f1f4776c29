// Models: each one declared, each placed on hosts that run an Ollama service to serve it.
import type { ConfigIssue } from '../issues.js'
import type { Host, Model, Service } from '../model.js'
import { originOf, type Origins } from '../origins.js'
import { selectHosts } from '../select.js'
import { configIssueAt } from '../source.js'
import { selectionRules } from './selection.js'

export function modelRules(
  models: Readonly<Record<string, Model>>,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
  services: Readonly<Record<string, Service>>,
  origins: Origins,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const ollamaHosts = new Set(
    Object.values(services)
      .filter((s) => s.health.some((c) => c.ollama))
      .flatMap((s) => s.hosts),
  )
  const declared = Object.keys(models).join(', ')
  for (const model of Object.values(models)) {
    const { source, path } = originOf(origins, 'model', model.name)
    if (model.placement) {
      const selection = selectHosts(model.placement, hosts, order)
      issues.push(...selectionRules(source, [...path, 'placement'], model.placement, selection, order))
      for (const hostName of selection.hosts) {
        if (!ollamaHosts.has(hostName)) {
          issues.push(
            configIssueAt(
              'no-ollama',
              source,
              [...path, 'placement'],
              `places the model on "${hostName}", which runs no Ollama service`,
              { allowed: [...ollamaHosts].join(', ') || 'none', got: hostName },
            ),
          )
        }
      }
    }
    model.fallbacks.forEach((fallback, index) => {
      if (!models[fallback])
        issues.push(
          configIssueAt('unknown-model', source, [...path, 'fallbacks', index], 'unknown model', {
            allowed: declared,
            got: JSON.stringify(fallback),
          }),
        )
    })
  }
  for (const name of order) {
    const { source, path } = originOf(origins, 'host', name)
    hosts[name]!.models.forEach((model, index) => {
      if (!models[model]) {
        issues.push(
          configIssueAt(
            'unknown-model',
            source,
            [...path, 'models', index],
            'unknown model: declare it under models:',
            { allowed: declared || 'none declared', got: JSON.stringify(model) },
          ),
        )
      } else if (!ollamaHosts.has(name)) {
        issues.push(
          configIssueAt(
            'no-ollama',
            source,
            [...path, 'models', index],
            'this host runs no Ollama service to serve the model',
            { got: JSON.stringify(model) },
          ),
        )
      }
    })
  }
  return issues
}
