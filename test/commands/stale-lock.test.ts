// A lock left by a deploy from this machine whose process is gone: lock status and the deploy's
// refusal say the holder is no longer running, and what frees the lock.
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { localHosts, type LocalHosts } from '../helpers/local-hosts.js'

let hosts: LocalHosts
beforeAll(async () => {
  hosts = await localHosts()
})
afterAll(async () => {
  await hosts?.cleanup()
})

const run = (args: string[]) => cli([...args, '--project', hosts.dir], { env: hosts.env })

describe('a stale lock from this machine', () => {
  it('lock status and deploy say its holder is no longer running and name `lock release HOST`', async () => {
    // No token: a lock this version cannot take over (written by hand, or by an older ai-platform).
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    const since = '2026-11-23T04:00:00.000Z'
    await mkdir(join(hosts.base, '.lock'))
    await writeFile(
      join(hosts.base, '.lock/info.json'),
      JSON.stringify({ user: 'root', machine: hostname(), pid: gone, command: 'deploy all', since }),
    )
    const holder = `root@${hostname()} (pid ${gone}, no longer running: \`ai-platform lock release gamma\` frees it)`
    const status = await run(['lock', 'status', 'gamma'])
    expect(status).toMatchObject({ code: 0, stdout: `gamma: locked by ${holder} since ${since} (deploy all)\n` })
    const json = await run(['lock', 'status', 'gamma', '--json'])
    expect(JSON.parse(json.stdout).hosts[0].lock).toEqual({ holder, since, command: 'deploy all', pidRunning: false })
    const deploy = await run(['deploy', 'gamma', '--json'])
    expect(deploy.code, deploy.stderr).toBe(1)
    expect(JSON.parse(deploy.stdout).hosts[0].error).toBe(`gamma is locked by ${holder} since ${since} (deploy all)`)
  })

  it('a holder on this machine that still runs, or on another machine, is named as before', async () => {
    await writeFile(
      join(hosts.base, '.lock/info.json'),
      JSON.stringify({ user: 'root', machine: hostname(), pid: process.pid, command: 'deploy all', since: 's' }),
    )
    expect(JSON.parse((await run(['lock', 'status', 'gamma', '--json'])).stdout).hosts[0].lock).toEqual({
      holder: `root@${hostname()} (pid ${process.pid})`,
      since: 's',
      command: 'deploy all',
      pidRunning: true,
    })
    await writeFile(
      join(hosts.base, '.lock/info.json'),
      JSON.stringify({ user: 'eve', machine: 'elsewhere', pid: 42, command: 'deploy all', since: 's' }),
    )
    expect(JSON.parse((await run(['lock', 'status', 'gamma', '--json'])).stdout).hosts[0].lock).toEqual({
      holder: 'eve@elsewhere (pid 42)',
      since: 's',
      command: 'deploy all',
      pidRunning: null,
    })
  })
})
