#!/usr/bin/env bash
# Start the services the full suite tests against, on loopback only:
#   * PostgreSQL (Debian's package) on 127.0.0.1:55432, database relpractice_test
#   * a Chroma server (`chroma run`, from the chromadb package) on 127.0.0.1:58000
# Idempotent: a service that already answers is left alone. `.ci/services-env.sh` exports
# the test-only variables (TEST_DATABASE_URL, CHROMA_TEST_HOST/PORT) that point at them.
# Stop them with:  bash .ci/services-setup.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."

STATE="${RELPRACTICE_CI_STATE:-/tmp/relpractice-ci}"
PG_PORT="${RELPRACTICE_CI_PG_PORT:-55432}"
CHROMA_PORT_CI="${RELPRACTICE_CI_CHROMA_PORT:-58000}"
PGDATA="$STATE/pgdata"
mkdir -p "$STATE"
chmod 755 "$STATE"

as_pg() {
  # initdb/pg_ctl refuse to run as root: use the postgres account when we are root
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$dir" ] && command -v pg_ctl >/dev/null; then
    dir="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
  fi
  echo "$dir"
}

if [ "${1:-}" = "stop" ]; then
  BIN="$(pg_bin)"
  [ -n "$BIN" ] && [ -f "$PGDATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast stop || true
  if [ -f "$STATE/chroma.pid" ]; then
    kill "$(cat "$STATE/chroma.pid")" 2>/dev/null || true
    rm -f "$STATE/chroma.pid"
  fi
  exit 0
fi

# ---------------------------------------------------------------- PostgreSQL
if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
  echo "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
BIN="$(pg_bin)"

if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  echo "postgresql already answers on 127.0.0.1:$PG_PORT"
else
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGDATA"
    pwfile="$(mktemp)"
    echo "postgres" >"$pwfile"
    chmod 644 "$pwfile"
    as_pg "$BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$STATE/initdb.log"
    rm -f "$pwfile"
  fi
  mkdir -p "$STATE/pglog"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$STATE/pglog"
  # loopback only; unix socket in /tmp; enough connections for a test process per schema
  as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$STATE/pglog/postgres.log" -w -t 60 start \
    -o "-k /tmp -h 127.0.0.1 -p $PG_PORT -c max_connections=300 -c shared_buffers=64MB"
fi
# role and database (both idempotent)
as_pg "$BIN/psql" -q -h /tmp -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relpractice') THEN
    CREATE ROLE relpractice LOGIN PASSWORD 'relpractice' CREATEDB;
  END IF;
END $$;
SQL
if ! as_pg "$BIN/psql" -tA -h /tmp -p "$PG_PORT" -U postgres -d postgres \
  -c "SELECT 1 FROM pg_database WHERE datname='relpractice_test'" | grep -q 1; then
  as_pg "$BIN/createdb" -h /tmp -p "$PG_PORT" -U postgres -O relpractice relpractice_test
fi
echo "postgresql ready on 127.0.0.1:$PG_PORT (database relpractice_test)"

# ---------------------------------------------------------------- Chroma server
chroma_up() {
  # $1: seconds to keep trying (default: one try)
  python - "$CHROMA_PORT_CI" "${1:-0}" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        url = f"http://127.0.0.1:{sys.argv[1]}/api/v2/heartbeat"
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.3)
PY
}

if chroma_up; then
  echo "chroma already answers on 127.0.0.1:$CHROMA_PORT_CI"
else
  CHROMA_BIN="$(command -v chroma || true)"
  if [ -z "$CHROMA_BIN" ]; then
    echo "the chroma CLI is missing (it comes with the chromadb package)" >&2
    exit 1
  fi
  mkdir -p "$STATE/chroma"
  ANONYMIZED_TELEMETRY=False setsid nohup "$CHROMA_BIN" run --host 127.0.0.1 \
    --port "$CHROMA_PORT_CI" --path "$STATE/chroma" >"$STATE/chroma.log" 2>&1 </dev/null &
  echo $! >"$STATE/chroma.pid"
  if ! chroma_up 90; then
    echo "the chroma server did not answer within 90 s; its log:" >&2
    tail -n 40 "$STATE/chroma.log" >&2 || true
    exit 1
  fi
fi
echo "chroma ready on 127.0.0.1:$CHROMA_PORT_CI"
