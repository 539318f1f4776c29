// Secrets never appear in output, logs, plans, dry runs, audit records or rendered compose files; hostile
// values are carried as data and never executed.
import { existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHost } from '../../fleet/fleet.js'
import { ensureDeployed, HAVE_FLEET, serviceContainer, testPlatform, type TestPlatform } from '../helpers/platform.js'

const NAMES = ['erebus', 'hephaestus', 'thanatos', 'zelus', 'orpheus', 'kratos', 'nyx', 'hades', 'moros', 'local']
let platform: TestPlatform
let secrets: string[] = []

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile()) out.push(path)
  }
  return out
}

describe.skipIf(!HAVE_FLEET)('secrets and hostile input', () => {
  beforeAll(async () => {
    platform = await testPlatform()
    await ensureDeployed(platform)
    secrets = (await readFile(join(platform.dir, 'secrets.env'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.slice(l.indexOf('=') + 1))
      .filter((v) => v.length >= 8)
    expect(secrets.length).toBeGreaterThan(10)
  }, 600_000)

  afterAll(async () => {
    await platform?.cleanup()
  })

  it('no secret value in any output, log, plan, dry run, audit record, history or rendered compose file', async () => {
    const runs = await Promise.all([
      platform.cli(['deploy', 'all', '--yes', '--force', '--json', '--verbose', '--pull', 'never']),
      platform.cli(['deploy', 'all', '--dry-run', '--json', '--verbose']),
      platform.cli(['deploy', 'all', '--dry-run']),
      platform.cli(['plan', 'all', '--json']),
      platform.cli(['validate', '--json']),
    ])
    runs.push(
      ...(await Promise.all([
        platform.cli(['health', 'all', '--json', '--verbose']),
        platform.cli(['health', 'all']),
        platform.cli(['models', 'list', '--json', '--verbose']),
        platform.cli(['status', 'all', '--json', '--verbose']),
        platform.cli(['preflight', 'all', '--json', '--verbose']),
        platform.cli(['audit', 'all', '--json']),
        platform.cli(['audit', 'all', '--remote', '--json', '--verbose']),
        platform.cli(['logs', 'erebus', '--verbose']),
      ])),
    )
    expect(runs[0].code, runs[0].stderr).toBe(0)
    expect(runs[0].stderr).toContain('[trace] erebus $ ')
    const texts = runs.flatMap((r) => [r.stdout, r.stderr])
    texts.push(await readFile(platform.auditLog, 'utf8'))
    for (const name of NAMES) {
      const host = fleetHost(platform.fleet, name)
      for (const file of await filesUnder(host.outside.baseDir)) {
        if (file.endsWith('/.env')) {
          // The one place values belong: the host's .env, readable by its owner only.
          expect([file, (await stat(file)).mode & 0o777]).toEqual([file, 0o600])
          continue
        }
        if (/\/(data|nas)\//.test(file)) continue
        texts.push(`${file}\n${await readFile(file, 'utf8')}`)
      }
    }
    const leaks = texts.flatMap((text) =>
      secrets.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 4)}... in ${text.slice(0, 80)}`),
    )
    expect(leaks).toEqual([])
  }, 600_000)

  it("a failing service's log lines in the error are masked", async () => {
    const password = (await readFile(join(platform.dir, 'secrets.env'), 'utf8')).match(/^POSTGRES_PASSWORD=(.*)$/m)![1]!
    await platform.regenerate({
      mutate: (name, def) =>
        name === 'postgres-exporter' &&
        (def.command = ['sh', '-c', 'echo "connecting with $$DATA_SOURCE_NAME"; exit 3']),
    })
    try {
      const run = await platform.cli(['deploy', 'erebus', '--json', '--pull', 'never'])
      expect(run.code).toBe(1)
      const error = run.json.hosts[0].error as string
      expect(error).toMatch(/postgres-exporter (exited with 3|keeps crashing \(restarting\)); last log lines:/)
      expect(error).toContain('connecting with postgresql://postgres:***@postgres:5432/postgres?sslmode=disable')
      expect(run.stdout + run.stderr).not.toContain(password)
      expect(await readFile(platform.auditLog, 'utf8')).not.toContain(password)
    } finally {
      await platform.regenerate({})
      await ensureDeployed(platform)
    }
  }, 600_000)

  it('hostile environment values are carried to the container as data, never executed', async () => {
    const marker = `/tmp/aip-injection-${process.pid}`
    const hostile = {
      SUBSHELL: `$$(touch ${marker}-1)`,
      BACKTICKS: `\`touch ${marker}-2\``,
      CHAINED: `ok; touch ${marker}-3`,
      NEWLINE: `first\ntouch ${marker}-4`,
      QUOTES: `it's "quoted" \\ and 'single'`,
      TRAVERSAL: '../../../etc/passwd',
    }
    await platform.regenerate({
      mutate: (name, def) => name === 'pushgateway' && Object.assign(def.environment, hostile),
    })
    try {
      const run = await platform.cli(['deploy', 'moros', '--json', '--pull', 'never'])
      expect(run.code, run.stderr).toBe(0)
      const { container } = await serviceContainer(fleetHost(platform.fleet, 'moros'), 'pushgateway')
      const env = Object.fromEntries(
        (await container.inspect()).Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
      )
      expect(env.SUBSHELL).toBe(`$(touch ${marker}-1)`)
      expect(env.BACKTICKS).toBe(hostile.BACKTICKS)
      expect(env.CHAINED).toBe(hostile.CHAINED)
      expect(env.NEWLINE).toBe(hostile.NEWLINE)
      expect(env.QUOTES).toBe(hostile.QUOTES)
      expect(env.TRAVERSAL).toBe(hostile.TRAVERSAL)
      for (const n of [1, 2, 3, 4]) expect(existsSync(`${marker}-${n}`)).toBe(false)
    } finally {
      await platform.regenerate({})
      await ensureDeployed(platform)
    }
  }, 600_000)
})
