// Reading the project's files: every YAML file of a directory at once, each parsed and checked against
// its schema on its own, so that one broken file never hides another's problems.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ValidateFunction } from 'ajv'
import type { ConfigIssue } from './issues.js'
import { validateWith } from './schema.js'
import { readYamlFile, type SourceFile } from './source.js'

export interface ReadDocument<T> {
  abs: string
  /** YAML warnings, and the file's errors when it does not parse or fails its schema. */
  issues: ConfigIssue[]
  /** The value, typed by its schema; null when the file fails either. */
  checked: { source: SourceFile; value: T } | null
}

/** The `*.yaml` and `*.yml` files of a directory, sorted; none when it does not exist. */
export async function listYaml(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n))
}

/** Every file read at once; the results come back in file order. */
export function readDocuments<T>(
  files: readonly string[],
  display: (abs: string) => string,
  validate: ValidateFunction<T>,
): Promise<ReadDocument<T>[]> {
  return Promise.all(
    files.map(async (abs): Promise<ReadDocument<T>> => {
      const read = await readYamlFile(abs, display(abs))
      if (!read.ok) return { abs, issues: read.issues, checked: null }
      const checked = validateWith(validate, read.value ?? {}, read.source)
      if (!checked.ok) return { abs, issues: [...read.warnings, ...checked.issues], checked: null }
      return { abs, issues: read.warnings, checked: { source: read.source, value: checked.value } }
    }),
  )
}

/** Template path (relative to templates/, with /) -> its text. */
export async function readTemplates(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  let entries: string[]
  try {
    entries = await readdir(dir, { recursive: true })
  } catch {
    return out
  }
  for (const entry of entries.sort()) {
    const abs = join(dir, entry)
    try {
      out[entry.split('\\').join('/')] = await readFile(abs, 'utf8')
    } catch {
      // a directory
    }
  }
  return out
}
