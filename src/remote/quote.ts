// The one place argv becomes a shell string: every word single-quoted unless it is
// plainly safe, so names and values from the inventory are carried as data, never as shell syntax.
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

export function quoteWord(word: string): string {
  if (word !== '' && SAFE.test(word)) return word
  return singleQuoted(word)
}

/** Always quoted: where a reader relies on the quotes being there (a release's .env). */
export function singleQuoted(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

export function shellQuote(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ')
}
