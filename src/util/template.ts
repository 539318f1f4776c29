// Templates are Handlebars text with a fixed set of helpers: no code runs from a template,
// and a missing variable is an error that names the template, the position and the variable.
import Handlebars from 'handlebars'
import type { Issue } from '../errors.js'

const HELPERS: Record<string, Handlebars.HelperDelegate> = {
  /** A JSON literal: a safe YAML scalar or flow collection for any value. */
  json: (value: unknown) => JSON.stringify(value ?? null),
  join: (list: unknown, separator: unknown) =>
    Array.isArray(list) ? list.map(String).join(typeof separator === 'string' ? separator : ',') : '',
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  or: (a: unknown, b: unknown) => Boolean(a) || Boolean(b),
  not: (a: unknown) => !a,
  length: (list: unknown) => (Array.isArray(list) ? list.length : isObject(list) ? Object.keys(list).length : 0),
}

const KNOWN_HELPERS = Object.fromEntries(Object.keys(HELPERS).map((name) => [name, true]))
const OPTIONS: CompileOptions = {
  strict: true,
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: KNOWN_HELPERS,
  preventIndent: true,
}

type CompileOptions = Parameters<typeof Handlebars.compile>[1]

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object'
}

/**
 * What one render may do: nested {{#each}} over the fleet multiplies (a 200-byte template of eight
 * nested loops is 10^8 iterations), so iterations are counted and the output is measured.
 */
const MAX_ITERATIONS = 100_000
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024

interface Budget {
  iterations: number
}

function engine(): typeof Handlebars {
  const instance = Handlebars.create()
  instance.unregisterHelper('log') // writes to the console: not for templates
  const each = instance.helpers.each!
  instance.registerHelper('each', function (this: unknown, context: unknown, options: Handlebars.HelperOptions) {
    const budget = (options.data as { budget?: Budget } | undefined)?.budget
    if (!budget) return each.call(this, context, options) as unknown
    const fn = options.fn
    const counted = Object.assign({}, options, {
      fn: (value: unknown, runtime?: Handlebars.RuntimeOptions) => {
        if (++budget.iterations > MAX_ITERATIONS)
          throw helperError(`{{#each}} ran more than ${MAX_ITERATIONS} times in one render: nested loops multiply`, {
            allowed: `at most ${MAX_ITERATIONS} iterations`,
          })
        return fn(value, runtime)
      },
    })
    return each.call(this, context, counted) as unknown
  })
  for (const [name, helper] of Object.entries(HELPERS)) instance.registerHelper(name, helper)
  // `file 'path'`: where a rendered config file lands on the host, from the render's own table.
  instance.registerHelper('file', function (path: unknown, options: Handlebars.HelperOptions) {
    const root = (options.data as { root?: { [FILES]?: ReadonlyMap<string, string>; host?: { name?: string } } }).root
    const files = root?.[FILES]
    const target = files?.get(String(path))
    if (target === undefined) {
      const known = files ? [...files.keys()] : []
      throw helperError(`no stack on host ${root?.host?.name ?? '?'} renders ${String(path)}`, {
        allowed: known.join(', ') || 'none (x-ai-platform.files)',
        got: JSON.stringify(String(path)),
      })
    }
    return target
  })
  return instance
}

/** Context key holding the rendered files' targets for the `file` helper. */
export const FILES = '_files'
const ALL_HELPERS = { ...KNOWN_HELPERS, file: true }

/** One Handlebars instance and a cache of compiled templates: a render compiles each distinct text once. */
export class TemplateEngine {
  private readonly instance = engine()
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>()

