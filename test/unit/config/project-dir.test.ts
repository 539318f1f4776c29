// Which platform a command works on: --project, then AIP_PROJECT, then the current directory, and the
// bundled reference platform only for commands that do not connect to hosts.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveProjectDir } from '../../../src/config/project-dir.js'
import { UserError } from '../../../src/errors.js'
import { packageRoot } from '../../../src/util/paths.js'

let scratch = ''
let mine = ''
let other = ''
let outside = ''
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'aip-project-dir-'))
  mine = join(scratch, 'mine')
  other = join(scratch, 'other')
  outside = join(scratch, 'outside')
  for (const dir of [join(mine, 'inventory'), join(other, 'inventory'), outside]) await mkdir(dir, { recursive: true })
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

const refusal = (fn: () => unknown): UserError => {
  try {
    fn()
  } catch (error) {
    if (error instanceof UserError) return error
    throw error
  }
  throw new Error('not refused')
}

describe('resolveProjectDir', () => {
  it('--project wins over AIP_PROJECT, which wins over the current directory', () => {
    expect(resolveProjectDir(mine, { cwd: other, env: { AIP_PROJECT: other } })).toEqual({ dir: mine, bundled: false })
    expect(resolveProjectDir(undefined, { cwd: other, env: { AIP_PROJECT: mine } })).toEqual({
      dir: mine,
      bundled: false,
    })
    expect(resolveProjectDir(undefined, { cwd: other, env: {} })).toEqual({ dir: other, bundled: false })
    // relative to the current directory, as a shell would read it; an empty variable is no choice
    expect(resolveProjectDir(undefined, { cwd: scratch, env: { AIP_PROJECT: 'mine' } })).toEqual({
      dir: mine,
      bundled: false,
    })
    expect(resolveProjectDir(undefined, { cwd: other, env: { AIP_PROJECT: '' } })).toEqual({
      dir: other,
      bundled: false,
    })
  })

  it('a command that connects to hosts gets the platform chosen any of those ways', () => {
    for (const [flag, cwd, env] of [
      [mine, outside, {}],
      [undefined, outside, { AIP_PROJECT: mine }],
      [undefined, mine, {}],
    ] as const) {
      expect(resolveProjectDir(flag, { cwd, env, connecting: 'deploy' })).toEqual({ dir: mine, bundled: false })
    }
  })

  it('with none of them: the bundled reference platform, only for a command that does not connect', () => {
    expect(resolveProjectDir(undefined, { cwd: outside, env: {} })).toEqual({ dir: packageRoot(), bundled: true })
    const refused = refusal(() => resolveProjectDir(undefined, { cwd: outside, env: {}, connecting: 'lock release' }))
    expect(refused.message).toBe(
      `lock release connects to hosts and needs your platform: there is no --project, no AIP_PROJECT, and ${outside} is not a platform directory (it has no inventory/). The bundled reference platform is an example, used only by validate, plan, render and deploy --dry-run.`,
    )
    expect(refused.hint).toBe(
      'Pass --project DIR, set AIP_PROJECT=DIR, or cd into a platform directory (one with inventory/); `ai-platform init DIR` scaffolds one.',
    )
  })

  it('a directory that is not a platform is refused, naming how it was chosen', () => {
    expect(refusal(() => resolveProjectDir('nope', { cwd: scratch, env: {} })).message).toBe(
      '--project nope: no such directory',
    )
    expect(refusal(() => resolveProjectDir(undefined, { cwd: scratch, env: { AIP_PROJECT: 'nope' } })).message).toBe(
      'AIP_PROJECT=nope: no such directory',
    )
    expect(refusal(() => resolveProjectDir(undefined, { cwd: scratch, env: { AIP_PROJECT: outside } })).message).toBe(
      `AIP_PROJECT=${outside}: ${outside} has no inventory/ directory`,
    )
  })
})
