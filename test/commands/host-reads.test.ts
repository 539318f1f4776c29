// Day-two reads with one host this machine and one that refuses connections: the unreachable host is
// listed with why, the other is still read, and the exit status says a host could not be read.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { localHosts, type LocalHosts } from '../helpers/local-hosts.js'

let hosts: LocalHosts
const refused = 'connection refused by root@127.0.0.1:1: is sshd running?'

beforeAll(async () => {
  hosts = await localHosts()
})
afterAll(async () => {
  await hosts?.cleanup()
})

const run = (args: string[]) => cli([...args, '--project', hosts.dir], { env: hosts.env })

describe('reads of hosts, one of them unreachable', () => {
  it('audit --remote lists the unreachable host in its place, with why, and exits 1', async () => {
    const line = {
      time: '2026-11-23T03:39:28.000Z',
      event: 'deployed',
      release: '20261123T033928Z-9c2e15e2',
      user: 'ops',
      machine: 'desk',
    }
    await writeFile(join(hosts.base, 'history.jsonl'), `${JSON.stringify(line)}\n`)
    const text = await run(['audit', 'alpha', 'gamma', '--remote'])
    expect(text.code).toBe(1)
    expect(text.stdout).toBe(
      `-                         alpha        -          cannot read its history: ${refused}\n` +
        '2026-11-23T03:39:28.000Z  gamma        deployed   20261123T033928Z-9c2e15e2  ops@desk\n',
    )
    const json = await run(['audit', 'alpha', 'gamma', '--remote', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toEqual({
      kind: 'ai-platform/audit',
      entries: [{ ...line, host: 'gamma' }],
      errors: [{ host: 'alpha', error: `alpha: ${refused}` }],
    })
    // every host read: 0
    expect((await run(['audit', 'gamma', '--remote'])).code).toBe(0)
  })

  it('lock status lists the unreachable host with why and exits 1; only the lock is read (no Docker needed)', async () => {
    const text = await run(['lock', 'status', 'alpha', 'gamma'])
    expect(text).toMatchObject({ code: 1, stdout: `alpha: unreachable: ${refused}\ngamma: not locked\n` })
    const json = await run(['lock', 'status', 'alpha', 'gamma', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toEqual({
      kind: 'ai-platform/locks',
      ok: false,
      hosts: [
        { host: 'alpha', reachable: false, error: `alpha: ${refused}`, lock: null },
        { host: 'gamma', reachable: true, lock: null },
      ],
    })
    await mkdir(join(hosts.base, '.lock'))
    await writeFile(
      join(hosts.base, '.lock/info.json'),
      JSON.stringify({
        token: 't',
        user: 'eve',
        machine: 'elsewhere',
        pid: 42,
        command: 'deploy all',
        since: '2026-11-23T04:00:00.000Z',
      }),
    )
    const locked = await run(['lock', 'status', 'gamma'])
    expect(locked).toMatchObject({
      code: 0,
      stdout: 'gamma: locked by eve@elsewhere (pid 42) since 2026-11-23T04:00:00.000Z (deploy all)\n',
    })
  })
})
