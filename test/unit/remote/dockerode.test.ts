// dockerode without its BuildKit session module: the Docker API still works, and gRPC is not loaded.
// Each case runs in its own Node process (the require cache is per process), against the built code.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO } from '../../helpers/project.js'

function child(script: string): { grpc: string[]; containers: unknown; build: string } {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' })
  return JSON.parse(out) as { grpc: string[]; containers: unknown; build: string }
}

// A Docker Engine API of one route on a unix socket, then what the loaded modules and a listing show.
const probe = (load: string, build = true) => `
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const require = createRequire(join(process.cwd(), 'package.json'))
${load}
const socketPath = join(mkdtempSync(join(tmpdir(), 'aip-dockerode-')), 'docker.sock')
const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(req.url.startsWith('/containers/json') ? JSON.stringify([{ Id: 'c1', Labels: { 'com.docker.compose.service': 'ollama' } }]) : '{}')
})
await new Promise((resolve) => server.listen(socketPath, resolve))
const docker = new Docker({ socketPath })
const containers = await docker.listContainers({ all: true })
let build = 'not called'
if (${build}) try { await docker.buildImage({ context: '.', src: [] }, { version: '2' }) } catch (error) { build = error.message }
server.close()
const grpc = Object.keys(require.cache).filter((path) => path.includes('@grpc'))
console.log(JSON.stringify({ grpc, containers, build }))
`

describe('dockerode()', () => {
  it('talks to the Docker API with gRPC never loaded', () => {
    const r = child(probe(`const { dockerode } = await import(${JSON.stringify(join(REPO, 'dist/src/remote/dockerode.js'))}); const Docker = dockerode()`))
    expect(r.containers).toEqual([{ Id: 'c1', Labels: { 'com.docker.compose.service': 'ollama' } }])
    expect(r.grpc).toEqual([])
    expect(r.build).toBe('BuildKit sessions are not available in ai-platform')
  })

  it('is needed: dockerode loaded plainly brings in gRPC (if this fails, the stand-in can go)', () => {
    const r = child(probe(`const Docker = require('dockerode')`, false))
    expect(r.containers).toEqual([{ Id: 'c1', Labels: { 'com.docker.compose.service': 'ollama' } }])
    expect(r.grpc.length).toBeGreaterThan(0)
  })
})
