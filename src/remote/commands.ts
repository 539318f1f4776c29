// Pure builders of what runs on a host: argv arrays and sh scripts whose every variable part is quoted
// here (with remote/quote.ts). Each has a unit test on its exact text in test/unit/remote/commands.test.ts
// (postgresBackup's is in test/unit/ops/backup.test.ts, recordFleetRelease's and readFleetReleases' in
// test/unit/deploy/fleet-release.test.ts).
import type { ComposeInfo } from './facts.js'
import { quoteWord, shellQuote } from './quote.js'

export interface ComposeTarget {
  compose: ComposeInfo
  project: string
  baseDir: string
  releaseId: string
}

function releaseDir(baseDir: string, id: string): string {
  return `${baseDir}/releases/${id}`
}

/**
 * compose on a release, as a script: the secrets reach compose in its process environment, read by the
 * shell from the release's .env (`NAME='value'` lines, 0600), never in any argv. Compose v1 and v2
 * read an --env-file differently once a value holds `$`, quotes or spaces; a value in the environment
 * reaches both byte for byte. A release written before (plain NAME=value lines, values of safe
 * characters only) is still given as --env-file.
 */
function composeScript(target: ComposeTarget, action: readonly string[]): string[] {
  const dir = releaseDir(target.baseDir, target.releaseId)
  return sh(
    [
      'set -eu',
      `d=${quoteWord(dir)}`,
      `if [ -s "$d/.env" ] && grep -qv "^[A-Za-z_][A-Za-z0-9_]*='" "$d/.env"; then set -- --env-file "$d/.env"; else set -a; [ ! -f "$d/.env" ] || . "$d/.env"; set +a; set --; fi`,
      `exec ${shellQuote([...target.compose.command, '--project-name', target.project, '--project-directory', target.baseDir])} --file "$d/compose.yaml" "$@" ${shellQuote(action)}`,
    ].join('\n'),
  )
}

export function composeUp(target: ComposeTarget): string[] {
  return composeScript(target, ['up', '--detach', '--remove-orphans'])
}

export function composeDown(target: ComposeTarget): string[] {
  return composeScript(target, ['down', '--remove-orphans'])
}

/** Compose's digest of one service's definition in a release: `SERVICE HASH`, the value its containers carry as a label. */
export function composeConfigHash(target: ComposeTarget, service: string): string[] {
  return composeScript(target, ['config', `--hash=${service}`])
}

/**
 * Starts new containers of one service beside the ones it runs, up to `count` in all: `--no-recreate`
 * leaves its running containers (whatever definition they were made from) and its dependencies alone.
 * The way a rolling update adds a batch. Not `--no-deps`: Compose v2 then drops the service's
 * depends_on from its definition, and its new containers would carry another config-hash than the one
 * `config --hash` gives (the next `up` would recreate them all).
 */
export function composeScaleUp(target: ComposeTarget, service: string, count: number): string[] {
  return composeScript(target, ['up', '--detach', '--no-recreate', '--scale', `${service}=${count}`, service])
}

/** The Compose profile on-demand services are rendered under (src/render/render.ts): `up` alone never starts them. */
const ON_DEMAND_PROFILE = 'on-demand'

/**
 * Starts (or recreates, when the release changed them) the named on-demand services of a release.
 * --no-deps: what they depend on is run by deploy already; `up` on it again could recreate it outside
 * a deploy. The profile makes the named services known to Compose v1 and v2 alike.
 */
export function composeStartServices(target: ComposeTarget, services: readonly string[]): string[] {
  return composeScript(target, ['--profile', ON_DEMAND_PROFILE, 'up', '--detach', '--no-deps', '--', ...services])
}

/** Stops and removes the named services' containers, and only those (`rm --stop` is stop, then rm). */
export function composeRemoveServices(target: ComposeTarget, services: readonly string[]): string[] {
  return composeScript(target, ['--profile', ON_DEMAND_PROFILE, 'rm', '--stop', '--force', '--', ...services])
}

export function sh(script: string): string[] {
  return ['sh', '-c', script]
}

const header = (baseDir: string, umask = '022'): string => `set -eu\numask ${umask}\nb=${quoteWord(baseDir)}`

/**
 * Unpacks the release tarball (stdin) into a hidden directory, moves config files into the
 * content-addressed store, checks every file the release names against its files.sha256, and renames
 * the directory into place: a release is whole or absent. A store entry whose files do not match
 * their sums (damaged, or edited on the host) is replaced by the uploaded one.
 */
