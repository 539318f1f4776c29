// The log-in to the platform's registry (platform.registry_auth): handed to the Docker API per pull,
// push or lookup as X-Registry-Auth, so no host stores it and no argv, history or log line holds it.
import type { Platform } from '../config/model.js'
import { UserError } from '../errors.js'

export interface RegistryLogin {
  /** The registry host[:port] (platform.image_registry without its path). */
  registry: string
  username: string
  password: string
  /** The declared secret holding the password, named in messages instead of it. */
  secret: string
}

/** dockerode's authconfig (the X-Registry-Auth header). */
export interface AuthConfig {
  username: string
  password: string
  serveraddress: string
}

/**
 * The platform's log-in, or null when it declares none. A password the secrets file does not define
 * is refused here, before anything connects.
 */
export function registryLogin(
  platform: Pick<Platform, 'imageRegistry' | 'registryAuth'>,
  values: ReadonlyMap<string, string>,
): RegistryLogin | null {
  const auth = platform.registryAuth
  if (!auth || platform.imageRegistry === undefined) return null
  const password = values.get(auth.passwordSecret)
  if (password === undefined || password === '')
    throw new UserError(
      `the registry ${registryHost(platform.imageRegistry)} needs the password of ${auth.username}, and secrets.env does not define ${auth.passwordSecret}`,
      `Add ${auth.passwordSecret}=<the password of ${auth.username}> to secrets.env (platform.registry_auth names it).`,
    )
  return {
    registry: registryHost(platform.imageRegistry),
    username: auth.username,
    password,
    secret: auth.passwordSecret,
  }
}

/** The log-in when one of `images` is on the platform's registry, else null (no secret is needed). */
export function loginFor(
  platform: Pick<Platform, 'imageRegistry' | 'registryAuth'>,
  values: ReadonlyMap<string, string>,
  images: readonly string[],
): RegistryLogin | null {
  if (platform.imageRegistry === undefined) return null
  const registry = registryHost(platform.imageRegistry)
  return images.some((image) => registryOfImage(image) === registry) ? registryLogin(platform, values) : null
}

/** `host[:port]` of `host[:port][/path]`. */
export function registryHost(imageRegistry: string): string {
  return imageRegistry.split('/')[0]!
}

/** The registry an image reference names, or null for Docker Hub (no '.', ':' or localhost first). */
export function registryOfImage(image: string): string | null {
  const slash = image.indexOf('/')
  if (slash === -1) return null
  const first = image.slice(0, slash)
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : null
}

/** The authconfig for pulling or pushing `image`: only images on the log-in's registry get it. */
export function authFor(image: string, login: RegistryLogin | null): AuthConfig | undefined {
  if (!login || registryOfImage(image) !== login.registry) return undefined
  return { username: login.username, password: login.password, serveraddress: login.registry }
}

/** What registries and the engine say when they refuse a log-in or want one (Distribution, Harbor, the engine). */
export function isCredentialRefusal(text: string): boolean {
  return /\bunauthori[sz]ed\b|authentication required|\b401\b|no basic auth credentials|incorrect username or password|denied: requested access/i.test(
    text,
  )
}

/**
 * The refusal as the user should read it: which host, which registry, which user and which secret
 * (never the value). `where` is the host name or `images build`.
 */
export function credentialRefusal(
  where: string,
  registry: string,
  login: RegistryLogin | null,
  detail: string,
): UserError {
  if (!login)
    return new UserError(
      `${where}: the registry ${registry} wants credentials and the platform declares none: ${detail}`,
      'Set platform.registry_auth {username, password_secret} in inventory/platform.yaml and the secret in secrets.env.',
    )
  return new UserError(
    `${where}: the registry ${registry} refused the credentials for ${login.username} (secret ${login.secret}): ${detail}`,
    `Check ${login.secret} in secrets.env: it must be the registry password of ${login.username} (platform.registry_auth).`,
  )
}
