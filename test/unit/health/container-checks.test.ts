// `health`'s container check over replicas: what each service should run on a host (after its
// overrides), and the verdict on what runs. Pure: the containers are given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Project } from '../../../src/config/model.js'
import { healthFromStatus, type ContainerState } from '../../../src/deploy/containers.js'
import { containerChecks, expectedOn, onDemandContainerChecks } from '../../../src/health/checks.js'
import { statusServices } from '../../../src/ops/inspect.js'
import { loadOk } from '../../helpers/load.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'

const replace = (from: string, to: string) => (text: string) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`)
  return text.replace(from, to)
}

let dir: string
let project: Project
beforeAll(async () => {
  // valid: a port range with one port per replica, a container-only port, replicas: 0 with a fixed port
  dir = await projectFrom(MINIMAL, {
    'stacks/app.yaml': replace('ports: ["8080:80"]', 'ports: ["8080-8081:80"]\n    deploy: { replicas: 2 }'),
    'stacks/db.yaml': replace(
      '        - tcp: { port: 5432 }',
      '        - tcp: { port: 5432 }\n      overrides:\n        - on: { hosts: [gamma] }\n          set: { deploy: { replicas: 3 }, ports: ["5432"] }',
    ),
    'stacks/ollama.yaml': replace('    image: ollama/ollama', '    deploy: { replicas: 0 }\n    image: ollama/ollama'),
    'stacks/lab.yaml': `x-ai-platform:
  placement: { hosts: [alpha] }
  phase: ai
services:
  notebook:
    image: example/notebook:1
    ports: ["8888:8888"]
    x-ai-platform:
      tier: on-demand
      health:
        - http: { port: 8888, path: /api }
`,
  })
  const loaded = await loadOk(dir)
  expect(loaded.issues).toEqual([])
  project = loaded.project
})
afterAll(() => removeProject(dir))

const replica = (service: string, n: number, state: string, status: string): ContainerState => ({
  id: `${service}${n}`.padEnd(12, '0'),
  name: `mini-${service}-${n}`,
  configHash: '',
  service,
  image: 'x',
  state,
  status,
  health: healthFromStatus(status),
  exitCode: null,
  created: n,
})

describe('health: containers of replicated services', () => {
  it("what a host should run: the service's replicas after the host's overrides", () => {
    const on = (service: string, host: string) => expectedOn(project.services[service]!, project.hosts[host]!, project)
    expect(on('app', 'alpha')).toEqual({ name: 'app', oneshot: false, replicas: 2 })
    expect(on('db', 'gamma')).toEqual({ name: 'db', oneshot: false, replicas: 3 })
    expect(on('ollama', 'alpha').replicas).toBe(0)
  })

  it('passes when every replica runs, fails on one short or one crashed, and a service scaled to 0 passes with none', () => {
    const app = { name: 'app', oneshot: false, replicas: 2 }
    const idle = { name: 'ollama', oneshot: false, replicas: 0 }
    const up = 'Up 1 minute (healthy)'
    const check = (containers: ContainerState[]) =>
      containerChecks('alpha', [app, idle], containers, 3).map((c) => [c.service, c.status, c.detail])
    expect(check([replica('app', 1, 'running', up), replica('app', 2, 'running', up)])).toEqual([
      ['app', 'ok', 'running, healthy, 2/2 running'],
      ['ollama', 'ok', 'scaled to 0'],
    ])
    expect(check([replica('app', 2, 'running', up)])[0]).toEqual(['app', 'fail', 'running, healthy, 1/2 running'])
    expect(
      check([replica('app', 1, 'exited', 'Exited (1) 2 seconds ago'), replica('app', 2, 'running', up)])[0],
    ).toEqual(['app', 'fail', 'exited, 1/2 running'])
    expect(check([])[0]).toEqual(['app', 'fail', 'no container'])
  })

  it('status: running/declared per service the host should run', () => {
    const up = 'Up 1 minute'
    expect(
      statusServices(project, 'alpha', [replica('app', 1, 'running', up), replica('app', 2, 'running', up)]),
    ).toEqual([
      { service: 'app', running: 2, replicas: 2, state: 'running', tier: 'core' },
      { service: 'notebook', running: 0, replicas: 1, state: 'stopped (on demand)', tier: 'on-demand' },
      { service: 'ollama', running: 0, replicas: 0, state: 'scaled to 0', tier: 'core' },
    ])
    // started with `up`, then it exited: that is what it shows, not stopped by design (down removes containers)
    expect(statusServices(project, 'alpha', [replica('notebook', 1, 'exited', 'Exited (1) 1 minute ago')])[1]).toEqual({
      service: 'notebook',
      running: 0,
      replicas: 1,
      state: 'exited',
      tier: 'on-demand',
    })
    expect(statusServices(project, 'alpha', [replica('notebook', 1, 'running', up)])[1]).toEqual({
      service: 'notebook',
      running: 1,
      replicas: 1,
      state: 'running',
      tier: 'on-demand',
    })
    expect(statusServices(project, 'gamma', [replica('db', 1, 'running', up)])).toEqual([
      { service: 'db', running: 1, replicas: 3, state: 'running', tier: 'core' },
    ])
  })

  it('health: an on-demand service that runs nothing is stopped by design (not failed, not required); one that runs is checked as any', () => {
    const expected = [expectedOn(project.services.notebook!, project.hosts.alpha!, project)]
    const base = { host: 'alpha', service: 'notebook', check: 'container', latencyMs: 3 }
    expect(onDemandContainerChecks('alpha', expected, [], 3)).toEqual([
      { ...base, status: 'stopped', required: false, detail: 'stopped (on demand)' },
    ])
    expect(
      onDemandContainerChecks('alpha', expected, [replica('notebook', 1, 'running', 'Up 1 minute (unhealthy)')], 3),
    ).toEqual([{ ...base, status: 'fail', required: true, detail: 'running, unhealthy' }])
    // crash-looping after `up`: a failure, not stopped by design
    expect(
      onDemandContainerChecks(
        'alpha',
        expected,
        [replica('notebook', 1, 'restarting', 'Restarting (1) 2 seconds ago')],
        3,
      )[0],
    ).toMatchObject({ status: 'fail', required: true })
    expect(onDemandContainerChecks('alpha', expected, [replica('notebook', 1, 'running', 'Up 1 minute')], 3)).toEqual([
      { ...base, status: 'ok', required: true, detail: 'running' },
    ])
  })
})
