// The built CLI, run as a user runs it: exit codes, output streams, and no network in a dry run.
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { MINIMAL, projectFrom, REPO, removeProject } from '../helpers/project.js'

const temps: string[] = []
async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aip-cli-'))
  temps.push(dir)
  return dir
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
})

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m)

describe('ai-platform CLI', () => {
  it('--version and --help answered without oclif say exactly what oclif says', async () => {
    for (const args of [['--version'], ['--help']]) {
      const [fast, oclif] = await Promise.all([cli(args), cli(args, { env: { AIP_NO_FAST_PATH: '1' } })])
      expect(fast).toEqual(oclif)
      expect(fast.code).toBe(0)
    }
    const help = (await cli(['--help'])).stdout
    expect(help).toContain(`VERSION\n  ai-platform/`)
    expect(help).toContain(` node-${process.version}\n`)
    expect(help).toMatch(/^ {2}deploy +Deploy hosts/m)
  })

  it('a Node.js older than package.json engines allows is refused in one line, before oclif loads', async () => {
    const copy = await temp()
    await mkdir(join(copy, 'bin'))
    await copyFile(join(REPO, 'bin/run.js'), join(copy, 'bin/run.js'))
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'))
    for (const [engines, refused] of [
      ['>=99.0.0', true],
      [pkg.engines.node, false],
      ['^20.18.1', null],
    ] as const) {
      await writeFile(join(copy, 'package.json'), JSON.stringify({ ...pkg, engines: { node: engines } }))
      const result = await execa(process.execPath, [join(copy, 'bin/run.js'), 'validate'], { reject: false })
      // With the real engines the check passes and the copy goes on to oclif (which it cannot find).
      if (refused)
        expect(result).toMatchObject({
          exitCode: 1,
          stdout: '',
          stderr: `Error: ai-platform needs Node.js >=99.0.0; this is ${process.version}.`,
        })
      else if (refused === false) expect(result.stderr).not.toMatch(/needs Node\.js|engines/)
      // A range the launcher cannot read is a packaging bug, said so, not a skipped check.
      else
        expect(result).toMatchObject({
          exitCode: 2,
          stderr: 'Error: package.json engines.node is "^20.18.1"; bin/run.js understands only ">=X.Y.Z".',
        })
    }
  })

  it('a wrong flag or argument is a user error (exit 1), not a bug', async () => {
    const wrong = await cli(['deploy', 'all', '--dry-run', '--nope'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('Nonexistent flag: --nope')
    noStack(wrong.stderr)
  })

  it('without a project uses the bundled reference platform', async () => {
    const outside = await temp()
    const result = await cli(['validate'], { cwd: outside })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toBe(
      'valid: (bundled reference platform): 10 hosts, 15 stacks, 62 services, 21 templates, 12 models, secrets.env absent (not checked)\n',
    )
  })

  it('deploy all --dry-run --json prints exactly the plan object, opening no network connection', async () => {
    const outside = await temp()
    const log = join(outside, 'network.log')
    const env = { NODE_OPTIONS: `--import=${join(REPO, 'test/fixtures/no-network/hook.mjs')}`, AIP_NETWORK_LOG: log }
    const [dry, plan] = await Promise.all([
      cli(['deploy', 'all', '--dry-run', '--json'], { cwd: outside, env }),
      cli(['plan', 'all', '--json'], { cwd: outside, env }),
    ])
    expect(dry.code).toBe(0)
    expect(dry.stderr).toBe('')
    expect(JSON.parse(dry.stdout)).toEqual(JSON.parse(plan.stdout))
    expect(JSON.parse(dry.stdout)).toMatchObject({ kind: 'ai-platform/plan', summary: { hosts: 10, waves: 4 } })
    expect(await readFile(log, 'utf8').catch(() => '(none)')).toBe('(none)')
    // The hook really refuses: a command that must connect would fail loudly and be logged.
    const probe = await cli(['--version'], {
      cwd: outside,
      env: { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS} --eval=require("net").connect(9,"127.0.0.1")` },
    })
    expect(probe.code).not.toBe(0)
  })

  it('the human dry run shows waves and secret names, never values', async () => {
    const dir = await temp()
    const project = join(dir, 'p')
    expect((await cli(['init', project])).code).toBe(0)
    const secrets = await readFile(join(project, 'secrets.env'), 'utf8')
    const values = secrets
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=')[1]!)
      .filter((v) => v.length > 0)
    expect(values.length).toBeGreaterThan(10)
    const result = await cli(['deploy', 'all', '--dry-run', '--project', project])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('wave 4 (1 host)')
    expect(result.stdout).toContain('secrets POSTGRES_PASSWORD')
    for (const value of values) expect(result.stdout).not.toContain(value)
  })

  it('init scaffolds a valid platform with a 0600 secrets file and refuses a non-empty directory', async () => {
    const dir = await temp()
    const project = join(dir, 'mine')
    const created = await cli(['init', project, '--json'])
    expect(created.code).toBe(0)
    expect(JSON.parse(created.stdout)).toMatchObject({ copied: ['inventory', 'stacks', 'templates', 'schemas'] })
    expect((await stat(join(project, 'secrets.env'))).mode & 0o777).toBe(0o600)
    expect(await readFile(join(project, '.gitignore'), 'utf8')).toBe('secrets.env\nsecrets.env.tmp-*\nrendered/\n')
    expect((await cli(['validate', '--project', project])).code).toBe(0)
    const again = await cli(['init', project])
    expect(again.code).toBe(1)
    expect(again.stderr).toBe(
      `error: ${project} is not empty\nhint: init never overwrites: choose a new or empty directory.\n`,
    )
  })

  it('init --from copies a bundled example (build contexts included) or a platform directory, and refuses what is neither', async () => {
    const dir = await temp()
    const project = join(dir, 'fastapi')
    const created = await cli(['init', project, '--from', 'fastapi-platform', '--json'])
    expect(created.code, created.stderr).toBe(0)
    expect(JSON.parse(created.stdout)).toMatchObject({
      from: 'fastapi-platform',
      copied: ['inventory', 'stacks', 'templates', 'docker', 'README.md', 'schemas'],
    })
    expect((await stat(join(project, 'docker/app/Dockerfile'))).isFile()).toBe(true)
    // the editors' schema comments point at the copy's own schemas/
    const stack = await readFile(join(project, 'stacks', (await readdir(join(project, 'stacks')))[0]!), 'utf8')
    expect(stack).toMatch(/^# yaml-language-server: \$schema=\.\.\/schemas\/stack\.schema\.json$/m)
    // the registry password is the operator's to give: init says so, validate refuses until it is there
    expect(JSON.parse(created.stdout).secrets.toSupply).toEqual(['REGISTRY_PASSWORD'])
    expect((await cli(['validate', '--project', project])).code).toBe(1)
    await writeFile(join(project, 'secrets.env'), 'REGISTRY_PASSWORD=from-the-operator\n', { flag: 'a' })
    const valid = await cli(['validate', '--project', project, '--json'])
    expect(valid.code, valid.stdout).toBe(0)
    expect(JSON.parse(valid.stdout)).toMatchObject({ valid: true, summary: { secrets: { file: 'checked' } } })

    const copy = join(dir, 'copy')
    const again = await cli(['init', copy, '--from', project, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).from).toBe(project)

    const wrong = await cli(['init', join(dir, 'x'), '--from', 'no-such-example'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toBe(
      'error: --from no-such-example: neither a bundled example nor a platform directory (one holding inventory/)\n' +
        'hint: Bundled examples: agents-gateway, fastapi-platform, sutazai; or give the path of a platform directory.\n',
    )
    await expect(stat(join(dir, 'x'))).rejects.toThrow()
  })

  it.each(['sutazai', 'agents-gateway'])(
    'init --from %s gives a platform directory that validates once the secrets init names are supplied',
    async (example) => {
      const project = join(await temp(), example)
      const created = await cli(['init', project, '--from', example, '--json'])
      expect(created.code, created.stderr).toBe(0)
      const report = JSON.parse(created.stdout) as { copied: string[]; secrets: { toSupply: string[] } }
      expect(report.copied).toEqual(expect.arrayContaining(['inventory', 'stacks', 'README.md', 'schemas']))
      expect((await stat(join(project, 'README.md'))).isFile()).toBe(true)
      if (report.secrets.toSupply.length > 0)
        await writeFile(
          join(project, 'secrets.env'),
          report.secrets.toSupply.map((name) => `${name}=supplied-by-the-operator-${name.length}\n`).join(''),
          { flag: 'a' },
        )
      const valid = await cli(['validate', '--project', project, '--json'])
      expect(valid.code, valid.stdout).toBe(0)
      expect(JSON.parse(valid.stdout)).toMatchObject({ valid: true })
    },
  )

  it('render writes each host with a 0600 .env and refuses when a secret is missing', async () => {
    const dir = await temp()
    const project = join(dir, 'p')
    await cli(['init', project])
    const out = join(dir, 'out')
    const result = await cli(['render', 'erebus', 'orpheus', '--project', project, '--out', out])
    expect(result.code).toBe(0)
    expect((await readdir(out)).sort()).toEqual(['erebus', 'orpheus'])
    expect((await stat(join(out, 'erebus/.env'))).mode & 0o777).toBe(0o600)
    expect(
      (await readFile(join(out, 'erebus/.env'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=')[0]),
    ).toEqual(['POSTGRES_PASSWORD', 'POSTGRES_REPLICATION_PASSWORD', 'QDRANT_API_KEY', 'REDIS_PASSWORD'])
    const bare = await projectFrom(MINIMAL)
    temps.push(bare)
    const missing = await cli(['render', '--project', bare, '--out', join(dir, 'out2')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(
      'error: host alpha needs secrets that secrets.env does not define: API_KEY, DB_PASSWORD\nhint: Run `ai-platform secrets init` to generate them.\n',
    )
    await expect(stat(join(dir, 'out2'))).rejects.toThrow()
  })

  it('a broken project: every located error on stderr, exit 1, no stack; --json gives the same as data', async () => {
    const dir = await projectFrom(MINIMAL, {
      'inventory/hosts.yaml': (t) => t.replace('vendor: amd', 'vendor: rocm'),
      'stacks/db.yaml': (t) => t.replace('phase: infra', 'phase: db'),
    })
    temps.push(dir)
    const [result, json] = await Promise.all([
      cli(['plan', '--project', dir]),
      cli(['validate', '--project', dir, '--json']),
    ])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      'inventory/hosts.yaml:9:32 hosts.beta.hardware.gpu.vendor: must be one of nvidia, amd (got "rocm")\nstacks/db.yaml:3:10 x-ai-platform.phase: must be one of infra, ai, monitor (got "db")\n2 errors\n',
    )
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, summary: { errors: 2 } })
  })

  it('user mistakes on the command line are short errors with a hint', async () => {
    const [unknownTarget, noDir, badPhase, json] = await Promise.all([
      cli(['plan', 'erebos', '--project', MINIMAL]),
      cli(['validate', '--project', '/nonexistent/x']),
      cli(['plan', '--phase', 'database', '--project', MINIMAL]),
      cli(['plan', 'erebos', '--json', '--project', MINIMAL]),
    ])
    expect(unknownTarget).toMatchObject({ code: 1, stdout: '' })
    expect(unknownTarget.stderr).toBe(
      'error: unknown target: erebos\nhint: Targets are host names (alpha, beta, gamma), tags (@db, @gpu) or all.\n',
    )
    expect(noDir.stderr).toBe(
      'error: --project /nonexistent/x: no such directory\nhint: Create one with `ai-platform init DIR`.\n',
    )
    expect(badPhase.code).not.toBe(0)
    noStack(badPhase.stderr)
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        message: 'unknown target: erebos',
        hint: 'Targets are host names (alpha, beta, gamma), tags (@db, @gpu) or all.',
      },
    })
  })

  it('an unknown host for logs and exec is a short error, not a crash; nothing is connected', async () => {
    const commands = [
      ['logs', 'nosuchhost'],
      ['exec', 'nosuchhost', '--', 'true'],
    ]
    const runs = await Promise.all(
      commands.map((args) => cli([...args.slice(0, 2), '--project', MINIMAL, ...args.slice(2)])),
    )
    commands.forEach((args, i) => {
      expect(runs[i]!.code, args.join(' ')).toBe(1)
      expect(runs[i]!.stderr).toBe('error: unknown host nosuchhost\nhint: Hosts: alpha, beta, gamma.\n')
    })
  })

  it('a secrets file others can read is refused by every command that would use it, naming the fix', async () => {
    const dir = await projectFrom(MINIMAL)
    temps.push(dir)
    await writeFile(join(dir, 'secrets.env'), 'DB_PASSWORD=hunter2hunter2\nAPI_KEY=key-1\n', { mode: 0o644 })
    const commands = [['status'], ['health'], ['render', '--out', join(dir, 'out')], ['deploy', 'gamma', '--yes']]
    const [dry, ...runs] = await Promise.all([
      cli(['deploy', 'all', '--dry-run', '--project', dir]),
      ...commands.map((args) => cli([...args, '--project', dir])),
    ])
    commands.forEach((args, i) => {
      expect(runs[i]!.code, args.join(' ')).toBe(1)
      expect(runs[i]!.stderr).toBe(
        `error: ${join(dir, 'secrets.env')} can be read by others (mode 0644): secret values must be private to you\nhint: chmod 600 ${join(dir, 'secrets.env')} (and consider whether the values have been seen).\n`,
      )
    })
    // a dry run reads no secret
    expect(dry.code).toBe(0)
  })

  it('every command has help text', async () => {
    const commands = ['validate', 'plan', 'render', 'deploy', 'init', 'secrets init']
    const results = await Promise.all(commands.map((command) => cli([...command.split(' '), '--help'])))
    commands.forEach((command, i) => {
      expect(results[i]!.code, command).toBe(0)
      expect(results[i]!.stdout, command).toContain('USAGE')
      expect(results[i]!.stdout, command).toContain('--project')
    })
  })
})

afterAll(async () => {
  await removeProject(join(tmpdir(), 'never-created'))
})