export function unpackRelease(baseDir: string, id: string): string[] {
  return sh(
    [
      header(baseDir),
      `id=${quoteWord(id)}`,
      'mkdir -p "$b/releases" "$b/files" "$b/data"',
      'tmp="$b/releases/.incoming-$id"',
      `trap 'rm -rf "$tmp"' EXIT`,
      'rm -rf "$tmp" && mkdir -p "$tmp"',
      'tar -x -C "$tmp" -f -',
      'sums="$tmp/release/files.sha256"',
      'intact() { grep -F " files/$1/" "$sums" | (cd "$b" && sha256sum -c -) >/dev/null 2>&1; }',
      'if [ -d "$tmp/files" ]; then for d in "$tmp"/files/*/; do k=$(basename "$d"); if [ -e "$b/files/$k" ] && ! intact "$k"; then mv "$b/files/$k" "$b/files/.damaged-$k-$$" && rm -rf "$b/files/.damaged-$k-$$"; fi; [ -e "$b/files/$k" ] || mv "$d" "$b/files/$k"; done; fi',
      'if [ -s "$sums" ] && ! check=$(cd "$b" && sha256sum -c "$sums" 2>&1); then printf \'%s\\n\' "$check" | grep -v \': OK$\' >&2; echo "the release\'s config files did not arrive intact" >&2; exit 1; fi',
      'chmod 600 "$tmp/release/.env" "$tmp/release/.env.sha256"',
      'test ! -e "$b/releases/$id"',
      'mv "$tmp/release" "$b/releases/$id"',
      'rm -rf "$tmp"',
    ].join('\n'),
  )
}

/** Points `current` at a release with one rename, so readers never see it missing. */
export function switchCurrent(baseDir: string, id: string): string[] {
  return sh(
    [
      header(baseDir),
      `ln -sfn ${quoteWord(`releases/${id}`)} "$b/.current.new"`,
      'mv -T "$b/.current.new" "$b/current"',
    ].join('\n'),
  )
}

/** Removes a release that was uploaded but never made current. */
export function removeRelease(baseDir: string, id: string): string[] {
  return sh(
    [
      header(baseDir),
      `id=${quoteWord(id)}`,
      'test "$(readlink "$b/current" 2>/dev/null)" != "releases/$id"',
      'rm -rf "$b/releases/$id"',
    ].join('\n'),
  )
}

export function removeCurrent(baseDir: string): string[] {
  return sh([header(baseDir), 'rm -f "$b/current"'].join('\n'))
}

export interface LockInfo {
  token: string
  user: string
  machine: string
  pid: number
  command: string
  since: string
}

/**
 * A shell function `place` that creates .lock with its info already inside: the info is written
 * into a private directory first, which is then renamed onto .lock. rename(2) fails when .lock
 * exists (it is never empty), so exactly one taker wins, and nobody ever sees a lock without its
 * holder's info.
 */
function placeLock(json: string): string {
  return [
    'place() {',
    '  t="$b/.lock.new-$$"; rm -rf "$t"; mkdir "$t" || return 1',
    `  printf '%s\\n' ${quoteWord(json)} > "$t/info.json"`,
    '  if mv -T "$t" "$b/.lock" 2>/dev/null; then return 0; fi',
    '  rm -rf "$t"; return 1',
    '}',
  ].join('\n')
}

/**
 * A shell function `breakif CHECK...` that replaces a held lock with ours when CHECK still holds.
 * Breakers serialize on .lock.break (mkdir is atomic) and run CHECK again inside it: without that,
 * two takers that both saw the old lock stale would each move aside whatever .lock is by then, the
 * second one the lock the first had just placed. A .lock.break left by a killed breaker expires
 * after a minute.
 */
const BREAK_LOCK = [
  'breakif() {',
  '  if ! mkdir "$b/.lock.break" 2>/dev/null; then',
  '    if [ $(( $(date +%s) - $(stat -c %Y "$b/.lock.break" 2>/dev/null || date +%s) )) -ge 60 ]; then rm -rf "$b/.lock.break"; fi',
  '    return 1',
  '  fi',
  '  r=1',
  '  if "$@" && mv -T "$b/.lock" "$b/.lock.stale-$$" 2>/dev/null; then rm -rf "$b/.lock.stale-$$"; if place; then r=0; fi; fi',
  '  rmdir "$b/.lock.break"',
  '  return $r',
  '}',
].join('\n')

/**
 * Renaming a directory is atomic: whoever places .lock holds it. Prints `acquired`, or `held`, the
 * holder's info and the seconds since its last heartbeat. A lock stale for `staleSeconds` is broken
 * and taken by exactly one taker (`acquired` then `stale AGE`).
 */
