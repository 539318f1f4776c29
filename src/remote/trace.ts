// --verbose / AIP_DEBUG=1: one stderr line per command run on a host. Secrets never travel in argv
// (they go to hosts inside the release tarball), and the caller's redaction masks anything else.

function tracing(): boolean {
  return process.env.AIP_DEBUG === '1'
}

export function trace(
  host: string,
  command: string,
  code: number | null,
  ms: number,
  redact: (text: string) => string = (t) => t,
): void {
  if (!tracing()) return
  const oneLine = command.replace(/\s*\n\s*/g, '; ')
  const shown = oneLine.length > 240 ? `${oneLine.slice(0, 237)}...` : oneLine
  process.stderr.write(
    `[trace] ${host} $ ${redact(shown)} -> ${code === null ? 'no exit status' : `exit ${code}`} (${ms} ms)\n`,
  )
}
