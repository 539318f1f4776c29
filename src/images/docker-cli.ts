// The workstation's Docker CLI, as argv arrays (run through execa, never a shell), and the run's own
// CLI config holding the registry log-in (never an argv).
import type { ImageBuild } from '../render/image-build.js'

/**
 * The run's own Docker CLI config holding the registry log-in. Written rather than made by `docker
 * login`: a config without an `auths` entry makes the CLI look for a credential helper (a keychain,
 * `pass`, secretservice) and store the password there, where removing the directory would not reach it.
 * With the entry present the CLI uses it and asks no helper.
 */
export function dockerConfigJson(registry: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`, 'utf8').toString('base64')
  return `${JSON.stringify({ auths: { [registry]: { auth } } })}\n`
}

/**
 * `docker build` of the context sent as a tar on stdin (`-`): the files the tag was computed from,
 * .dockerignore applied by ai-platform, so what is built is what was hashed.
 */
export function dockerBuild(build: Pick<ImageBuild, 'ref' | 'dockerfile' | 'args'>): string[] {
  const args = Object.keys(build.args)
    .sort()
    .flatMap((name) => ['--build-arg', `${name}=${build.args[name]}`])
  return ['docker', 'build', '--file', build.dockerfile, '--tag', build.ref, ...args, '-']
}

export function dockerPush(ref: string): string[] {
  return ['docker', 'push', ref]
}

/** Exit 0 when the registry holds the manifest; asks the registry only, pulls nothing. */
export function dockerManifestInspect(ref: string): string[] {
  return ['docker', 'manifest', 'inspect', ref]
}
