// Images built from source (x-ai-platform.build) and the registry they go to (platform.registry_auth,
// platform.builder). The context is part of the platform, like templates/: it must exist and stay
// inside the platform directory, symbolic links included.
import { realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { imageProblemMessage, imageReferenceProblem } from '../image-ref.js'
import type { ConfigIssue } from '../issues.js'
import type { Platform, Service } from '../model.js'
import type { Origin } from '../origins.js'
import { configIssueAt, describeValue, type SourceFile } from '../source.js'

/** A service runs either the image it names or the one it builds: exactly one of the two. */
export function imageSourceRules(service: Service, { source, path }: Origin): ConfigIssue[] {
  const image = service.compose.image
  if (service.build && image !== undefined)
    return [
      configIssueAt(
        'build-image',
        source,
        [...path, 'image'],
        'a service built from source gets its image from the build: the render sets it to the ref `images build` pushes',
        { allowed: 'image or x-ai-platform.build, not both', got: describeValue(image) },
      ),
    ]
  if (service.build) {
    const index = service.overrides.findIndex((o) => 'image' in o.set)
    if (index !== -1)
      return [
        configIssueAt(
          'build-image',
          source,
          [...path, 'x-ai-platform', 'overrides', index, 'set', 'image'],
          'a service built from source runs the image it builds on every host',
          {
            allowed: 'no image in overrides of a service with x-ai-platform.build',
            got: describeValue(service.overrides[index]!.set.image),
          },
        ),
      ]
  }
  if (!service.build && image === undefined)
    return [
      configIssueAt('build-image', source, path, 'has no image', {
        allowed: 'image: REF, or x-ai-platform.build to build it from source',
      }),
    ]
  return []
}

/** registry_auth names a declared secret and a registry; builder names a host. */
export function registryRules(platform: Platform, source: SourceFile, hostOrder: readonly string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const auth = platform.registryAuth
  if (auth && platform.imageRegistry === undefined)
    issues.push(
      configIssueAt(
        'registry-auth',
        source,
        ['platform', 'registry_auth'],
        'credentials for no registry: set platform.image_registry',
        { key: true },
      ),
    )
  if (auth && !platform.secrets[auth.passwordSecret])
    issues.push(
      configIssueAt(
        'registry-auth',
        source,
        ['platform', 'registry_auth', 'password_secret'],
        'is not a declared secret',
        {
          allowed: declaredList(platform),
          got: JSON.stringify(auth.passwordSecret),
        },
      ),
    )
  if (platform.builder !== undefined && !hostOrder.includes(platform.builder))
    issues.push(
      configIssueAt('unknown-host', source, ['platform', 'builder'], 'unknown host', {
        allowed: hostOrder.join(', '),
        got: JSON.stringify(platform.builder),
      }),
    )
  return issues
}

function declaredList(platform: Platform): string {
  const names = Object.keys(platform.secrets).sort()
  return names.length > 0
    ? `a secret under platform.secrets (${names.join(', ')})`
    : 'a secret declared under platform.secrets'
}

/** The build's registry, context and Dockerfile; `dir` is the platform directory. */
export async function buildRules(
  service: Service,
  platform: Platform,
  dir: string,
  { source, path }: Origin,
): Promise<ConfigIssue[]> {
  const build = service.build
  if (!build) return []
  const at = [...path, 'x-ai-platform', 'build']
  const issues: ConfigIssue[] = []
  if (platform.imageRegistry === undefined)
    issues.push(
      configIssueAt(
        'build-registry',
        source,
        at,
        'needs platform.image_registry: images built from source are pushed there and pulled from there',
        { key: true },
      ),
    )
  else {
    const problem = imageReferenceProblem(`${platform.imageRegistry}/${build.name}:src-0000000000000000`)
    if (problem)
      issues.push(
        configIssueAt('image-reference', source, at, `the image it builds: ${imageProblemMessage(problem)}`, {
          allowed: problem.allowed,
          got: describeValue(`${platform.imageRegistry}/${build.name}`),
        }),
      )
  }
  const context = await insideDir(dir, build.context)
  if (context.problem !== null) {
    issues.push(
      configIssueAt('build-context', source, [...at, 'context'], context.problem, {
        allowed: 'a directory inside the platform directory, relative to it',
        got: describeValue(build.context),
      }),
    )
    return issues
  }
  const dockerfile = await insideDir(context.path, build.dockerfile, 'file')
  if (dockerfile.problem !== null)
    issues.push(
      configIssueAt(
        'build-context',
        source,
        [...at, 'dockerfile'],
        dockerfile.problem.replace('the platform directory', 'the build context'),
        { allowed: 'a file inside the build context, relative to it', got: describeValue(build.dockerfile) },
      ),
    )
  return issues
}

/** `path` (relative to `base`) names an existing directory or file inside `base`, links resolved. */
async function insideDir(
  base: string,
  path: string,
  kind: 'directory' | 'file' = 'directory',
): Promise<{ path: string; problem: string | null }> {
  const abs = resolve(base, path)
  const climbs = (to: string, from: string) => {
    const rel = relative(from, to)
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)
  }
  if (isAbsolute(path) || climbs(abs, base)) return { path: abs, problem: 'must stay inside the platform directory' }
  let real: string
  try {
    real = await realpath(abs)
    const info = await stat(real)
    if (kind === 'directory' ? !info.isDirectory() : !info.isFile()) return { path: abs, problem: `is not a ${kind}` }
  } catch {
    return { path: abs, problem: `no such ${kind}` }
  }
  if (climbs(real, await realpath(base).catch(() => base)))
    return { path: abs, problem: 'must stay inside the platform directory (a symbolic link leads out of it)' }
  return { path: join(real), problem: null }
}
