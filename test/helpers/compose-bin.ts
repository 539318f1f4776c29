// Real Compose binaries for checking rendered files: v1 (Debian's docker-compose 1.29) and v2
// (the CLI plugin, found on PATH as `docker compose` or in the fleet's cache).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from './project.js'

export interface ComposeBin {
  name: 'v1' | 'v2'
  argv: string[]
}

function works(argv: string[]): boolean {
  try {
    execFileSync(argv[0]!, [...argv.slice(1), 'version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export function composeBinaries(): { v1: ComposeBin | null; v2: ComposeBin | null } {
  const v1 =
    works(['docker-compose']) &&
    execFileSync('docker-compose', ['version', '--short'], { encoding: 'utf8' }).startsWith('1.')
      ? { name: 'v1' as const, argv: ['docker-compose'] }
      : null
  const cached = process.env.AIP_COMPOSE_V2 ?? join(REPO, 'test/fleet/.state/cache/compose-v2/docker-compose')
  let v2: ComposeBin | null = null
  if (existsSync(cached) && works([cached])) v2 = { name: 'v2', argv: [cached] }
  else if (works(['docker', 'compose'])) v2 = { name: 'v2', argv: ['docker', 'compose'] }
  return { v1, v2 }
}
