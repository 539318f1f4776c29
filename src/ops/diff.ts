// `ai-platform diff [TARGETS]`: what a deploy would change on each host, as unified diffs of the
// rendered files against the ones the host's current release holds. Secret values never appear: the
// .env is compared by digest only.
import { createTwoFilesPatch } from 'diff'
import type { OpenProject } from '../config/open.js'
import { errorMessage } from '../errors.js'
import { planRun } from '../plan/service.js'
import { connector, type ConnectChoices } from '../remote/connect.js'
import { parseSections, section } from '../remote/facts.js'
import { shellQuote } from '../remote/quote.js'
import { envDigest, parseReleaseRecord, type ReleaseRecord } from '../deploy/release.js'
import type { HostRender } from '../render/render.js'
import { envFileFor, readSecrets } from '../secrets/secrets.js'

export interface FileChange {
  /** compose.yaml, or a config file's path under files/ without its content hash. */
  file: string
  status: 'changed' | 'added' | 'removed'
  diff: string
}

export interface HostDiff {
  host: string
  reachable: boolean
  error?: string
  current: string | null
  /** Same rendered hash and .env digest: a deploy would do nothing here. */
  same: boolean
  env: 'same' | 'changed' | 'no release'
  changes: FileChange[]
}

/** The facts probe's sections (stderr kept out); files travel base64 so their bytes come back exact. */
const part = (name: string, command: string) => section(name, command, true)
const decode = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8')

/** The current release's record, compose file and .env digest. */
function releaseScript(baseDir: string): string[] {
  return [
    'sh',
    '-c',
    [
      `b=${shellQuote([baseDir])}`,
      part('release', 'cat "$b/current/release.json"'),
      part('compose', 'base64 "$b/current/compose.yaml"'),
      part('env', `sha256sum "$b/current/.env" | cut -d' ' -f1`),
    ].join('\n'),
  ]
}

/** The config files a release names, each in its own section. */
function filesScript(baseDir: string, files: readonly string[]): string[] {
  return [
    'sh',
    '-c',
    [`b=${shellQuote([baseDir])}`, ...files.map((f, i) => part(`file:${i}`, `base64 "$b"/${shellQuote([f])}`))].join(
      '\n',
    ),
  ]
}

/** `files/<sha16>/<path>` -> `<path>` */
const logical = (path: string) => path.replace(/^files\/[0-9a-f]+\//, '')

export function compareHost(
  render: HostRender,
  env: string,
  remote: {
    record: ReleaseRecord | null
    compose: string | null
    envSha256: string | null
    files: Map<string, string>
  },
): Omit<HostDiff, 'host' | 'reachable'> {
  const changes: FileChange[] = []
  const patch = (file: string, before: string, after: string) =>
    createTwoFilesPatch(`${file} (on the host)`, `${file} (rendered)`, before, after, '', '', { context: 3 })
  if (!remote.record) {
    changes.push({ file: 'compose.yaml', status: 'added', diff: patch('compose.yaml', '', render.compose.content) })
    for (const f of render.files)
      changes.push({ file: logical(f.path), status: 'added', diff: patch(logical(f.path), '', f.content) })
    return { current: null, same: false, env: 'no release', changes }
  }
  if ((remote.compose ?? '') !== render.compose.content)
    changes.push({
      file: 'compose.yaml',
      status: 'changed',
      diff: patch('compose.yaml', remote.compose ?? '', render.compose.content),
    })
  const theirs = new Map([...remote.files].map(([path, content]) => [logical(path), content]))
  for (const f of render.files) {
    const name = logical(f.path)
    const before = theirs.get(name)
    if (before === undefined) changes.push({ file: name, status: 'added', diff: patch(name, '', f.content) })
    else if (before !== f.content) changes.push({ file: name, status: 'changed', diff: patch(name, before, f.content) })
    theirs.delete(name)
  }
  for (const [name, content] of theirs) changes.push({ file: name, status: 'removed', diff: patch(name, content, '') })
  const envSame = remote.envSha256 === envDigest(env)
  return {
    current: remote.record.id,
    same: remote.record.hash === render.hash && envSame,
    env: envSame ? 'same' : 'changed',
    changes,
  }
}

export async function diffHosts(
  open: OpenProject,
  selectors: string[],
  options: ConnectChoices = {},
): Promise<{ kind: 'ai-platform/diff'; hosts: HostDiff[] }> {
  const { renders } = planRun(open, { selectors: selectors.length > 0 ? selectors : ['all'] })
  const secrets = await readSecrets(open.project)
  const connections = connector(open.project, { acceptNew: options.acceptNew, redact: options.redact })
  try {
    const hosts = await Promise.all(
      renders.map(async (render): Promise<HostDiff> => {
        try {
          const exec = await connections.get(render.host)
          const baseDir = open.project.hosts[render.host]!.baseDir
          const sections = parseSections((await exec.run(releaseScript(baseDir), { check: false })).stdout)
          const ok = (name: string) => (sections.get(name)?.code === 0 ? sections.get(name)!.output : null)
          const releaseText = ok('release')
          const record = releaseText ? parseReleaseRecord(releaseText) : null
          const files = new Map<string, string>()
          if (record && record.files.length > 0) {
            const read = parseSections((await exec.run(filesScript(baseDir, record.files), { check: false })).stdout)
            record.files.forEach((path, i) => {
              const section = read.get(`file:${i}`)
              if (section?.code === 0) files.set(path, decode(section.output))
            })
          }
          const compose = ok('compose')
          const env = envFileFor(render.secrets, secrets.values, open.project, render.host)
          const result = compareHost(render, env, {
            record,
            compose: compose === null ? null : decode(compose),
            envSha256: ok('env')?.trim() ?? null,
            files,
          })
          return { host: render.host, reachable: true, ...result }
        } catch (error) {
          return {
            host: render.host,
            reachable: false,
            error: errorMessage(error),
            current: null,
            same: false,
            env: 'no release',
            changes: [],
          }
        }
      }),
    )
    return { kind: 'ai-platform/diff', hosts }
  } finally {
    await connections.closeAll()
  }
}
