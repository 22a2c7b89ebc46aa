#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the registry tests and print its URL.
#
#   eval "$(scripts/start-test-postgres.sh --export)"   # sets OCOP_TEST_POSTGRES_URL
#   scripts/start-test-postgres.sh --stop               # stop it and delete its files
#
# Uses the newest /usr/lib/postgresql/*/bin (Debian's postgresql package), a data folder in
# $OCOP_TEST_PG_DIR (default /tmp/ocop-test-pg), 127.0.0.1 only, port $OCOP_TEST_PG_PORT
# (default 54329), trust authentication, fsync off: for tests, never for data. As root it
# runs the server as the 'postgres' user. Idempotent: an already running cluster is reused.
# It can feed a streaming replica (tests/registry/replica.py: pg_basebackup -R): wal_level
# replica and WAL senders below, initdb's pg_hba.conf allows replication from 127.0.0.1.
set -euo pipefail
PORT="${OCOP_TEST_PG_PORT:-54329}"
DIR="${OCOP_TEST_PG_DIR:-/tmp/ocop-test-pg}"
DB="ocop_test"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "start-test-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    RUN=(runuser -u postgres --)
    PGUSER_NAME=postgres
else
    RUN=()
    PGUSER_NAME="$(id -un)"
fi

if [ "${1:-}" = "--stop" ]; then
    if [ -d "$DIR/data" ]; then
        "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    exit 0
fi

if ! "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
    "${RUN[@]}" "$BIN/initdb" -D "$DIR/data" -U "$PGUSER_NAME" --auth=trust -E UTF8 \
        --no-instructions >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
            -c wal_level=replica -c max_wal_senders=10" \
        start >/dev/null \
        || { cat "$DIR/server.log" >&2; exit 1; }
fi
if ! "${RUN[@]}" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    "${RUN[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" "$DB"
fi
URL="postgresql://$PGUSER_NAME@127.0.0.1:$PORT/$DB"
if [ "${1:-}" = "--export" ]; then
    echo "export OCOP_TEST_POSTGRES_URL=$URL"
else
    echo "$URL"
fi
