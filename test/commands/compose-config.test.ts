// Every rendered compose file must pass real `docker-compose config` (v1) and `docker compose config` (v2).
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderHosts } from '../../src/render/render.js'
import { writeRenders } from '../../src/render/write.js'
import { initSecrets } from '../../src/secrets/secrets.js'
import { composeBinaries } from '../helpers/compose-bin.js'
import { loadOk } from '../helpers/load.js'
import { projectFrom, REPO, removeProject } from '../helpers/project.js'

const bins = composeBinaries()
const required = process.env.CI === 'true'
let out = ''
let project = ''
let hosts: string[] = []

beforeAll(async () => {
  // The reference platform plus the unplaced SutazAI catalog placed on zelus, so every stack is rendered.
  project = await projectFrom(REPO, {
    'stacks/sutazai.yaml': (t) => t.replace('placement: { hosts: [] }', 'placement: { hosts: [zelus] }'),
  })
  const { project: loaded, origins } = await loadOk(project)
  await initSecrets(loaded)
  const { renders, issues } = renderHosts(loaded, loaded.hostOrder, { origins })
  expect(issues).toEqual([])
  out = await mkdtemp(join(tmpdir(), 'aip-rendered-'))
  await writeRenders(loaded, renders, out, { secrets: true })
  hosts = renders.map((r) => r.host)
})

afterAll(async () => {
  await removeProject(project)
  if (out) await rm(out, { recursive: true, force: true })
})

describe.each([
  ['v1', bins.v1],
  ['v2', bins.v2],
] as const)('Compose %s accepts every rendered file', (name, bin) => {
  it.skipIf(bin === null && !required)(`docker compose ${name} config`, async () => {
    if (bin === null)
      throw new Error(`Compose ${name} is not installed, and CI requires it (run test/fleet/install-deps.sh)`)
    expect(hosts).toHaveLength(10)
    // the hosts side by side: Compose v1 (Python) takes about half a second to start
    const rendered = await Promise.all(
      hosts.map(async (host) => {
        const dir = join(out, host)
        const args = [
          ...bin.argv.slice(1),
          '-p',
          'ai-platform',
          '-f',
          join(dir, 'compose.yaml'),
          '--env-file',
          join(dir, '.env'),
          'config',
        ]
        return (await promisify(execFile)(bin.argv[0]!, args, { cwd: dir, encoding: 'utf8' })).stdout
      }),
    )
    hosts.forEach((host, i) => expect(rendered[i], host).toContain('services:'))
  })
})
