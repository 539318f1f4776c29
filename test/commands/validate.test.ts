// `validate` against what `deploy` refuses: every refusal is found by validate first, located, and
// deploy refuses it before it connects to any host.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { MINIMAL, projectFrom, REPO } from '../helpers/project.js'

const temps: string[] = []
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
})

async function project(
  edits: Parameters<typeof projectFrom>[1],
  secrets: string | null,
  mode = 0o600,
): Promise<string> {
  const dir = await projectFrom(MINIMAL, edits)
  temps.push(dir)
  if (secrets !== null) await writeFile(join(dir, 'secrets.env'), secrets, { mode })
  return dir
}

/** Runs the CLI with every network connection refused and logged. */
async function offline(args: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'aip-offline-'))
  temps.push(dir)
  const log = join(dir, 'network.log')
  const result = await cli(args, {
    env: { NODE_OPTIONS: `--import=${join(REPO, 'test/fixtures/no-network/hook.mjs')}`, AIP_NETWORK_LOG: log },
  })
  return { ...result, network: await readFile(log, 'utf8').catch(() => '(none)') }
}

const GOOD_SECRETS = 'DB_PASSWORD=hunter2hunter2\nAPI_KEY=sk-0123456789\n'

describe('validate finds what deploy refuses', () => {
  it('an image reference Docker refuses: located by validate, refused by deploy before any connection', async () => {
    const dir = await project(
      { 'stacks/db.yaml': (t) => t.replace('image: postgres:16-alpine', 'image: "a;b"') },
      GOOD_SECRETS,
    )
    const line =
      "stacks/db.yaml:6:12 services.db.image: not an image reference Docker accepts: the path component \"a;b\" is not allowed (allowed lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/', got \"a;b\")"
    const validate = await cli(['validate', '--project', dir])
    expect(validate).toMatchObject({ code: 1, stdout: '' })
    expect(validate.stderr).toBe(`${line}\ninvalid: 1 error(s) in ${dir}\n`)
    const deploy = await offline(['deploy', 'gamma', '--yes', '--project', dir])
    expect(deploy).toMatchObject({ code: 1, stdout: '', stderr: `${line}\n1 error\n`, network: '(none)' })
  })

  it('secrets.env as deploy reads it: its lines, its mode and what each host needs, all at once, values never printed', async () => {
    const dir = await project({}, 'API_KEY=sk-0123456789\nAPI_KEY=sk-9876543210\nPASSWORD hunter2\n', 0o644)
    const validate = await cli(['validate', '--project', dir])
    expect(validate).toMatchObject({ code: 1, stdout: '' })
    expect(validate.stderr).toBe(
      [
        'secrets.env:1:1 can be read by others: secret values must be private to you (allowed mode 0600, as `chmod 600 secrets.env` sets it, got mode 0644)',
        'secrets.env:2:1 API_KEY: defined twice',
        'secrets.env:3:1 not a NAME=value line (allowed NAME=value or # comment, got something else)',
        'secrets.env:1:1 host alpha needs secrets that secrets.env does not define: DB_PASSWORD (allowed a NAME=value line for each; run `ai-platform secrets init` to generate them)',
        'secrets.env:1:1 host gamma needs secrets that secrets.env does not define: DB_PASSWORD (allowed a NAME=value line for each; run `ai-platform secrets init` to generate them)',
        `invalid: 5 error(s) in ${dir}`,
        '',
      ].join('\n'),
    )
    const json = JSON.parse((await cli(['validate', '--project', dir, '--json'])).stdout)
    expect(json).toMatchObject({ valid: false, summary: { errors: 5, secrets: { file: 'checked', needed: true } } })
    expect(JSON.stringify(json)).not.toMatch(/sk-0123456789|sk-9876543210|hunter2/)
    // deploy refuses the same file before it connects anywhere
    const deploy = await offline(['deploy', 'gamma', '--yes', '--project', dir])
    expect(deploy).toMatchObject({ code: 1, network: '(none)' })
  })

  it('a valid platform says when secrets.env was not there to check', async () => {
    const absent = await project({}, null)
    expect(await cli(['validate', '--project', absent])).toEqual({
      code: 0,
      stdout: `valid: ${absent}: 3 hosts, 3 stacks, 3 services, 1 templates, 2 models, secrets.env absent (not checked)\n`,
      stderr: '',
    })
    const present = await project({}, GOOD_SECRETS)
    expect(await cli(['validate', '--project', present])).toEqual({
      code: 0,
      stdout: `valid: ${present}: 3 hosts, 3 stacks, 3 services, 1 templates, 2 models\n`,
      stderr: '',
    })
  })
})
