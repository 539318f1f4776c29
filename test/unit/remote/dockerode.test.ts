// dockerode without its BuildKit session module: gRPC is not loaded, the client is the real dockerode
// and only a BuildKit session says it is missing. Each case runs in its own Node process (the require
// cache is per process), against the built code. That the Docker API works through it is shown by
// every deploy and health test on the fleet (real dockerd).
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO } from '../../helpers/project.js'

function child(script: string): { grpc: string[]; methods: string[]; build: string } {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' })
  return JSON.parse(out) as { grpc: string[]; methods: string[]; build: string }
}

// What got loaded, what the client offers, and what a BuildKit build (version 2) does before any request.
const probe = (load: string, build = true) => `
import { createRequire } from 'node:module'
import { join } from 'node:path'
const require = createRequire(join(process.cwd(), 'package.json'))
${load}
const docker = new Docker({ socketPath: '/nonexistent/docker.sock' })
const methods = ['listContainers', 'getContainer', 'getImage', 'pull'].filter((m) => typeof docker[m] === 'function')
let build = 'not called'
if (${build}) try { await docker.buildImage({ context: '.', src: [] }, { version: '2' }) } catch (error) { build = error.message }
const grpc = Object.keys(require.cache).filter((path) => path.includes('@grpc'))
console.log(JSON.stringify({ grpc, methods, build }))
`

describe('dockerode()', () => {
  it('is dockerode with gRPC never loaded; a BuildKit session says it is not available', () => {
    const r = child(
      probe(
        `const { dockerode } = await import(${JSON.stringify(join(REPO, 'dist/src/remote/dockerode.js'))}); const Docker = dockerode(); if (Docker !== require('dockerode')) throw new Error('not the dockerode module')`,
      ),
    )
    expect(r.methods).toEqual(['listContainers', 'getContainer', 'getImage', 'pull'])
    expect(r.grpc).toEqual([])
    expect(r.build).toBe('BuildKit sessions are not available in ai-platform')
  })

  it('is needed: dockerode loaded plainly brings in gRPC (if this fails, the stand-in can go)', () => {
    const r = child(probe(`const Docker = require('dockerode')`, false))
    expect(r.grpc.length).toBeGreaterThan(0)
  })
})
