// The workstation's Docker CLI, as argv arrays (run through execa, never a shell). The password goes to
// `docker login` on stdin; nothing here ever holds it.
import type { ImageBuild } from '../render/image-build.js'

/** `docker login` reading the password from stdin (execa's `input`), into the run's own DOCKER_CONFIG. */
export function dockerLogin(registry: string, username: string): string[] {
  return ['docker', 'login', registry, '--username', username, '--password-stdin']
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