export function acquireLock(baseDir: string, info: LockInfo, staleSeconds: number, after = ''): string[] {
  const json = JSON.stringify(info)
  return sh(
    [
      header(baseDir),
      'mkdir -p "$b"',
      // what a taker killed halfway through `place` left behind
      `find "$b" -maxdepth 1 -name '.lock.new-*' -mmin +1 -exec rm -rf {} + 2>/dev/null || true`,
      placeLock(json),
      BREAK_LOCK,
      'lockage() { echo $(( $(date +%s) - $(stat -c %Y "$b/.lock/info.json" 2>/dev/null || stat -c %Y "$b/.lock" 2>/dev/null || date +%s) )); }',
      `stale() { [ "$(lockage)" -ge ${staleSeconds} ]; }`,
      afterAcquired(after),
      'if place; then echo acquired; after; exit 0; fi',
      'age=$(lockage)',
      'if stale && breakif stale; then echo acquired; echo "stale $age"; after; exit 0; fi',
      'echo held',
      'cat "$b/.lock/info.json" 2>/dev/null && echo || true',
      'echo "@@age $(lockage)"',
    ].join('\n'),
  )
}

/**
 * A shell function `after` run once the lock is ours: what is read there (the host's facts) is read
 * under the lock, in the same round trip. It may fail freely: its output is parsed, not its status.
 */
function afterAcquired(script: string): string {
  return script === '' ? 'after() { :; }' : `after() {\nset +e\n${script}\n}`
}

/** Takes over a lock whose holder is known dead, only if it is still that holder's (token). */
export function takeOverLock(baseDir: string, info: LockInfo, deadToken: string, after = ''): string[] {
  return sh(
    [
      header(baseDir),
      placeLock(JSON.stringify(info)),
      BREAK_LOCK,
      `dead() { grep -q ${quoteWord(deadToken)} "$b/.lock/info.json" 2>/dev/null; }`,
      afterAcquired(after),
      'if breakif dead; then echo acquired; after; fi',
    ].join('\n'),
  )
}

/** The sha256 of a release's .env, in a loop over `id`. */
const ENV_SUM = 'sha256sum "$b/releases/$id/.env" 2>/dev/null | cut -c1-64'

/**
 * The history lines decisions read: those naming a release the host still keeps (its id as `release`
 * or `to`), the newest HISTORY_TAIL of them. history.jsonl only grows: a host with years of deploys
 * sends a few lines per kept release, not its whole past. The on-demand services' started/stopped
 * lines are left out: they judge no release, and a busy `up`/`down` must not push deploys out of the tail.
 */
const HISTORY_TAIL = 2000
const KEPT_HISTORY = `ls -1 "$b/releases" 2>/dev/null | grep -v '^\\.' | grep -Fs -f - "$b/history.jsonl" | grep -v -e '"event":"started"' -e '"event":"stopped"' | tail -n ${HISTORY_TAIL} || true`

/**
 * Every release kept on the host, newest first: `@@release <id> <sha256 of its .env>` then its
 * release.json; then `@@history` and its newest lines. The digests never leave this run: they tell
 * releases of the same files but other secrets apart.
 */
export function readReleases(baseDir: string): string[] {
  return sh(
    [
      header(baseDir),
      '[ -d "$b/releases" ] || exit 0',
      `for id in $(ls -1 "$b/releases" | grep -v '^\\.' | sort -r); do echo "@@release $id $(${ENV_SUM})"; cat "$b/releases/$id/release.json" 2>/dev/null; echo; done`,
      'echo "@@history"',
      KEPT_HISTORY,
    ].join('\n'),
  )
}

/** Keeps our lock fresh; fails if it is no longer ours. */
export function heartbeatLock(baseDir: string, token: string): string[] {
  return sh(
    [header(baseDir), `grep -q ${quoteWord(token)} "$b/.lock/info.json"`, 'touch "$b/.lock/info.json"'].join('\n'),
  )
}

/** Removes the lock only if it is still ours; renamed away first, so no taker sees it half-deleted. */
export function releaseLock(baseDir: string, token: string): string[] {
  return sh(
    [
      header(baseDir),
      `if grep -q ${quoteWord(token)} "$b/.lock/info.json" 2>/dev/null && mv -T "$b/.lock" "$b/.lock.gone-$$"; then rm -rf "$b/.lock.gone-$$"; fi`,
    ].join('\n'),
  )
}

/** Removes the lock whoever holds it (`lock release`). */
export function forceReleaseLock(baseDir: string): string[] {
  return sh(
    [header(baseDir), 'if mv -T "$b/.lock" "$b/.lock.gone-$$" 2>/dev/null; then rm -rf "$b/.lock.gone-$$"; fi'].join(
      '\n',
    ),
  )
}

