// JSON Schema validation (ajv, all errors) turned into located, plain-language issues.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { Issue } from '../errors.js'
import { packageRoot } from '../util/paths.js'
import { withCode, type ConfigIssue } from './issues.js'
import type { InventoryDocument, StackDocument } from './schema-types.generated.js'
import { describeValue, issueAt, type PathSegment, type SourceFile } from './source.js'

/** A value that passes a validator has the type generated from the same schema (tools/schema-types.ts). */
export interface Validators {
  inventory: ValidateFunction<InventoryDocument>
  stack: ValidateFunction<StackDocument>
}

/** The validators compiled at build time (tools/postbuild.mjs), else compiled now (tests run from src/). */
export async function loadValidators(): Promise<Validators> {
  try {
    // @ts-expect-error generated at build time, absent when running from src/
    const generated = (await import('./validators.generated.js')) as Validators
    return { inventory: generated.inventory, stack: generated.stack }
  } catch {
    return compileValidators()
  }
}

function compileValidators(): Validators {
  const root = packageRoot()
  const inventorySchema = JSON.parse(readFileSync(join(root, 'schemas', 'inventory.schema.json'), 'utf8')) as object
  const stackSchema = JSON.parse(readFileSync(join(root, 'schemas', 'stack.schema.json'), 'utf8')) as object
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true })
  ajv.addSchema(inventorySchema)
  ajv.addSchema(stackSchema)
  return {
    inventory: ajv.getSchema<InventoryDocument>('https://ai-platform.dev/schemas/inventory.schema.json')!,
    stack: ajv.getSchema<StackDocument>('https://ai-platform.dev/schemas/stack.schema.json')!,
  }
}

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: ConfigIssue[] }

export function validateWith<T>(validate: ValidateFunction<T>, value: unknown, source: SourceFile): Checked<T> {
  if (validate(value)) return { ok: true, value }
  const issues = schemaIssues(validate.errors ?? [], source).sort((a, b) => a.line - b.line || a.col - b.col)
  return { ok: false, issues: issues.map((issue) => withCode(issue, 'schema')) }
}

