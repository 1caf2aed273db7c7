#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for local runs and tests.
#   pg.sh start|stop|status|url|psql [args]
# Environment: SP_VAR (state folder, default <repo>/var), SP_PG_PORT (25432).
# As root the server runs as the postgres user (PostgreSQL refuses root).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VAR=${SP_VAR:-$ROOT/var}
# Below 32768, as every stack's port (tests 25433-25435, 25487): Linux hands
# out 32768-60999 as the local ports of outgoing connections, and one
# loopback connection holding 127.0.0.1:55434 kept the end-to-end stack's
# PostgreSQL from starting (session 19, "Address already in use" mid-suite).
PORT=${SP_PG_PORT:-25432}
DB=${SP_PG_DB:-salespulse}
PGBIN=${SP_PGBIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")}
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)
DIR=$VAR/pg
ASUSER=()
if [ "$(id -u)" -eq 0 ]; then
  ASUSER=(runuser -u postgres --)
  # The postgres user must reach the data folder; if the repo sits under a
  # folder it cannot enter, keep the cluster in /tmp instead (noted in $VAR/pg.path).
  if ! runuser -u postgres -- test -x "$VAR"; then
    DIR=/tmp/salespulse-pg-$(echo "$VAR" | md5sum | cut -c1-8)
  fi
fi
DATA=$DIR/data
LOG=$DIR/server.log

url() { echo "postgresql://postgres@127.0.0.1:$PORT/$DB"; }

# Our postmaster is running: its lock file names a live process started on
# this data folder. A lock file left by a killed server can name a PID that
# an unrelated process has since been given (containers reuse small PIDs);
# pg_ctl then says "running" and the server refuses to start.
running() {
  local pid
  [ -f "$DATA/postmaster.pid" ] || return 1
  pid=$(head -1 "$DATA/postmaster.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-D $DATA " # not a prefix of another folder
}
answers() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres >/dev/null 2>&1; }

start() {
  if running; then
    # started, perhaps still recovering after a crash: wait for it
    for _ in $(seq 1 300); do answers && break; sleep 0.1; done
    answers || { echo "pg: running on $DATA but not answering on port $PORT" >&2; tail -20 "$LOG" >&2; exit 1; }
    echo "pg: already running on port $PORT"; return 0
  fi
  if [ -f "$DATA/postmaster.pid" ]; then
    echo "pg: removing the stale lock file of a server that is not running" >&2
    rm -f "$DATA/postmaster.pid"
  fi
  mkdir -p "$DIR"
  [ ${#ASUSER[@]} -eq 0 ] || chown postgres: "$DIR"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    "${ASUSER[@]}" "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
  fi
  # autovacuum_naptime 1s: a fresh database filled in a burst (the demo, a
  # replay, a benchmark) gets statistics within a second or two; until then
  # the services' cached plans are those made for empty tables (a
  # 40,776-interaction pipeline: 80 s -> 55 s going from 1 min to 10 s).
  # At 10 s, sp-score's generic plans from the first seconds - a seq scan of
  # interactions per deal - sometimes lasted until the first analyze: 3 of 7
  # latency runs at 2,000/s had p99 1.2-6.3 s; at 1 s, 4 of 4 0.45-0.72 s.
  "${ASUSER[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB -c autovacuum_naptime=${SP_PG_AUTOVACUUM_NAPTIME:-1s} -c fsync=${SP_PG_FSYNC:-on} -c synchronous_commit=${SP_PG_SYNC_COMMIT:-on}" \
    >/dev/null || { echo "pg: could not start on port $PORT:" >&2; tail -20 "$LOG" >&2; exit 1; }
  for _ in $(seq 1 300); do answers && break; sleep 0.1; done
  if ! psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atqc "select 1 from pg_database where datname='$DB'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "create database $DB" >/dev/null
  fi
  echo "$DIR" >"$VAR/pg.path"
  echo "pg: running on port $PORT ($(url))"
}

stop() {
  if running; then
    "${ASUSER[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    echo "pg: stopped"
  else
    echo "pg: not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) running && echo "pg: running on port $PORT" || { echo "pg: stopped"; exit 1; } ;;
  url) url ;;
  psql) shift; exec psql "$(url)" "$@" ;;
  destroy) stop; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|restart|status|url|psql|destroy" >&2; exit 2 ;;
esac
