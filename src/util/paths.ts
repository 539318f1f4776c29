import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The installed package's root (holds package.json, schemas/ and the bundled reference platform). */
export function packageRoot(): string {
  // Same answer from src/ under vitest and from dist/src/ when built, so walk up instead of counting levels.
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('ai-platform: cannot find the package root (package.json next to schemas/)')
    dir = parent
  }
}
