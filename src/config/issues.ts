// Every problem the loader reports carries a stable code, kept in `validate --json`: code that reacts
// to a problem decides on its code, never on its message, which is written for people.
import type { Issue } from '../errors.js'

/** Each code and what it stands for. Messages say where and what is allowed; codes say which rule. */
export const ISSUE_CODES = {
  // Reading files (src/config/source.ts)
  'file-unreadable': 'a file could not be read',
  'file-too-large': 'a file is larger than any inventory or stack file should be',
  'not-utf8': 'a file is not UTF-8 text',
  'invalid-yaml': 'a file is not valid YAML (duplicate keys included)',
  'yaml-warning': 'YAML the parser accepts with a warning',
  // The JSON Schemas in schemas/ (src/config/schema.ts)
  schema: 'a file does not match its JSON Schema',
  // Merging the files (src/config/load.ts)
  'no-inventory': 'inventory/ holds no YAML file',
  'no-platform': 'no inventory file has a platform block',
  'no-hosts': 'the inventory defines no host',
  'duplicate-platform': 'a second platform block',
  'duplicate-host': 'a host name defined in two places',
  'duplicate-model': 'a model declared twice',
  'duplicate-stack': 'two stack files with one name (.yaml and .yml)',
  'duplicate-service': 'a service name defined in two places',
  // Rules (src/config/rules/)
  'unknown-export': 'a host mounts an export the NAS does not have',
  'amd-only': 'an AMD-only GPU setting on another vendor',
  'export-writers': 'more than one host writes to one NAS export',
  'unknown-host': 'a selector names a host the inventory does not define',
  'unknown-tag': 'a selector names a tag no host carries',
  'non-finite-number': '.inf or .nan where a compose file needs a number',
  'obsolete-version': 'the obsolete Compose `version` key',
  'image-reference': 'an image reference Docker refuses',
  'build-image': 'a service with both image and x-ai-platform.build, or with neither',
  'build-registry': 'x-ai-platform.build without platform.image_registry',
  'build-context': 'a build context or Dockerfile that is missing or outside its directory',
  'registry-auth': 'platform.registry_auth without a registry, or naming an undeclared secret',
  'unknown-service': 'requires names a service no stack defines',
  'requires-itself': 'a service requires itself',
  'requires-unplaced': 'a placed service requires one placed on no host',
  'override-meta': 'an override sets x-ai-platform',
  'gpu-missing': 'a GPU service placed on a host without a GPU',
  'gpu-vendor': "a GPU service placed on a host with another vendor's GPU",
  'gpu-count': 'a service needs more GPUs than its host has',
  'vram-budget': "a GPU node's services and loaded models need more VRAM than it has",
  'vram-on-demand': 'a GPU node runs out of VRAM once its on-demand GPU services start (a warning)',
  'bad-dollar': 'a $ that Compose cannot interpolate',
  'undeclared-secret': '${VAR} without a default that is not a declared secret',
  'bind-escape': 'a bind mount source that climbs out with ..',
  'port-conflict': 'two services publish one port on a host',
  'replica-port': 'replicas (or a rolling update beside them) that would share one fixed host port or the host network',
  'single-host': 'a stack that forms one cluster placed on several hosts',
  'rollout-oneshot': 'a rolling update declared for a one-shot service, or one without a healthcheck',
  'dependency-cycle': 'services that require each other in a cycle',
  'host-cycle': 'requires that order hosts in a cycle',
  'unknown-model': 'a model name that is not declared',
  'no-ollama': 'a model on a host that runs no Ollama service',
  'provider-placed': 'an external provider model given a placement or a host',
  'provider-key': "an external provider's key that is no declared secret, or that no service passes to LiteLLM",
  'alert-receiver': 'an Alertmanager receiver that is not exactly one kind, or whose name is taken',
  'secret-file':
    "a secret Alertmanager or Prometheus reads as a file (a receiver's, a scrape's bearer) that is not declared, or that no service is given",
  'unknown-template': 'a stack names a template templates/ does not hold',
  'template-syntax': 'a template Handlebars cannot compile, or an unknown helper',
  // Found by validate after loading (src/validate/validate.ts)
  render: 'a problem rendering a host (src/render/render.ts)',
  secrets: 'a problem with secrets.env (src/secrets/check.ts)',
} as const

export type IssueCode = keyof typeof ISSUE_CODES

export interface ConfigIssue extends Issue {
  code: IssueCode
}

export function withCode(issue: Issue, code: IssueCode): ConfigIssue {
  return { code, ...issue }
}

/** A problem with a whole file or directory, reported at its first line. */
export function fileIssue(
  code: IssueCode,
  file: string,
  message: string,
  extra: { path?: string; allowed?: string; got?: string } = {},
): ConfigIssue {
  const issue: ConfigIssue = { code, file, line: 1, col: 1, path: extra.path ?? '', message, severity: 'error' }
  if (extra.allowed !== undefined) issue.allowed = extra.allowed
  if (extra.got !== undefined) issue.got = extra.got
  return issue
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error')
}
