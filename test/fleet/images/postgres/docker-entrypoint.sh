#!/bin/sh
# Entrypoint of aip/postgres:15: the official postgres image's docker-entrypoint.sh
# (docker-library/postgres, 16/alpine), in POSIX sh for busybox. Same environment, same steps,
# same messages: on an empty PGDATA initdb + password + `host all all all <auth>` + initdb.d
# files on a socket-only temporary server; then exec the command (flags alone mean postgres).
set -eu

# file_env VAR [DEFAULT]: VAR, else the contents of VAR_FILE (Docker secrets), else DEFAULT.
file_env() {
	var=$1
	fileVar="${1}_FILE"
	def=${2:-}
	eval "val=\${$var:-}; fileVal=\${$fileVar:-}"
	if [ -n "$val" ] && [ -n "$fileVal" ]; then
		printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
		exit 1
	fi
	if [ -z "$val" ]; then
		if [ -n "$fileVal" ]; then val=$(cat "$fileVal"); else val=$def; fi
	fi
	export "$var=$val"
	unset "$fileVar"
}

# Quotes each argument for the shell that pg_ctl starts postgres with (`-o`).
quote_args() {
	for arg; do
		printf "'%s' " "$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")"
	done
}

docker_setup_env() {
	: "${PGDATA:=/var/lib/postgresql/data}"
	export PGDATA
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	DATABASE_ALREADY_EXISTS=
	# PG_VERSION in particular: it is what makes a directory a data directory.
	if [ -s "$PGDATA/PG_VERSION" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

# Directories and their owner; chown only as root (the image also runs with `user: postgres`).
docker_create_db_directories() {
	mkdir -p "$PGDATA"
	# failure ignored as upstream does: PostgreSQL itself complains later if it matters
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		if [ "$(id -u)" = 0 ]; then find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +; fi
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	if [ "$(id -u)" = 0 ]; then
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	fi
}

docker_verify_minimum_env() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ trust != "$POSTGRES_HOST_AUTH_METHOD" ]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.

			       See PostgreSQL documentation about "trust":
			       https://www.postgresql.org/docs/current/auth-trust.html
		EOE
		exit 1
	fi
	if [ trust = "$POSTGRES_HOST_AUTH_METHOD" ]; then
		printf >&2 'WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust": every connection is allowed without a password.\n'
	fi
}

docker_init_database_dir() {
	set --
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then set -- --waldir "$POSTGRES_INITDB_WALDIR"; fi
	# --pwfile refuses a properly empty file, hence the newline. UTF8 first, so that
	# POSTGRES_INITDB_ARGS can still choose another encoding.
	printf '%s\n' "$POSTGRES_PASSWORD" |
		eval 'initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin --encoding=UTF8 '"$POSTGRES_INITDB_ARGS"' "$@"'
}

# `host all all all <auth>` as upstream: the auth method is the server's password_encryption.
pg_setup_hba_conf() {
	if [ "${1:-}" = postgres ]; then shift; fi
	auth=$(postgres -C password_encryption "$@")
	: "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
	{
		printf '\n'
		if [ trust = "$POSTGRES_HOST_AUTH_METHOD" ]; then
			printf '# warning trust is enabled for all connections\n'
		fi
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >>"$PGDATA/pg_hba.conf"
}

# Socket-only server for the set-up, with the command's own options (e.g. -c hba_file=...).
docker_temp_server_start() {
	if [ "${1:-}" = postgres ]; then shift; fi
	set -- "$@" -c listen_addresses= -p "${PGPORT:-5432}"
	PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(quote_args "$@")" -w start
}

docker_temp_server_stop() {
	PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

docker_process_sql() {
	if [ -n "$POSTGRES_DB" ]; then set -- --dbname "$POSTGRES_DB" "$@"; fi
	PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

docker_setup_db() {
	exists=$(POSTGRES_DB= docker_process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)
	if [ -z "$exists" ]; then
		POSTGRES_DB= docker_process_sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
		printf '\n'
	fi
}

docker_process_init_files() {
	for f; do
		case $f in
			*.sh)
				if [ -x "$f" ]; then
					printf '%s: running %s\n' "$0" "$f"
					"$f"
				else
					printf '%s: sourcing %s\n' "$0" "$f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql) printf '%s: running %s\n' "$0" "$f"; docker_process_sql -f "$f"; printf '\n' ;;
			*.sql.gz) printf '%s: running %s\n' "$0" "$f"; gunzip -c "$f" | docker_process_sql; printf '\n' ;;
			*.sql.xz) printf '%s: running %s\n' "$0" "$f"; xzcat "$f" | docker_process_sql; printf '\n' ;;
			*.sql.zst) printf >&2 '%s: cannot run %s: this image has no zstd\n' "$0" "$f"; exit 1 ;;
			*) printf '%s: ignoring %s\n' "$0" "$f" ;;
		esac
		printf '\n'
	done
}

# postgres --help and the like print and exit: no set-up for those.
pg_want_help() {
	for arg; do
		case $arg in
			-'?' | --help | --describe-config | -V | --version) return 0 ;;
		esac
	done
	return 1
}

main() {
	case ${1:-} in -*) set -- postgres "$@" ;; esac

	if [ "${1:-}" = postgres ] && ! pg_want_help "$@"; then
		docker_setup_env
		docker_create_db_directories
		if [ "$(id -u)" = 0 ]; then
			# again, as postgres (the server refuses to run as root)
			exec gosu postgres "$0" "$@"
		fi

		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			docker_verify_minimum_env
			# a readable initdb.d before initdb, so that a half-initialised database is less likely
			ls /docker-entrypoint-initdb.d/ >/dev/null
			docker_init_database_dir
			pg_setup_hba_conf "$@"
			# for psql when POSTGRES_INITDB_ARGS made local connections need a password
			export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
			docker_temp_server_start "$@"
			docker_setup_db
			# the glob stays literal when the directory is empty: skip that word
			for f in /docker-entrypoint-initdb.d/*; do
				[ -e "$f" ] || continue
				docker_process_init_files "$f"
			done
			docker_temp_server_stop
			unset PGPASSWORD
			printf '\nPostgreSQL init process complete; ready for start up.\n\n'
		else
			printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
		fi
	fi

	exec "$@"
}

main "$@"
