import { describe, expect, it } from 'vitest'
import { envDigest, type ReleaseRecord } from '../../../src/deploy/release.js'
import { compareHost } from '../../../src/ops/diff.js'
import type { HostRender } from '../../../src/render/render.js'

const file = (path: string, content: string) => ({ path, content, sha256: 'x', mode: '0644' })
const render: HostRender = {
  host: 'erebus',
  composeProject: 'ai-platform',
  compose: file('compose.yaml', 'services:\n  redis:\n    image: redis:7\n'),
  files: [
    file('files/1111111111111111/redis/redis.conf', 'maxmemory 1gb\nappendonly yes\n'),
    file('files/2222222222222222/postgres/init.sql', 'select 1;\n'),
  ],
  secrets: ['REDIS_PASSWORD'],
  services: [],
  hash: 'h-new',
}
const env = 'REDIS_PASSWORD=s3cret-value\n'
const record = (hash: string, files: string[]) => ({ id: 'r1', hash, files }) as unknown as ReleaseRecord

describe("diff: rendered files against the host's current release", () => {
  it('a host without a release: every file would be added', () => {
    const result = compareHost(render, env, { record: null, compose: null, envSha256: null, files: new Map() })
    expect(result).toMatchObject({ current: null, same: false, env: 'no release' })
    expect(result.changes.map((c) => [c.file, c.status])).toEqual([
      ['compose.yaml', 'added'],
      ['redis/redis.conf', 'added'],
      ['postgres/init.sql', 'added'],
    ])
  })

  it('the same release: nothing differs', () => {
    const files = new Map(render.files.map((f) => [f.path, f.content]))
    const result = compareHost({ ...render, hash: 'h-old' }, env, {
      record: record('h-old', [...files.keys()]),
      compose: render.compose.content,
      envSha256: envDigest(env),
      files,
    })
    expect(result).toEqual({ current: 'r1', same: true, env: 'same', changes: [] })
  })

  it('a changed config file (under a new content hash) is one unified diff by its path; removed files are listed; secrets only by digest', () => {
    const files = new Map([
      ['files/9999999999999999/redis/redis.conf', 'maxmemory 512mb\nappendonly yes\n'],
      ['files/2222222222222222/postgres/init.sql', 'select 1;\n'],
      ['files/3333333333333333/old/gone.conf', 'x\n'],
    ])
    const result = compareHost(render, env, {
      record: record('h-old', [...files.keys()]),
      compose: render.compose.content,
      envSha256: envDigest('REDIS_PASSWORD=old-value\n'),
      files,
    })
    expect(result.same).toBe(false)
    expect(result.env).toBe('changed')
    expect(result.changes.map((c) => [c.file, c.status])).toEqual([
      ['redis/redis.conf', 'changed'],
      ['old/gone.conf', 'removed'],
    ])
    expect(result.changes[0]!.diff).toContain(
      '--- redis/redis.conf (on the host)\n+++ redis/redis.conf (rendered)\n@@ -1,2 +1,2 @@\n-maxmemory 512mb\n+maxmemory 1gb\n appendonly yes\n',
    )
    expect(JSON.stringify(result)).not.toContain('s3cret-value')
    expect(JSON.stringify(result)).not.toContain('old-value')
  })
})
