// Models: each one declared, each placed on hosts that run an Ollama service to serve it.
import type { ConfigIssue } from '../issues.js'
import type { Host, Model, Service } from '../model.js'
import { originOf, type Origin, type Origins } from '../origins.js'
import { selectHosts } from '../select.js'
import { configIssueAt } from '../source.js'
import { selectionRules } from './selection.js'

export function modelRules(
  models: Readonly<Record<string, Model>>,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
  services: Readonly<Record<string, Service>>,
  origins: Origins,
  secrets: readonly string[] = [],
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
    if (model.provider) {
      issues.push(...providerRules(model, model.provider, services, secrets, { source, path }))
      continue
    }
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
      if (models[model]?.provider) {
        issues.push(
          configIssueAt(
            'provider-placed',
            source,
            [...path, 'models', index],
            `"${model}" is served by ${models[model].provider.name}, not by this host's Ollama`,
            { got: JSON.stringify(model) },
          ),
        )
      } else if (!models[model]) {
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

/**
 * An external model: no placement (no node serves it), its key a declared secret, and some placed
 * service passes that secret in its environment (LiteLLM reads the key as os.environ/NAME).
 */
function providerRules(
  model: Model,
  provider: NonNullable<Model['provider']>,
  services: Readonly<Record<string, Service>>,
  secrets: readonly string[],
  { source, path }: Origin,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  if (model.placement)
    issues.push(
      configIssueAt(
        'provider-placed',
        source,
        [...path, 'placement'],
        `served by ${provider.name}: no Ollama node serves it, so it takes no placement`,
        { key: true },
      ),
    )
  const at = [...path, 'provider', 'key_secret']
  if (!secrets.includes(provider.keySecret)) {
    issues.push(
      configIssueAt('provider-key', source, at, 'not a declared secret', {
        allowed: `a name under platform.secrets (${secrets.join(', ') || 'none declared'})`,
        got: JSON.stringify(provider.keySecret),
      }),
    )
  } else {
    if (!passedInEnvironment(services, provider.keySecret))
      issues.push(
        configIssueAt(
          'provider-key',
          source,
          at,
          `no placed service passes ${provider.keySecret} in its environment: LiteLLM reads the key as os.environ/${provider.keySecret}`,
          { allowed: `${provider.keySecret}: \${${provider.keySecret}} in the LiteLLM service's environment` },
        ),
      )
  }
  return issues
}

/** Whether some placed service passes the secret NAME in its environment (`${NAME}`, with or without a default). */
export function passedInEnvironment(services: Readonly<Record<string, Service>>, name: string): boolean {
  const reference = new RegExp(`\\$\\{${name}(?:[:?-][^}]*)?\\}`)
  return Object.values(services).some(
    (s) => s.hosts.length > 0 && reference.test(JSON.stringify(s.compose.environment ?? {})),
  )
}
