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

async function project(edits: Parameters<typeof projectFrom>[1], secrets: string | null, mode = 0o600): Promise<string> {
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
  const result = await cli(args, { env: { NODE_OPTIONS: `--import=${join(REPO, 'test/fixtures/no-network/hook.mjs')}`, AIP_NETWORK_LOG: log } })
  return { ...result, network: await readFile(log, 'utf8').catch(() => '(none)') }
}

const GOOD_SECRETS = 'DB_PASSWORD=hunter2hunter2\nAPI_KEY=sk-0123456789\n'

describe('validate finds what deploy refuses', () => {
  it('an image reference Docker refuses: located by validate, refused by deploy before any connection', async () => {
    const dir = await project({ 'stacks/db.yaml': (t) => t.replace('image: postgres:16-alpine', 'image: "a;b"') }, GOOD_SECRETS)
    const line = 'stacks/db.yaml:6:12 services.db.image: not an image reference Docker accepts: the path component "a;b" is not allowed (allowed lowercase letters and digits with \'.\', \'_\', \'__\' or \'-\' between them, components joined by \'/\', got "a;b")'
    const validate = await cli(['validate', '--project', dir])
    expect(validate).toMatchObject({ code: 1, stdout: '' })
    expect(validate.stderr).toBe(`${line}\ninvalid: 1 error(s) in ${dir}\n`)
    const deploy = await offline(['deploy', 'gamma', '--yes', '--project', dir])
    expect(deploy).toMatchObject({ code: 1, stdout: '', stderr: `${line}\n1 error\n`, network: '(none)' })
  })
})