/**
 * Appends one history line, then prints what pruning decides from (see releasesToPrune): the
 * release directories, the live one and the history's newest lines.
 */
export function recordHistory(baseDir: string, historyLine: string): string[] {
  return sh(
    [
      header(baseDir),
      `printf '%s\\n' ${quoteWord(historyLine)} >> "$b/history.jsonl"`,
      'echo "@@live $(readlink "$b/current" 2>/dev/null | sed "s#^releases/##")"',
      `for id in $(ls -1 "$b/releases" 2>/dev/null | grep -v '^\\.'); do echo "@@release $id $(${ENV_SUM})"; done`,
      'echo "@@history"',
      KEPT_HISTORY,
    ].join('\n'),
  )
}

/** A kept release as the listing names it: its id and its .env digest (null when unreadable). */
export interface KeptRelease {
  id: string
  env: string | null
}

/** `@@release <id> <sha256>`, as recordHistory and readReleases print it. */
export function parseReleaseLine(line: string): KeptRelease {
  const [id = '', env = ''] = line.slice('@@release '.length).trim().split(/\s+/)
  return { id, env: /^[0-9a-f]{64}$/.test(env) ? env : null }
}

/** What recordHistory printed. */
export function parseRecorded(stdout: string): { live: string | null; releases: KeptRelease[]; history: string } {
  const at = stdout.indexOf('@@history\n')
  const head = (at < 0 ? stdout : stdout.slice(0, at)).split('\n')
  const live =
    head
      .find((l) => l.startsWith('@@live '))
      ?.slice(7)
      .trim() ?? ''
  return {
    live: live === '' ? null : live,
    releases: head.filter((l) => l.startsWith('@@release ')).map(parseReleaseLine),
    history: at < 0 ? '' : stdout.slice(at + 10),
  }
}

/** Deletes the given releases (never the live one, whatever the list says), then the config files no kept release names. */
export function pruneReleases(baseDir: string, ids: readonly string[]): string[] {
  return sh(
    [
      header(baseDir),
      'live=$(readlink "$b/current" 2>/dev/null | sed "s#^releases/##" || true)',
      `for r in ${ids.map(quoteWord).join(' ')}; do [ "$r" = "$live" ] || rm -rf "$b/releases/$r"; done`,
      'cd "$b/files" 2>/dev/null || exit 0',
      'for f in *; do [ -e "$f" ] || continue; grep -qs "files/$f/" "$b"/releases/*/release.json || rm -rf "$f"; done',
    ].join('\n'),
  )
}

/** Appends one fleet release line to the host's own record of them (src/deploy/fleet-release.ts). */
export function recordFleetRelease(baseDir: string, line: string): string[] {
  return sh([header(baseDir), `printf '%s\\n' ${quoteWord(line)} >> "$b/fleet-releases.jsonl"`].join('\n'))
}

/** The newest `limit` fleet release lines the host keeps; nothing when it keeps none. */
export function readFleetReleases(baseDir: string, limit: number): string[] {
  return sh(
    [header(baseDir), `[ -f "$b/fleet-releases.jsonl" ] || exit 0`, `tail -n ${limit} "$b/fleet-releases.jsonl"`].join(
      '\n',
    ),
  )
}

/** Every service's definition digest in a release, `SERVICE HASH` per line (Compose v1 and v2 alike). */
export function composeConfigHashes(target: ComposeTarget): string[] {
  return composeScript(target, ['config', '--hash=*'])
}

/**
 * The current release's config files that no longer match its files.sha256, and its .env when it no
 * longer matches its .env.sha256 (releases made before it have none): sha256sum's lines for them.
 */
export function checkReleaseFiles(baseDir: string): string[] {
  return sh(
    [
      header(baseDir),
      'cd "$b"',
      "[ ! -s current/files.sha256 ] || sha256sum -c current/files.sha256 2>/dev/null | grep -v ': OK$' || true",
      "[ ! -s current/.env.sha256 ] || (cd current && sha256sum -c .env.sha256 2>/dev/null) | grep -v ': OK$' || true",
    ].join('\n'),
  )
}

/** The newest `limit` lines of the host's history (the file grows with every deploy). */
export function readHistory(baseDir: string, limit: number): string[] {
  return ['tail', '-n', String(limit), `${baseDir}/history.jsonl`]
}

