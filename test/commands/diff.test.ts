// `diff` exits like diff(1): 0 when every host runs what would be rendered, 1 when one differs or
// cannot be read. gamma is this machine, its release written here as a deploy would leave it.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRecord, releaseId } from '../../src/deploy/release.js'
import { renderHosts } from '../../src/render/render.js'
import { envFileFor, readSecrets } from '../../src/secrets/secrets.js'
import { cli } from '../helpers/cli.js'
import { loadOk } from '../helpers/load.js'
import { localHosts, type LocalHosts } from '../helpers/local-hosts.js'

let hosts: LocalHosts
let current = ''

beforeAll(async () => {
  hosts = await localHosts()
  const { project, origins } = await loadOk(hosts.dir)
  const [render] = renderHosts(project, ['gamma'], { origins }).renders
  const now = new Date('2026-11-23T03:39:28Z')
  current = releaseId(now, render!.hash)
  const release = join(hosts.base, 'releases', current)
  await mkdir(release, { recursive: true })
  await writeFile(join(release, 'compose.yaml'), render!.compose.content)
  await writeFile(
    join(release, '.env'),
    envFileFor(render!.secrets, (await readSecrets(project)).values, project, 'gamma'),
    { mode: 0o600 },
  )
  await writeFile(
    join(release, 'release.json'),
    `${JSON.stringify(buildRecord(render!, { id: current, platform: project.platform.name, now, previous: null, tool: 'test' }), null, 2)}\n`,
  )
  await symlink(`releases/${current}`, join(hosts.base, 'current'))
})
afterAll(async () => {
  await hosts?.cleanup()
})

const run = (args: string[]) => cli([...args, '--project', hosts.dir], { env: hosts.env })

describe('diff exit status', () => {
  it('0 when the host runs what would be rendered', async () => {
    expect(await run(['diff', 'gamma'])).toMatchObject({ code: 0, stdout: `gamma: up to date (${current})\n` })
  })

  it('1 when a host differs: a changed compose file (shown as a diff), a changed .env (values never shown)', async () => {
    const stack = join(hosts.dir, 'stacks/db.yaml')
    const before = await readFile(stack, 'utf8')
    await writeFile(stack, before.replace('postgres:16-alpine', 'postgres:17-alpine'))
    try {
      const changed = await run(['diff', 'gamma'])
      expect(changed.code).toBe(1)
      expect(changed.stdout).toMatch(
        new RegExp(`^gamma: 1 file\\(s\\) differ from ${current}\n--- compose.yaml \\(on the host\\)\n`),
      )
      expect(changed.stdout).toContain('\n-    image: "postgres:16-alpine"\n+    image: "postgres:17-alpine"\n')
      const json = await run(['diff', 'gamma', '--json'])
      expect(json.code).toBe(1)
      expect(JSON.parse(json.stdout).hosts[0]).toMatchObject({ host: 'gamma', same: false, env: 'same' })
    } finally {
      await writeFile(stack, before)
    }
    await writeFile(join(hosts.dir, 'secrets.env'), 'DB_PASSWORD=another-password-0123\nAPI_KEY=sk-key-0123\n', {
      mode: 0o600,
    })
    try {
      const env = await run(['diff', 'gamma'])
      expect(env).toMatchObject({
        code: 1,
        stdout: `gamma: 0 file(s) differ from ${current}; .env changed (values not shown)\n`,
      })
    } finally {
      await writeFile(join(hosts.dir, 'secrets.env'), 'DB_PASSWORD=db-password-0123\nAPI_KEY=sk-key-0123\n', {
        mode: 0o600,
      })
    }
  })

  it('1 when a host cannot be read; the others are still compared', async () => {
    const result = await run(['diff', 'alpha', 'gamma'])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe(
      `alpha: unreachable: connection refused by root@127.0.0.1:1: is sshd running?\ngamma: up to date (${current})\n`,
    )
  })
})
