// Text for a terminal, wrapped at word boundaries: a terminal breaks a long line wherever its edge
// falls, mid-word, and the next line starts at column 0.

/** A colour (SGR) sequence: it takes no column. */
const SGR = new RegExp(String.raw`\u001b\[[\d;]*m`, 'g')

export function visibleLength(text: string): number {
  return text.replace(SGR, '').length
}

/** The columns to wrap at: the terminal's width, or 80 when the output is not a terminal (a pipe, a file). */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY === true && stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80
}

/**
 * Breaks `line` at spaces so that no line is wider than `width` columns; every line after the first
 * starts with `indent`. A word wider than a line is left whole on a line of its own.
 */
export function wrapLine(line: string, width: number, indent: string): string[] {
  if (visibleLength(line) <= width) return [line]
  const lead = /^ */.exec(line)![0]
  const words = line.slice(lead.length).split(/( +)/)
  const lines: string[] = []
  let current = lead + (words[0] ?? '')
  for (let i = 1; i + 1 < words.length; i += 2) {
    const space = words[i]!
    const word = words[i + 1]!
    if (visibleLength(current + space + word) <= width) {
      current += space + word
    } else {
      lines.push(current)
      current = indent + word
    }
  }
  lines.push(current)
  return lines
}
