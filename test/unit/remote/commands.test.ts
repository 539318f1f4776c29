import { describe, expect, it } from 'vitest'
import { acquireLock, composeDown, composeUp, recordAndPrune, releaseLock, switchCurrent, unpackRelease } from '../../../src/remote/commands.js'

const v2 = { variant: 'v2' as const, version: '2.26.1', command: ['docker', 'compose'] }
const v1 = { variant: 'v1' as const, version: '1.29.2', command: ['docker-compose'] }

describe('remote command builders', () => {
  it('compose up through v2 and v1, with the release file, its .env and the base directory', () => {
    expect(composeUp({ compose: v2, project: 'ai-platform', baseDir: '/opt/ai-platform', releaseId: '20261123T010203Z-abcdef12' })).toEqual([
      'docker', 'compose', '--project-name', 'ai-platform', '--project-directory', '/opt/ai-platform',
      '--file', '/opt/ai-platform/releases/20261123T010203Z-abcdef12/compose.yaml', '--env-file', '/opt/ai-platform/releases/20261123T010203Z-abcdef12/.env',
      'up', '--detach', '--remove-orphans',
    ])
    expect(composeDown({ compose: v1, project: 'p', baseDir: '/b', releaseId: 'r' })).toEqual(['docker-compose', '--project-name', 'p', '--project-directory', '/b', '--file', '/b/releases/r/compose.yaml', '--env-file', '/b/releases/r/.env', 'down', '--remove-orphans'])
  })

  it('unpacks into a hidden directory and renames it into place', () => {
    expect(unpackRelease('/opt/ai platform', 'r1')).toEqual([
      'sh',
      '-c',
      [
        'set -eu',
        'umask 022',
        "b='/opt/ai platform'",
        'id=r1',
        'mkdir -p "$b/releases" "$b/files" "$b/data"',
        'tmp="$b/releases/.incoming-$id"',
        'rm -rf "$tmp" && mkdir -p "$tmp"',
        'tar -x -C "$tmp" -f -',
        'if [ -d "$tmp/files" ]; then for d in "$tmp"/files/*/; do k=$(basename "$d"); [ -e "$b/files/$k" ] || mv "$d" "$b/files/$k"; done; fi',
        'chmod 600 "$tmp/release/.env"',
        'test ! -e "$b/releases/$id"',
        'mv "$tmp/release" "$b/releases/$id"',
        'rm -rf "$tmp"',
      ].join('\n'),
    ])
  })

  it('switches current with one rename', () => {
    expect(switchCurrent('/opt/ai-platform', 'r2')[2]).toBe('set -eu\numask 022\nb=/opt/ai-platform\nln -sfn releases/r2 "$b/.current.new"\nmv -T "$b/.current.new" "$b/current"')
  })

  it('lock info is carried as one quoted word, whatever it holds', () => {
    const script = acquireLock('/b', { token: "t'1", user: 'eve; rm -rf /', machine: 'm', pid: 1, command: 'deploy $(x)', since: 's' }, 900)[2]!
    expect(script).toContain(`printf '%s\\n' '{"token":"t'\\''1","user":"eve; rm -rf /","machine":"m","pid":1,"command":"deploy $(x)","since":"s"}' > "$b/.lock/info.json"`)
    expect(script).toContain('if [ "$age" -ge 900 ]')
    expect(releaseLock('/b', 'tok')[2]).toBe('set -eu\numask 022\nb=/b\nif grep -q tok "$b/.lock/info.json" 2>/dev/null; then rm -rf "$b/.lock"; fi')
  })

  it('prunes to the newest releases, never the live one', () => {
    const script = recordAndPrune('/b', '{"event":"deployed"}', 3)[2]!
    expect(script).toContain("printf '%s\\n' '{\"event\":\"deployed\"}' >> \"$b/history.jsonl\"")
    expect(script).toContain('tail -n +4')
  })
})
