// The build context as the tar the engine (or `docker build -`) reads: exactly the entries the tag
// was computed from (src/render/image-build.ts), each file checked against its digest as it is read.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pack } from 'tar-stream'
import { UserError } from '../errors.js'
import type { ImageBuild } from '../render/image-build.js'

export function contextTar(build: Pick<ImageBuild, 'context' | 'entries' | 'ref'>): Readable {
  const tar = pack()
  const write = async () => {
    for (const entry of build.entries) {
      // a fixed mtime: the tar, like the tag, depends on the content only
      const header = { name: entry.path, mode: entry.mode, mtime: new Date(0), uid: 0, gid: 0 }
      if (entry.kind === 'symlink') {
        tar.entry({ ...header, type: 'symlink', linkname: entry.content })
        continue
      }
      const bytes = await readFile(join(build.context, entry.path))
      if (createHash('sha256').update(bytes).digest('hex') !== entry.content)
        throw new UserError(
          `${join(build.context, entry.path)} changed after the tag ${build.ref} was computed from it`,
          'Run the command again once the files are settled.',
        )
      await new Promise<void>((resolve, reject) =>
        tar.entry(header, bytes, (error) => (error ? reject(error) : resolve())),
      )
    }
    tar.finalize()
  }
  write().catch((error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))))
  // tar-stream's pack is a streamx stream: Node's Readable for dockerode and execa
  return Readable.from(tar as AsyncIterable<Buffer>)
}
