// A small YAML emitter for rendered compose files: plain data only (maps, lists, strings, numbers,
// booleans, null), keys sorted, strings quoted unless plainly safe under both YAML 1.1 (Compose v1's
// PyYAML) and 1.2. The yaml library's stringify is general but costs ~100 ms for ten hosts at start-up.

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@%+=,-]*$/
// YAML 1.1 reads these as booleans, nulls or special floats when unquoted.
const SPECIAL = /^(y|n|yes|no|on|off|true|false|null|~|\.inf|\.nan|-\.inf|e[-+]?\d+)$/i

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`yaml-emit: cannot write ${value}`)
    return String(value)
  }
  if (PLAIN.test(value) && !SPECIAL.test(value)) return value
  return JSON.stringify(value)
}

function isBlockable(text: string): boolean {
  // Literal blocks keep shell scripts readable; anything unusual is JSON-quoted instead.
  return (
    text.includes('\n') &&
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must not go into a block
    !/[\r\t\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/.test(text) &&
    !/^[ \n]/.test(text) &&
    !/ \n| $/.test(text) &&
    !/\n\n+$/.test(text)
  )
}

function block(text: string, indent: string): string {
  const chomp = text.endsWith('\n') ? '|' : '|-'
  const body = (text.endsWith('\n') ? text.slice(0, -1) : text)
    .split('\n')
    .map((line) => (line === '' ? '' : indent + line))
    .join('\n')
  return `${chomp}\n${body}`
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function key(name: string): string {
  return PLAIN.test(name) && !SPECIAL.test(name) ? name : JSON.stringify(name)
}

function emitValue(value: unknown, indent: string, lines: string[], prefix: string): void {
  if (isMap(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
    if (keys.length === 0) {
      lines.push(`${prefix}{}`)
      return
    }
    let first = true
    for (const k of keys) {
      const lead = first && prefix !== '' ? prefix : indent
      emitEntry(`${lead}${key(k)}:`, value[k], indent, lines)
      first = false
    }
    return
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      lines.push(`${prefix}[]`)
      return
    }
    let first = true
    for (const item of value) {
      const lead = first && prefix !== '' ? prefix : indent
      if (isMap(item) && Object.keys(item).length > 0) emitValue(item, `${indent}  `, lines, `${lead}- `)
      else emitEntry(`${lead}-`, item, indent, lines)
      first = false
    }
    return
  }
  lines.push(`${prefix}${scalarOrBlock(value, indent)}`)
}

function scalarOrBlock(value: unknown, indent: string): string {
  if (typeof value === 'string' && isBlockable(value)) return block(value, `${indent}  `)
  return scalar(value as string | number | boolean | null)
}

function emitEntry(head: string, value: unknown, indent: string, lines: string[]): void {
  if ((isMap(value) && Object.keys(value).length > 0) || (Array.isArray(value) && value.length > 0)) {
    lines.push(head)
    emitValue(value, `${indent}  `, lines, '')
  } else if (isMap(value)) lines.push(`${head} {}`)
  else if (Array.isArray(value)) lines.push(`${head} []`)
  else lines.push(`${head} ${scalarOrBlock(value, indent)}`)
}

export function emitYaml(document: Record<string, unknown>): string {
  const lines: string[] = []
  emitValue(document, '', lines, '')
  return `${lines.join('\n')}\n`
}
