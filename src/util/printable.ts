// Text a host controls (its stderr, lock holder, history, container names, file listings) is shown to the
// operator only through these: a terminal must never receive a control sequence from a host (set the
// window title, erase a line, an OSC 8 link, a clipboard write) or a bidi override that reorders what
// the operator reads.

/**
 * C0 controls but tab and newline, DEL, C1 controls, and the invisible formatting characters that
 * reorder or hide text (bidi embeddings, overrides and isolates, zero-width characters, line and
 * paragraph separators, the byte order mark).
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`
}

/** The text with every unsafe character written as an escape (`\x1b`, `\u{202e}`); newlines and tabs kept. */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar)
}

const QUOTED: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t' }

/** One line of host text for a message: in double quotes, every unsafe character, newline, quote and backslash escaped, cut to `max` characters. */
export function quoted(text: string, max = 120): string {
  const cut = text.length > max ? text.slice(0, max) : text

  return `"${cut.replace(/[\\"\n\t]/g, (ch) => QUOTED[ch]!).replace(UNSAFE, escapeChar)}"${cut.length < text.length ? '...' : ''}`
}

/**
 * For whole lines built by ai-platform that may carry host text: escapes as printable() does, except
 * the SGR colour sequences (ESC [ ... m) that ai-platform's own styling writes.
 */
export function terminalSafe(text: string): string {
  let out = ''
  let last = 0
  // eslint-disable-next-line no-control-regex
  for (const match of text.matchAll(/\u001b\[[0-9;]*m/g)) {
    out += printable(text.slice(last, match.index)) + match[0]
    last = match.index + match[0].length
  }
  return out + printable(text.slice(last))
}

/** JSON text with the characters JSON.stringify leaves raw (DEL, C1, bidi and invisible ones) as \u escapes: the same JSON value. */
export function jsonSafe(json: string): string {
  return json.replace(
    /[\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