/** A libpq connection string naming one database: pg_dump and pg_restore read a `-d` value holding `=` as one. */
export function conninfoFor(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/** A SQL identifier, double-quoted: any name, whatever it holds. */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/**
 * The databases a PostgreSQL container holds that can be dumped, one per line, hex-encoded: a name can
 * hold any character but NUL (newlines, `/`, a leading `-`), and a hex line cannot be misread.
 */
export function postgresDatabases(container: string, user: string): string[] {
  return [
    'docker',
    'exec',
    container,
    'psql',
    '-U',
    user,
    '-X',
    '-At',
    '-c',
    "select encode(convert_to(datname, 'UTF8'), 'hex') from pg_database where not datistemplate and datallowconn order by 1",
  ]
}

export interface DumpTarget {
  database: string
  /** A file name made of safe characters only (see dumpFileName). */
  file: string
}

/**
 * Dumps the given databases of a PostgreSQL container (pg_dump -Fc, plus the roles) into
 * BASE/backups/<service>/<id>: private from the first byte (umask 077, 0700 directories), written to a
 * hidden directory that is removed if anything fails and renamed when complete; then keeps the newest
 * `keep` backups and prints `<bytes> <file>` for each file.
 */
export function postgresBackup(
  baseDir: string,
  service: string,
  container: string,
  user: string,
  id: string,
  keep: number,
  dumps: readonly DumpTarget[],
): string[] {
  return sh(
    [
      header(baseDir, '077'),
      `s=${quoteWord(service)}`,
      `c=${quoteWord(container)}`,
      `u=${quoteWord(user)}`,
      `id=${quoteWord(id)}`,
      'd="$b/backups/$s"',
      't="$d/.incoming-$id-$$"',
      'mkdir -p "$d" && chmod 700 "$b/backups" "$d"',
      // whatever ends this script before the rename, the partial dumps go with it
      `trap 'rm -rf "$t"' EXIT`,
      "trap 'exit 1' HUP INT TERM PIPE",
      'rm -rf "$t" && mkdir "$t"',
      'docker exec "$c" pg_dumpall -U "$u" --globals-only > "$t/globals.sql"',
      ...dumps.map(
        (dump) =>
          `docker exec "$c" pg_dump -U "$u" -Fc -d ${quoteWord(conninfoFor(dump.database))} > "$t"/${quoteWord(dump.file)}`,
      ),
      // -T: never into an existing backup of the same second
      'if ! mv -T "$t" "$d/$id" 2>/dev/null; then echo "a backup $id already exists" >&2; exit 1; fi',
      'trap - EXIT',
      `ls -1 "$d" | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort -r | tail -n +${keep + 1} | while read -r old; do rm -rf "$d/$old"; done`,
      'cd "$d/$id" && for f in *; do printf "%s %s\\n" "$(wc -c < "$f")" "$f"; done',
    ].join('\n'),
  )
}

/** Lists backups: `@@backup <id>` then `<bytes> <file>` lines; only directories named like a backup id. */
export function listBackups(baseDir: string, service: string): string[] {
  return sh(
    [
      header(baseDir),
      `d="$b/backups/"${quoteWord(service)}`,
      '[ -d "$d" ] || exit 0',
      `for id in $(ls -1 "$d" | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort -r); do echo "@@backup $id"; for f in "$d/$id"/*; do if [ -e "$f" ]; then printf "%s %s\\n" "$(wc -c < "$f")" "$(basename "$f")"; fi; done; done`,
    ].join('\n'),
  )
}

/**
 * Restores one database from a backup: creates it when missing, then drops and recreates its objects
 * (pg_restore --clean --if-exists). The name reaches PostgreSQL as a quoted identifier and a connection
 * string, never as a word a program could read as an option.
 */
export function postgresRestore(
  baseDir: string,
  service: string,
  container: string,
  user: string,
  id: string,
  database: string,
  file: string,
): string[] {
  const c = quoteWord(container)
  const u = quoteWord(user)
  return sh(
    [
      header(baseDir),
      `f="$b/backups/"${quoteWord(service)}/${quoteWord(id)}/${quoteWord(file)}`,
      'test -f "$f"',
      `docker exec ${c} psql -U ${u} -X -At -c ${quoteWord(`select 1 from pg_database where datname = '${database.replace(/'/g, "''")}'`)} | grep -q 1 || docker exec ${c} psql -U ${u} -X -v ON_ERROR_STOP=1 -q -c ${quoteWord(`create database ${sqlIdentifier(database)}`)}`,
      `docker exec -i ${c} pg_restore -U ${u} --clean --if-exists --no-owner -d ${quoteWord(conninfoFor(database))} < "$f"`,
    ].join('\n'),
  )
}
