import { describe, expect, it } from 'vitest'
import { UserError } from '../../../src/errors.js'
import { pullRefusal } from '../../../src/deploy/images.js'
import {
  authFor,
  isCredentialRefusal,
  loginFor,
  registryLogin,
  registryOfImage,
  type RegistryLogin,
} from '../../../src/remote/registry-auth.js'

const platform = {
  imageRegistry: 'registry.lab.test:5000/team',
  registryAuth: { username: 'fleet', passwordSecret: 'REGISTRY_PASSWORD' },
}
const login: RegistryLogin = {
  registry: 'registry.lab.test:5000',
  username: 'fleet',
  password: 'pa55word',
  secret: 'REGISTRY_PASSWORD',
}

describe('the log-in to the platform registry', () => {
  it('comes from the declared secret; the registry is image_registry without its path', () => {
    expect(registryLogin(platform, new Map([['REGISTRY_PASSWORD', 'pa55word']]))).toEqual(login)
    expect(registryLogin({ imageRegistry: 'r.test' }, new Map())).toBeNull()
  })

  it('a missing value is refused with the secret named', () => {
    const error = (() => {
      try {
        registryLogin(platform, new Map())
      } catch (e) {
        return e as UserError
      }
    })()
    expect(error).toBeInstanceOf(UserError)
    expect(error!.message).toBe(
      'the registry registry.lab.test:5000 needs the password of fleet, and secrets.env does not define REGISTRY_PASSWORD',
    )
    expect(error!.hint).toBe(
      'Add REGISTRY_PASSWORD=<the password of fleet> to secrets.env (platform.registry_auth names it).',
    )
  })

  it('is needed only when an image is on that registry', () => {
    expect(loginFor(platform, new Map(), ['postgres:16', 'ghcr.io/x/y:1'])).toBeNull()
    expect(() => loginFor(platform, new Map(), ['registry.lab.test:5000/team/app:src-0123'])).toThrow(UserError)
  })

  it.each([
    ['registry.lab.test:5000/team/app:1', 'registry.lab.test:5000'],
    ['localhost/app', 'localhost'],
    ['library/postgres:16', null],
    ['postgres:16', null],
  ])('the registry of %s is %s', (image, registry) => {
    expect(registryOfImage(image)).toBe(registry)
  })

  it('goes only with images on its registry', () => {
    expect(authFor('registry.lab.test:5000/team/app:1', login)).toEqual({
      username: 'fleet',
      password: 'pa55word',
      serveraddress: 'registry.lab.test:5000',
    })
    expect(authFor('other.test/app:1', login)).toBeUndefined()
    expect(authFor('postgres:16', login)).toBeUndefined()
  })
})

describe("a registry's refusal, mapped", () => {
  it.each([
    'unauthorized: authentication required',
    'Head "https://r.test/v2/app/manifests/1": unauthorized: incorrect username or password',
    'no basic auth credentials',
    'received unexpected HTTP status: 401 Unauthorized',
    'denied: requested access to the resource is denied',
  ])('%s is a refusal', (text) => {
    expect(isCredentialRefusal(text)).toBe(true)
  })

  it.each(['manifest unknown', 'connection refused', 'no such host', 'toomanyrequests: rate limit'])(
    '%s is not',
    (text) => {
      expect(isCredentialRefusal(text)).toBe(false)
    },
  )

  // The pull runs in the deploy's `images` step, before `switch` (src/deploy/host-deploy.ts), so a
  // refusal leaves the host on its old release; test/unit/deploy/engine.test.ts runs it through the engine.
  it('names the host, the registry, the user and the secret, never the password', () => {
    const error = pullRefusal(
      'hades',
      'registry.lab.test:5000/team/app:1',
      login,
      'unauthorized: authentication required',
    )
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      'hades: the registry registry.lab.test:5000 refused the credentials for fleet (secret REGISTRY_PASSWORD): pulling registry.lab.test:5000/team/app:1: unauthorized: authentication required',
    )
    expect((error as UserError).hint).toBe(
      'Check REGISTRY_PASSWORD in secrets.env: it must be the registry password of fleet (platform.registry_auth).',
    )
    expect(`${error.message} ${(error as UserError).hint}`).not.toContain('pa55word')
  })

  it('without a log-in for that registry, says to declare one', () => {
    const error = pullRefusal('hades', 'other.test/app:1', login, 'unauthorized: authentication required')
    expect(error.message).toBe(
      'hades: the registry other.test wants credentials and the platform declares none: pulling other.test/app:1: unauthorized: authentication required',
    )
  })

  it("a Docker Hub image keeps the engine's words", () => {
    expect(pullRefusal('hades', 'private/app:1', null, 'pull access denied').message).toBe(
      'hades: cannot pull private/app:1: pull access denied',
    )
  })
})
