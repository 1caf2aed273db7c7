#!/usr/bin/env bash
# The local stack without containers: PostgreSQL + Kafka (+ the services).
#   stack.sh up       start PostgreSQL and Kafka, apply migrations, create topics
#   stack.sh down     stop the services, Kafka and PostgreSQL; nothing left running
#   stack.sh env      print the SP_* variables for the running stack
# Environment: SP_VAR, SP_PG_PORT, SP_KAFKA_PORT (see pg.sh and kafka.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${SP_BIN:-$ROOT/build/bin}
VAR=${SP_VAR:-$ROOT/var}

env_vars() {
  echo "export SP_PG_URL=$(bash "$HERE/pg.sh" url)"
  echo "export SP_KAFKA_BOOTSTRAP=$(bash "$HERE/kafka.sh" bootstrap)"
}

services_stop() {
  [ -d "$VAR/run" ] || return 0
  for pidf in "$VAR"/run/*.pid; do
    [ -f "$pidf" ] || continue
    pid=$(cat "$pidf")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "stopped $(basename "$pidf" .pid)"
    fi
    rm -f "$pidf"
  done
}

case "${1:-}" in
  up)
    bash "$HERE/pg.sh" start
    bash "$HERE/kafka.sh" start
    eval "$(env_vars)"
    (cd "$ROOT" && "$BIN/spctl" migrate)
    (cd "$ROOT" && "$BIN/spctl" topics create >/dev/null && echo "topics: ${SP_TOPIC_PARTITIONS:-6} partitions each")
    echo "stack up: SP_PG_URL=$SP_PG_URL SP_KAFKA_BOOTSTRAP=$SP_KAFKA_BOOTSTRAP"
    ;;
  down)
    services_stop
    bash "$HERE/kafka.sh" stop
    bash "$HERE/pg.sh" stop
    ;;
  services-stop) services_stop ;;
  env) env_vars ;;
  *) echo "usage: $0 up|down|env|services-stop" >&2; exit 2 ;;
esac
