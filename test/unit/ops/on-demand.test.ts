// What `up` / `down` refuse, from the inventory (before any connection) and from the release a host runs
// (read under its lock), what `up` waits for, and the steps --dry-run prints. On the bundled platform:
// kratos places comfyui and automatic1111 on demand, ollama persistent.
import { describe, expect, it } from 'vitest'
import type { ReleaseRecord } from '../../../src/deploy/release.js'
import {
  onDemandRefusal,
  onDemandSteps,
  onDemandTarget,
  releaseRefusal,
  withOnDemandRequirements,
} from '../../../src/ops/on-demand.js'
import { loadOk } from '../../helpers/load.js'

const { project } = await loadOk()
const refusal = (host: string, services: string[]) => {
  const error = onDemandRefusal(project, host, services)
  return error ? { message: error.message, hint: error.hint } : null
}

describe('on-demand: what the inventory refuses', () => {
  it.each([
    ['nohost', ['comfyui'], { message: 'unknown host nohost', hint: `Hosts: ${project.hostOrder.join(', ')}.` }],
    [
      'kratos',
      ['nosuch'],
      { message: 'unknown service nosuch', hint: 'On-demand services on kratos: automatic1111, comfyui.' },
    ],
    [
      'hades',
      ['comfyui'],
      { message: 'comfyui is not placed on hades (it runs on kratos)', hint: 'hades has no on-demand services.' },
    ],
    [
      'kratos',
      ['comfyui', 'ollama'],
      {
        message: 'ollama is not an on-demand service (tier persistent): deploy starts and keeps it running',
        hint: '`ai-platform deploy kratos` manages it. On-demand services on kratos: automatic1111, comfyui.',
      },
    ],
    [
      'kratos',
      [],
      { message: 'name at least one service', hint: 'On-demand services on kratos: automatic1111, comfyui.' },
    ],
  ])('%s %j', (host, services, expected) => {
    expect(refusal(host, services)).toEqual(expected)
  })

  it('on-demand services placed on the host pass', () => {
    expect(refusal('kratos', ['comfyui', 'automatic1111'])).toBeNull()
  })
})

const release = (services: ReleaseRecord['services']): ReleaseRecord => ({
  id: '20261123T033928Z-9c2e15e2',
  host: 'kratos',
  platform: 'p',
  composeProject: 'ai-platform',
  hash: 'a'.repeat(64),
  createdAt: '2026-11-23T03:39:28.000Z',
  by: { user: 'u', machine: 'm' },
  services,
  files: [],
  previous: null,
  tool: 't',
})
const comfyui = {
  name: 'comfyui',
  image: 'comfyui:1',
  tier: 'on-demand',
  oneshot: false,
  hasHealthcheck: true,
  health: [{ required: true, http: { port: 8188, path: '/', status: 200, scheme: 'http' as const } }],
  loopbackPorts: [8188],
}
const ollama = { ...comfyui, name: 'ollama', tier: 'persistent', replicas: 2, health: [], loopbackPorts: [] }

describe('on-demand: what the release a host runs refuses', () => {
  it('no release, an unrecorded one, one without the service on demand: deploy first', () => {
    const text = (e: ReturnType<typeof releaseRefusal>) => e && { message: e.message, hint: e.hint }
    expect(text(releaseRefusal('kratos', null, true, ['comfyui']))).toEqual({
      message: 'kratos runs no release',
      hint: 'Deploy it first: `ai-platform deploy kratos`.',
    })
    expect(text(releaseRefusal('kratos', release([comfyui]), false, ['comfyui']))).toEqual({
      message: 'kratos runs 20261123T033928Z-9c2e15e2, which a deploy switched to but never recorded',
      hint: 'Deploy it again first (it records or repairs it): `ai-platform deploy kratos`.',
    })
    expect(text(releaseRefusal('kratos', release([ollama, { ...comfyui, tier: 'core' }]), true, ['comfyui']))).toEqual({
      message: 'the release kratos runs (20261123T033928Z-9c2e15e2) has no on-demand service comfyui',
      hint: 'The inventory changed since it was deployed. Deploy it first: `ai-platform deploy kratos`.',
    })
    expect(releaseRefusal('kratos', release([ollama, comfyui]), true, ['comfyui'])).toBeNull()
  })
})

describe('on-demand: what up waits for', () => {
  it("the named services' containers and the checks the release recorded for them, nothing else", () => {
    expect(onDemandTarget('kratos', release([ollama, comfyui]), ['comfyui'])).toEqual({
      host: 'kratos',
      composeProject: 'ai-platform',
      expected: [{ name: 'comfyui', oneshot: false, replicas: 1 }],
      checks: [{ name: 'comfyui', health: comfyui.health, loopbackPorts: [8188] }],
    })
    // a record written before checks were kept: containers only
    const { health: _h, ...old } = comfyui
    expect(onDemandTarget('kratos', release([old]), ['comfyui']).checks).toBeNull()
  })

  it('the steps --dry-run prints', () => {
    expect(onDemandSteps('up', 'kratos', ['comfyui', 'automatic1111'], 120)).toEqual([
      "take kratos's deploy lock",
      'compose --profile on-demand up --detach --no-deps comfyui automatic1111 on its current release',
      'wait up to 120 s for comfyui, automatic1111 to be running and healthy',
      `record "started" in kratos's history and the local audit log`,
    ])
    expect(onDemandSteps('down', 'kratos', ['comfyui'], 0)).toEqual([
      "take kratos's deploy lock",
      'compose --profile on-demand rm --stop --force comfyui on its current release',
      `record "stopped" in kratos's history and the local audit log`,
    ])
  })
})

describe('withOnDemandRequirements', () => {
  it('up starts the on-demand services a named one requires on the same host, first, each once', () => {
    const service = (name: string, tier: string, hosts: string[], requires: string[] = []) => ({
      name,
      tier,
      hosts,
      requires,
    })
    const project = {
      services: {
        ui: service('ui', 'on-demand', ['k'], ['worker', 'db']),
        worker: service('worker', 'on-demand', ['k'], ['queue']),
        queue: service('queue', 'on-demand', ['k']),
        db: service('db', 'core', ['k']),
        remote: service('remote', 'on-demand', ['other']),
        solo: service('solo', 'on-demand', ['k'], ['remote']),
      },
    } as never
    expect(withOnDemandRequirements(project, 'k', ['ui'])).toEqual(['queue', 'worker', 'ui'])
    expect(withOnDemandRequirements(project, 'k', ['worker', 'ui'])).toEqual(['queue', 'worker', 'ui'])
    // core ones are the deploy's; on-demand ones on another host are not this host's to start
    expect(withOnDemandRequirements(project, 'k', ['solo'])).toEqual(['solo'])
  })
})
