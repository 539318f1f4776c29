// The fleet's registry (test/fleet/registry.sh): Debian's docker-registry over TLS from the fleet's CA,
// which every host's engine trusts; it refuses anonymous and wrong logins, and an image pushed from one
// host is pulled by another.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import { describe, expect, it } from 'vitest'
import { HAVE_FLEET, fleetHost, fleetOrEmpty, onHost, q } from './helpers.js'

const fleet = fleetOrEmpty()

describe.skipIf(!HAVE_FLEET)('fleet registry', () => {
  const registry = fleet.registry
  const password = registry ? readFileSync(registry.passwordFile, 'utf8').trim() : ''

  it('speaks the registry API over TLS from the fleet CA, behind a login', async () => {
    expect(registry).toBeDefined()
    const dispatcher = new Agent({ connect: { ca: readFileSync(registry!.caFile) } })
    const get = async (auth?: string) => {
      const r = await request(`https://${registry!.address}/v2/`, {
        dispatcher,
        headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
        headersTimeout: 5000,
        bodyTimeout: 5000,
      })
      await r.body.dump()
      return r.statusCode
    }
    expect(await get()).toBe(401)
    expect(await get(`${registry!.user}:wrong`)).toBe(401)
    expect(await get(`${registry!.user}:${password}`)).toBe(200)
    await dispatcher.close()
  })

  it('an image pushed from one host is pulled by another; a wrong password is refused', async () => {
    const ref = `${registry!.address}/fleet-test/busybox:${randomBytes(4).toString('hex')}`
    const login = (pw: string) =>
      `export DOCKER_CONFIG=$(mktemp -d); trap 'rm -rf "$DOCKER_CONFIG"' EXIT; printf '%s' ${q(pw)} | docker login ${registry!.address} -u ${registry!.user} --password-stdin >/dev/null`
    const push = await onHost(
      fleet,
      fleetHost(fleet, 'erebus'),
      `${login(password)} && docker tag aip/busybox:1 ${ref} && docker push ${ref} >/dev/null && docker rmi ${ref} >/dev/null && echo pushed`,
    )
    expect(push.code).toBe(0)
    expect(push.stdout.trim()).toBe('pushed')
    const kratos = fleetHost(fleet, 'kratos')
    const pull = await onHost(
      fleet,
      kratos,
      `${login(password)} && docker pull -q ${ref} && docker rmi ${ref} >/dev/null`,
    )
    expect(pull.code).toBe(0)
    expect(pull.stdout.trim()).toBe(ref)
    const wrong = await onHost(fleet, kratos, login('not-the-password'))
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('401 Unauthorized')
  })
})