/** ajv reports every failed branch of a oneOf; keep one message per place, the most useful one. */
function schemaIssues(errors: readonly ErrorObject[], source: SourceFile): Issue[] {
  // A failed oneOf stands for all of its branches' errors, which sit at or below its instance path.
  const under = (path: string, parent: string): boolean => path === parent || path.startsWith(`${parent}/`)
  const choices = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
  const outer = choices.filter(
    (c) => !choices.some((o) => o !== c && under(c.instancePath, o.instancePath) && o.instancePath !== c.instancePath),
  )
  const kept: ErrorObject[] = []
  for (const error of errors) {
    if (error.keyword === 'propertyNames' || error.keyword === 'if') continue // the nested error carries the detail
    const owner = outer.find((c) => under(error.instancePath, c.instancePath))
    if (owner === undefined) kept.push(error)
    else if (owner === error) kept.push(...explainChoice(error, errors))
  }
  const seen = new Set<string>()
  const issues: Issue[] = []
  for (const error of kept) {
    const issue = toIssue(error, source)
    const key = `${issue.line}:${issue.col}:${issue.path}:${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push(issue)
  }
  return issues
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

function toIssue(error: ErrorObject, source: SourceFile): Issue {
  const path = pointerToPath(error.instancePath)
  const params = error.params as Record<string, unknown>
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName
  const schema = error.parentSchema
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      if (key === 'build' && path.length === 2 && path[0] === 'services') {
        const data = error.data as { 'x-ai-platform'?: { build?: unknown } } | null
        const both = typeof data?.['x-ai-platform']?.build === 'object'
        return issueAt(
          source,
          [...path, key],
          both
            ? "Compose's build is not supported: x-ai-platform.build already builds this service's image; remove build"
            : "Compose's build is not supported: hosts pull images; build from source with x-ai-platform.build and `ai-platform images build`",
          { key: true },
        )
      }
      const known = Object.keys((schema?.properties as object | undefined) ?? {})
      const patterns = Object.keys((schema?.patternProperties as object | undefined) ?? {})
      const allowed =
        known.length > 0 ? known.join(', ') + (patterns.some((p) => p.startsWith('^x-')) ? ', x-*' : '') : 'no keys'
      return issueAt(source, [...path, key], 'unknown key', { allowed, got: JSON.stringify(key), key: true })
    }
    case 'required':
      return issueAt(source, path, 'required key is missing', { display: [...path, String(params.missingProperty)] })
    case 'enum':
      return issueAt(
        source,
        path,
        `must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`,
        { got: describeValue(error.data) },
      )
    case 'const':
      return issueAt(source, path, 'has the wrong value', {
        allowed: JSON.stringify(params.allowedValue),
        got: describeValue(error.data),
      })
    case 'type':
      return issueAt(source, path, `must be ${article(String(params.type))}`, { got: describeValue(error.data) })
    case 'pattern': {
      const allowed = allowedText(schema, String(params.pattern))
      if (propertyName !== undefined) {
        return issueAt(source, [...path, propertyName], 'is not an allowed name', {
          allowed,
          got: JSON.stringify(propertyName),
          key: true,
        })
      }
      return issueAt(source, path, 'has a value that is not allowed', { allowed, got: describeValue(error.data) })
    }
    case 'oneOf':
    case 'anyOf': {
      const branches = ((error.schema as unknown[]) ?? []).map(describeSchema)
      return issueAt(source, path, 'has the wrong form', {
        allowed: branches.join(' or '),
        got: describeValue(error.data),
      })
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return issueAt(source, path, `must be ${String(params.comparison)} ${String(params.limit)}`, {
        got: describeValue(error.data),
      })
    case 'minItems':
      return issueAt(source, path, `must have at least ${String(params.limit)} item(s)`, {
        got: `${(error.data as unknown[]).length}`,
      })
    case 'minProperties':
      return issueAt(source, path, `must have at least ${String(params.limit)} key(s)`, { got: 'an empty mapping' })
    case 'maxProperties':
      return issueAt(source, path, `must have at most ${String(params.limit)} keys`, {
        got: `${Object.keys(error.data as object).length}`,
      })
    case 'uniqueItems':
      return issueAt(source, [...path, Number(params.j)], 'repeats an earlier item', {
        got: describeValue((error.data as unknown[])[Number(params.j)]),
      })
    case 'minLength':
      return issueAt(source, path, 'must not be empty', { got: describeValue(error.data) })
    default:
      return issueAt(source, path, error.message ?? `fails ${error.keyword}`, { got: describeValue(error.data) })
  }
}

/**
 * "has the wrong form" says little. When exactly one form accepts the value's type (a mapping where
 * one form is a mapping), that form's own errors say what is wrong.
 */
function explainChoice(choice: ErrorObject, errors: readonly ErrorObject[]): ErrorObject[] {
  const data = choice.data
  const kind =
    data === null ? 'null' : Array.isArray(data) ? 'array' : typeof data === 'object' ? 'object' : typeof data
  const branches = (choice.schema as Record<string, unknown>[]).map((branch, index) => ({
    index,
    types: typesOf(branch),
  }))
  const matching = branches.filter((b) => b.types.includes(kind) || (kind === 'number' && b.types.includes('integer')))
  if (matching.length !== 1) return [choice]
  const prefix = `${choice.schemaPath}/${matching[0]!.index}/`
  const inner = errors.filter((e) => e.schemaPath.startsWith(prefix) && e.keyword !== 'oneOf')
  return inner.length > 0 ? inner : [choice]
}

function typesOf(schema: Record<string, unknown>): string[] {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop()!
    return name === 'stringList' ? ['array'] : name === 'stringOrList' ? ['string', 'array'] : []
  }
  if (schema.const !== undefined) return [typeof schema.const]
  if (schema.type === undefined) return []
  return Array.isArray(schema.type)
    ? (schema.type as string[])
    : [typeof schema.type === 'string' ? schema.type : JSON.stringify(schema.type)]
}

function allowedText(schema: Record<string, unknown> | undefined, pattern: string): string {
  if (typeof schema?.['x-allowed'] === 'string') return schema['x-allowed']
  if (pattern === '^/') return 'a path starting with /'
  return `text matching ${pattern}`
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    null: 'empty',
  }
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ')
}

function describeSchema(schema: unknown): string {
  const s = schema as Record<string, unknown>
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!
    return (
      ({ stringList: 'a list of strings', stringOrList: 'a string or a list of strings' } as Record<string, string>)[
        name
      ] ?? name
    )
  }
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (s.type !== undefined)
    return article(
      Array.isArray(s.type) ? s.type.join(',') : typeof s.type === 'string' ? s.type : JSON.stringify(s.type),
    )
  return 'another form'
}
