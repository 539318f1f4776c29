// The build context as the tar the engine (or `docker build -`) reads: exactly the entries the tag
// was computed from (src/render/image-build.ts), each file checked against its digest as it is read.
// Built whole before it is sent, so a file that changed fails the run before a build starts (a stream
// failing half-way would leave the engine's request hanging); contexts are small, .dockerignore keeps them so.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pack } from 'tar-stream'
import { UserError } from '../errors.js'
import type { ImageBuild } from '../render/image-build.js'

export async function contextTar(build: Pick<ImageBuild, 'context' | 'entries' | 'ref'>): Promise<Buffer> {
  const files = new Map<string, Buffer>()
  for (const entry of build.entries) {
    if (entry.kind !== 'file') continue
    const bytes = await readFile(join(build.context, entry.path))
    if (createHash('sha256').update(bytes).digest('hex') !== entry.content)
      throw new UserError(
        `${join(build.context, entry.path)} changed after the tag ${build.ref} was computed from it`,
        'Run the command again once the files are settled.',
      )
    files.set(entry.path, bytes)
  }
  const tar = pack()
  const chunks: Buffer[] = []
  tar.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
  const done = new Promise<void>((resolve, reject) => {
    tar.on('end', resolve)
    tar.on('error', reject)
  })
  for (const entry of build.entries) {
    // a fixed mtime and owner: the tar, like the tag, depends on the content only
    const header = { name: entry.path, mode: entry.mode, mtime: new Date(0), uid: 0, gid: 0 }
    if (entry.kind === 'symlink') tar.entry({ ...header, type: 'symlink', linkname: entry.content })
    else tar.entry(header, files.get(entry.path)!)
  }
  tar.finalize()
  await done
  return Buffer.concat(chunks)
}