  render(display: string, text: string, context: Record<string, unknown>): TemplateResult {
    let template = this.compiled.get(text)
    if (!template) {
      template = this.instance.compile(text, { ...OPTIONS, knownHelpers: ALL_HELPERS })
      this.compiled.set(text, template)
    }
    try {
      const text = template(context, {
        allowProtoPropertiesByDefault: false,
        allowProtoMethodsByDefault: false,
        data: { budget: { iterations: 0 } satisfies Budget },
      })
      if (text.length > MAX_OUTPUT_CHARS) {
        return {
          ok: false,
          issue: {
            file: display,
            line: 1,
            col: 1,
            path: '',
            message: `renders to ${(text.length / (1024 * 1024)).toFixed(1)} MiB, more than a config file may be`,
            allowed: `at most ${MAX_OUTPUT_CHARS / (1024 * 1024)} MiB`,
            severity: 'error',
          },
        }
      }
      return { ok: true, text }
    } catch (error) {
      return {
        ok: false,
        issue: templateIssue(
          display,
          text,
          error,
          Object.keys(context).filter((k) => k !== FILES),
        ),
      }
    }
  }
}

/** Syntax and helper problems, found without rendering. */
export function compileTemplateIssues(display: string, text: string): Issue[] {
  try {
    engine().precompile(text, { ...OPTIONS, knownHelpers: ALL_HELPERS })
    return []
  } catch (error) {
    return [templateIssue(display, text, error)]
  }
}

export type TemplateResult = { ok: true; text: string } | { ok: false; issue: Issue }

function templateIssue(display: string, text: string, error: unknown, variables?: string[]): Issue {
  const e = error as { message?: string; lineNumber?: number; column?: number }
  const message = e.message ?? String(error)
  const notDefined = /^"(.+?)" not defined in/.exec(message)
  if (notDefined && e.lineNumber !== undefined && e.column !== undefined) {
    const line = text.split('\n')[e.lineNumber - 1] ?? ''
    const expression = /^[@A-Za-z0-9_.\-/[\]]+/.exec(line.slice(e.column))?.[0] ?? notDefined[1]!
    const issue: Issue = {
      file: display,
      line: e.lineNumber,
      col: e.column + 1,
      path: '',
      message: `missing variable "${expression}"`,
      severity: 'error',
    }
    if (variables) issue.allowed = `variables under ${variables.join(', ')}`
    return issue
  }
  const parse = /Parse error on line (\d+):/.exec(message)
  if (parse) {
    const expecting = /Expecting (.*), got '(.*)'/.exec(message)
    const issue: Issue = {
      file: display,
      line: Number(parse[1]),
      col: 1,
      path: '',
      message: 'template syntax error',
      severity: 'error',
    }
    if (expecting) issue.got = expecting[2]!
    return issue
  }
  const aip = (error as { aipIssue?: { message: string; allowed?: string; got?: string } }).aipIssue
  if (aip)
    return { file: display, line: e.lineNumber ?? 1, col: (e.column ?? 0) + 1, path: '', severity: 'error', ...aip }
  const helper = /unknown helper (\S+)/.exec(message)
  if (helper) {
    return {
      file: display,
      line: e.lineNumber ?? 1,
      col: (e.column ?? 0) + 1,
      path: '',
      message: 'unknown helper',
      allowed: Object.keys(HELPERS).join(', '),
      got: helper[1]!,
      severity: 'error',
    }
  }
  // Handlebars' other compile errors end with " - line:column".
  const located = /^(.*) - (\d+):(\d+)$/.exec(message.split('\n')[0]!)
  if (located)
    return {
      file: display,
      line: Number(located[2]),
      col: Number(located[3]) + 1,
      path: '',
      message: `template syntax error: ${located[1]}`,
      severity: 'error',
    }
  return {
    file: display,
    line: e.lineNumber ?? 1,
    col: (e.column ?? 0) + 1,
    path: '',
    message: message.split('\n')[0]!,
    severity: 'error',
  }
}

/** An error a helper throws to become a located issue with its own message. */
function helperError(message: string, extra: { allowed?: string; got?: string } = {}): Error {
  return Object.assign(new Error(message), { aipIssue: { message, ...extra } })
}
