// drift's decisions, pure: the containers against the release's services, sha256sum's complaints,
// `compose config --hash` lines (the --watch rounds: drift-watch.test.ts).
import { describe, expect, it } from 'vitest'
import type { ContainerState } from '../../../src/deploy/containers.js'
import type { RecordedService } from '../../../src/deploy/release.js'
import { containerDrift, parseConfigHashes, parseFileCheck } from '../../../src/ops/drift.js'

const H1 = 'a'.repeat(64)
const H2 = 'b'.repeat(64)
const IMG1 = `sha256:${'1'.repeat(64)}`
const IMG2 = `sha256:${'2'.repeat(64)}`

const service = (name: string, extra: Partial<RecordedService> = {}): RecordedService => ({
  name,
  image: `example/${name}:1`,
  tier: 'core',
  oneshot: false,
  hasHealthcheck: true,
  ...extra,
})
const container = (name: string, svc: string, extra: Partial<ContainerState> = {}): ContainerState => ({
  id: 'c'.repeat(64),
  name,
  service: svc,
  image: `example/${svc}:1`,
  state: 'running',
  health: 'healthy',
  exitCode: null,
  status: 'Up',
  created: 1,
  configHash: H1,
  imageId: IMG1,
  ...extra,
})

describe('drift', () => {
  const hashes = new Map([
    ['api', H1],
    ['worker', H1],
    ['migrate', H1],
    ['tool', H1],
  ])
  const images = new Map([
    ['example/api:1', IMG1],
    ['example/worker:1', IMG1],
    ['example/migrate:1', IMG1],
    ['example/tool:1', IMG1],
  ])
  const services = [
    service('api'),
    service('worker', { replicas: 3 }),
    service('migrate', { oneshot: true }),
    service('tool', { tier: 'on-demand' }),
  ]

  it('none when every service runs what the release declares (one-shots exited, on-demand stopped)', () => {
    const containers = [
      container('api-1', 'api'),
      container('worker-1', 'worker'),
      container('worker-2', 'worker'),
      container('worker-3', 'worker'),
      container('migrate-1', 'migrate', { state: 'exited', exitCode: 0 }),
    ]
    expect(containerDrift(services, containers, hashes, images)).toEqual([])
  })

  it('missing, stopped, another definition, a moved image tag', () => {
    const containers = [
      container('api-1', 'api', { configHash: H2 }),
      container('worker-1', 'worker'),
      container('worker-2', 'worker', { state: 'exited' }),
      container('tool-1', 'tool', { imageId: IMG2 }),
    ]
    expect(containerDrift(services, containers, hashes, new Map([...images, ['example/tool:1', IMG1]]))).toEqual([
      { kind: 'definition', service: 'api', detail: "api-1 made from another definition than the release's" },
      { kind: 'stopped', service: 'worker', detail: '1 of 3 running (worker-2 exited)' },
      {
        kind: 'image',
        service: 'tool',
        detail: `example/tool:1 now names ${'1'.repeat(12)}, tool-1 run ${'2'.repeat(12)}`,
      },
    ])
    expect(containerDrift([service('api')], [], hashes, images)).toEqual([
      { kind: 'missing', service: 'api', detail: '0 of 1 running' },
    ])
    // Compose v1 hashes the image id into the definition: a moved tag is one difference, the image's
    expect(
      containerDrift(
        [service('api')],
        [container('api-1', 'api', { configHash: H2, imageId: IMG2 })],
        hashes,
        images,
      ).map((d) => d.kind),
    ).toEqual(['image'])
    // a tag that names nothing any more
    expect(
      containerDrift([service('api')], [container('api-1', 'api')], hashes, new Map([['example/api:1', null]])),
    ).toEqual([
      { kind: 'image', service: 'api', detail: `example/api:1 now names no image, api-1 run ${'1'.repeat(12)}` },
    ])
  })

  it("reads sha256sum -c's complaints and compose's hashes; anything else is skipped", () => {
    expect(
      parseFileCheck(
        [
          `files/0123456789abcdef/prometheus/prometheus.yml: FAILED`,
          `files/fedcba9876543210/loki/loki.yaml: FAILED open or read`,
          'sha256sum: WARNING: 1 computed checksum did NOT match',
          'files/xyz/evil\x1b[2J: FAILED',
        ].join('\n'),
      ),
    ).toEqual([
      { kind: 'file', detail: 'prometheus/prometheus.yml was edited on the host' },
      { kind: 'file', detail: 'loki/loki.yaml is missing' },
    ])
    expect(parseConfigHashes(`api ${H1}\nworker ${H2}\nWARNING: something\nbad ${'z'.repeat(64)}\n`)).toEqual(
      new Map([
        ['api', H1],
        ['worker', H2],
      ]),
    )
  })
})
