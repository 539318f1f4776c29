// dockerode, loaded on first use and without its BuildKit session support. dockerode requires
// @grpc/grpc-js and @grpc/proto-loader when it loads, for `buildImage` with a BuildKit session, which
// ai-platform never calls: 50-80 ms of every deploy's start-up on a 2-core machine. A stand-in takes
// that one module's place in the require cache; if a future dockerode moves it, the stand-in is simply
// unused (and test/unit/remote/dockerode.test.ts says so).
import Module, { createRequire } from 'node:module'
import type Docker from 'dockerode'

const require = createRequire(import.meta.url)
let loaded: typeof Docker | undefined

export function dockerode(): typeof Docker {
  if (loaded) return loaded
  const session = require.resolve('dockerode/lib/session.js')
  if (!require.cache[session]) {
    const stand = new Module(session)
    stand.filename = session
    stand.loaded = true
    stand.exports = () => {
      throw new Error('BuildKit sessions are not available in ai-platform')
    }
    require.cache[session] = stand
  }
  loaded = require('dockerode') as typeof Docker
  return loaded
}
