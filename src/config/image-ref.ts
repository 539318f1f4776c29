// Docker image references, read by the grammar the engine and Compose parse them with
// (distribution/reference): a reference the engine refuses (`a;b`) used to pass validation and fail
// at the host's image pull, after the lock and the upload, with Docker's unlocated "invalid reference format".
import { isIPv6 } from 'node:net'

export interface ImageReferenceProblem {
  /** What is wrong, naming the part (registry, path component, tag, digest). */
  message: string
  allowed: string
}

/** distribution/reference's NameTotalLengthMax: registry and path together. */
const MAX_IMAGE_NAME_LENGTH = 255

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const DOMAIN_COMPONENT = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/
const TAG = /^\w[\w.-]{0,127}$/
/** The digests the engine can verify, with the length of their lowercase hex encoding. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 }

const ALLOWED_PATH = "lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/'"
const ALLOWED_REGISTRY =
  "a host name of letters, digits, '-' and '.', an IPv4 address or [IPv6 address], with an optional :port"
const ALLOWED_TAG = "1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"
const ALLOWED_DIGEST = 'sha256: and 64 lowercase hex digits, sha384: and 96, or sha512: and 128'

/**
 * Null when `ref` is `[registry[:port]/]path[:tag][@digest]` as Docker reads it, else what is wrong.
 * One deliberate difference: a first component without '.' or ':' that is not `localhost` is a path
 * component, so it must be lowercase. Newer Docker releases read `Upper/case` as the registry host
 * `Upper` (older ones refuse it); no registry is named that way, and the pull would fail at the host.
 */
export function imageReferenceProblem(ref: string): ImageReferenceProblem | null {
  if (ref === '') return { message: 'is empty', allowed: '[registry[:port]/]path[:tag][@digest]' }
  const at = ref.indexOf('@')
  const nameAndTag = at === -1 ? ref : ref.slice(0, at)
  if (at !== -1) {
    const digest = ref.slice(at + 1)
    const colon = digest.indexOf(':')
    const algorithm = colon === -1 ? '' : digest.slice(0, colon)
    const hex = digest.slice(colon + 1)
    const length = DIGEST_HEX_LENGTH[algorithm]
    if (length === undefined || hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
      return {
        message: `the digest ${JSON.stringify(digest)} after '@' is not one Docker can verify`,
        allowed: ALLOWED_DIGEST,
      }
    }
  }
  // A ':' after the last '/' starts the tag; one before it belongs to the registry's port.
  const colon = nameAndTag.lastIndexOf(':')
  const hasTag = colon > nameAndTag.lastIndexOf('/')
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag
  if (hasTag) {
    const tag = nameAndTag.slice(colon + 1)
    if (tag === '') return { message: "the tag after ':' is empty", allowed: ALLOWED_TAG }
    if (!TAG.test(tag)) return { message: `the tag ${JSON.stringify(tag)} is not allowed`, allowed: ALLOWED_TAG }
  }
  const components = name.split('/')
  const first = components[0]!
  const registry =
    components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : null
  if (registry !== null) {
    if (!isRegistry(registry))
      return {
        message: `the registry ${JSON.stringify(registry)} is not a host name with an optional port`,
        allowed: ALLOWED_REGISTRY,
      }
    components.shift()
  }
  for (const component of components) {
    if (component === '')
      return {
        message: `the path ${JSON.stringify(components.join('/'))} has an empty component`,
        allowed: ALLOWED_PATH,
      }
    if (PATH_COMPONENT.test(component)) continue
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      return {
        message: `the path component ${JSON.stringify(component)} has uppercase letters`,
        allowed: `${ALLOWED_PATH}; a registry host is written with a '.' or a ':port', or is localhost`,
      }
    }
    return { message: `the path component ${JSON.stringify(component)} is not allowed`, allowed: ALLOWED_PATH }
  }
  if (name.length > MAX_IMAGE_NAME_LENGTH) {
    return {
      message: `the name (registry and path) is ${name.length} characters long`,
      allowed: `at most ${MAX_IMAGE_NAME_LENGTH} characters`,
    }
  }
  if (/^[a-f0-9]{64}$/.test(ref)) {
    return {
      message: 'a name of 64 hex digits is read as an image ID, not a repository',
      allowed: 'a repository path that is not 64 hex digits',
    }
  }
  return null
}

/** The one wording of a refused reference, for the loader and the renderer. */
export function imageProblemMessage(problem: ImageReferenceProblem): string {
  return `not an image reference Docker accepts: ${problem.message}`
}

function isRegistry(text: string): boolean {
  let host = text
  const v6 = /^\[([^\]]*)\](?::([0-9]+))?$/.exec(text)
  if (v6) return isIPv6(v6[1]!)
  const colon = text.lastIndexOf(':')
  if (colon !== -1) {
    if (!/^[0-9]+$/.test(text.slice(colon + 1))) return false
    host = text.slice(0, colon)
  }
  return host.split('.').every((component) => DOMAIN_COMPONENT.test(component))
}
