// Model names as Ollama parses them (types/model/name.go): [host/][namespace/]model[:tag][@digest],
// defaults registry.ollama.ai / library / latest.
import { join } from 'node:path'

export const DEFAULT_HOST = 'registry.ollama.ai'
export const DEFAULT_NAMESPACE = 'library'
export const DEFAULT_TAG = 'latest'

const PARTS = {
  host: /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}$/,
  namespace: /^[A-Za-z0-9_][A-Za-z0-9_-]{0,79}$/,
  model: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/,
  tag: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/,
}

/** Returns {host, namespace, model, tag} with defaults filled in, or null when invalid. */
export function parseName(input) {
  if (typeof input !== 'string' || input === '') return null
  let rest = input.replace(/^https?:\/\//, '')
  const at = rest.lastIndexOf('@')
  if (at >= 0) rest = rest.slice(0, at)
  let tag = DEFAULT_TAG
  const colon = rest.lastIndexOf(':')
  if (colon >= 0 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
  }
  const parts = rest.split('/')
  if (parts.length > 3) return null
  const model = parts.pop()
  const namespace = parts.length > 0 ? parts.pop() : DEFAULT_NAMESPACE
  const host = parts.length > 0 ? parts.pop() : DEFAULT_HOST
  const name = { host, namespace, model, tag }
  for (const [part, re] of Object.entries(PARTS)) if (!re.test(name[part])) return null
  return name
}

/** The shortest display form: llama3.2:latest, ns/model:tag, host/ns/model:tag. */
export function displayShortest(n) {
  if (n.host !== DEFAULT_HOST) return `${n.host}/${n.namespace}/${n.model}:${n.tag}`
  if (n.namespace !== DEFAULT_NAMESPACE) return `${n.namespace}/${n.model}:${n.tag}`
  return `${n.model}:${n.tag}`
}

export const manifestRelPath = (n) => join('manifests', n.host, n.namespace, n.model, n.tag)
