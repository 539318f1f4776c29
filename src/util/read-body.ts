// HTTP answers from hosts are read up to a bound: a body is a host's to make as large as it likes.

/** The body as text, up to `limit` bytes; the rest is not read (the connection is closed). */
export async function readBody(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  limit: number,
): Promise<string> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of body) {
    const left = limit - bytes
    chunks.push(Buffer.from(chunk).subarray(0, Math.max(0, left)))
    bytes += chunk.length
    if (bytes >= limit) {
      body.destroy?.()
      break
    }
  }
  return Buffer.concat(chunks).toString('utf8')
}
