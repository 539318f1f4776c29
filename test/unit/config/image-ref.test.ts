import { describe, expect, it } from 'vitest'
import { imageReferenceProblem } from '../../../src/config/image-ref.js'

const HEX64 = 'a'.repeat(64)
const PATH = "lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/'"
const TAG = "1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"
const DIGEST = 'sha256: and 64 lowercase hex digits, sha384: and 96, or sha512: and 128'
const REGISTRY =
  "a host name of letters, digits, '-' and '.', an IPv4 address or [IPv6 address], with an optional :port"

describe('image references, as Docker reads them', () => {
  it.each([
    'ollama/ollama:0.5.7',
    'ollama/ollama:0.5.7-rocm',
    'postgres',
    'postgres:16-alpine',
    'ghcr.io/open-webui/open-webui:main',
    `localhost:5000/a/b@sha256:${HEX64}`,
    'registry.example.com:5000/x:1.0',
    'registry.example.com:5000/x',
    `x:1.0@sha256:${HEX64}`,
    `x@sha512:${'0'.repeat(128)}`,
    '10.0.0.5:5000/team/app:v1',
    '[::1]:5000/app',
    'localhost/app',
    'My-Registry.lab:5000/app',
    'a__b/c.d/e---f_g:TAG_1.x-y',
    // a registry-looking name without '/' is a repository with a tag, as Docker reads it
    'localhost:5000',
    `x:${'t'.repeat(128)}`,
    `${'a'.repeat(255)}:1`,
  ])('accepts %s', (ref) => {
    expect(imageReferenceProblem(ref)).toBeNull()
  })

  it.each([
    ['a;b', 'the path component "a;b" is not allowed', PATH],
    [
      'Upper/case',
      'the path component "Upper" has uppercase letters',
      `${PATH}; a registry host is written with a '.' or a ':port', or is localhost`,
    ],
    [
      'ghcr.io/Owner/app:1',
      'the path component "Owner" has uppercase letters',
      `${PATH}; a registry host is written with a '.' or a ':port', or is localhost`,
    ],
    ['x:', "the tag after ':' is empty", TAG],
    ['x:bad tag', 'the tag "bad tag" is not allowed', TAG],
    ['x:.hidden', 'the tag ".hidden" is not allowed', TAG],
    [`x:${'t'.repeat(129)}`, `the tag "${'t'.repeat(129)}" is not allowed`, TAG],
    ['-x', 'the path component "-x" is not allowed', PATH],
    ['x-', 'the path component "x-" is not allowed', PATH],
    ['a___b', 'the path component "a___b" is not allowed', PATH],
    ['x@sha256:short', 'the digest "sha256:short" after \'@\' is not one Docker can verify', DIGEST],
    [
      `x@sha256:${'A'.repeat(64)}`,
      `the digest "sha256:${'A'.repeat(64)}" after '@' is not one Docker can verify`,
      DIGEST,
    ],
    [`x@md5:${'a'.repeat(32)}`, `the digest "md5:${'a'.repeat(32)}" after '@' is not one Docker can verify`, DIGEST],
    ['x@', 'the digest "" after \'@\' is not one Docker can verify', DIGEST],
    ['a//b', 'the path "a//b" has an empty component', PATH],
    ['/x', 'the path "/x" has an empty component', PATH],
    ['registry.lab:5000//app:1', 'the path "/app" has an empty component', PATH],
    ['http://registry.lab/app', 'the registry "http:" is not a host name with an optional port', REGISTRY],
    ['reg_istry.lab/app', 'the registry "reg_istry.lab" is not a host name with an optional port', REGISTRY],
    ['registry.lab:port/app', 'the registry "registry.lab:port" is not a host name with an optional port', REGISTRY],
    ['', 'is empty', '[registry[:port]/]path[:tag][@digest]'],
    [`${'a'.repeat(256)}:1`, 'the name (registry and path) is 256 characters long', 'at most 255 characters'],
    [
      HEX64,
      'a name of 64 hex digits is read as an image ID, not a repository',
      'a repository path that is not 64 hex digits',
    ],
  ])('refuses %s', (ref, message, allowed) => {
    expect(imageReferenceProblem(ref)).toEqual({ message, allowed })
  })
})
