#!/usr/bin/env bash
# Run the whole test suite with the project's virtualenv, against SQLite AND PostgreSQL.
#
# Starts a throwaway PostgreSQL cluster (initdb in a temp dir, 127.0.0.1 on a free port,
# fsync off: it is thrown away), exports PBCOUNT_TEST_PG_URL so the tests marked
# `postgres` run, and always stops and deletes the cluster on exit (trap).
# PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` system
# user (created if missing). Set PBCOUNT_TEST_PG_URL yourself to use an existing server,
# or PBCOUNT_NO_PG=1 to run without PostgreSQL (those tests then skip, saying why).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1

PGBIN="${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
PGDIR=""
PG_AS=()

stop_pg() {
  if [ -n "$PGDIR" ] && [ -d "$PGDIR" ]; then
    "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}

start_pg() {
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "run-tests: PostgreSQL binaries not found (install the 'postgresql' package);" \
         "postgres tests will skip" >&2
    return 0
  fi
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
    fi
    PG_AS=(runuser -u postgres --)
  fi
  PGDIR="$(mktemp -d /tmp/pbcount-pg.XXXXXX)"
  chmod 755 "$PGDIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR"
  trap stop_pg EXIT INT TERM
  local port
  port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${PG_AS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --no-sync \
    >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; exit 1; }
  "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w start -o \
    "-h 127.0.0.1 -p $port -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$PGDIR/server.log" >&2; exit 1; }
  export PBCOUNT_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  echo "run-tests: throwaway PostgreSQL at 127.0.0.1:$port ($PGDIR)"
}

if [ -z "${PBCOUNT_TEST_PG_URL:-}" ] && [ "${PBCOUNT_NO_PG:-0}" != "1" ]; then
  start_pg
fi

# not exec: the trap must run after pytest to stop the cluster
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit $rc
