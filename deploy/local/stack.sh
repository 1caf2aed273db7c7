#!/usr/bin/env bash
# The local stack without containers: PostgreSQL + Kafka (+ the services).
#   stack.sh up       start PostgreSQL and Kafka, apply migrations, create topics
#   stack.sh down     stop the services, Kafka and PostgreSQL; nothing left running
#   stack.sh env      print the SP_* variables for the running stack
# Environment: SP_VAR, SP_PG_PORT, SP_KAFKA_PORT (see pg.sh and kafka.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$(cd "${SP_BIN:-$ROOT/build/bin}" 2>/dev/null && pwd -P || echo "${SP_BIN:-$ROOT/build/bin}")
VAR=${SP_VAR:-$ROOT/var}

env_vars() {
  echo "export SP_PG_URL=$(bash "$HERE/pg.sh" url)"
  echo "export SP_KAFKA_BOOTSTRAP=$(bash "$HERE/kafka.sh" bootstrap)"
}

# 1 when pid is one of our service binaries: a pid file left from before a
# reboot can name a PID some other process has since been given.
ours() {
  local exe
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  case "$exe" in "$BIN"/sp-*) return 0 ;; *) return 1 ;; esac
}

services_stop() {
  [ -d "$VAR/run" ] || return 0
  for pidf in "$VAR"/run/*.pid; do
    [ -f "$pidf" ] || continue
    pid=$(cat "$pidf")
    if ours "$pid"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "stopped $(basename "$pidf" .pid)"
    fi
    rm -f "$pidf"
  done
}

# Every instance to run as "service name port": the services' ports are
# fixed (ingest +1 ... taskpool +5); SP_SCALE_<SVC>=n runs n instances of
# one in its consumer group, instance k on port + 10 * (k - 1), named
# sp-<svc>-k (the first sp-<svc>).
instances() {
  local i=0 k n
  for svc in ingest enrich score route taskpool; do
    i=$((i + 1))
    n=$(eval "echo \${SP_SCALE_$(echo "$svc" | tr a-z A-Z):-1}")
    for k in $(seq 1 "$n"); do
      if [ "$k" -gt 1 ]; then echo "$svc sp-$svc-$k $((${SP_PORT_BASE:-8080} + i + 10 * (k - 1)))"
      else echo "$svc sp-$svc $((${SP_PORT_BASE:-8080} + i))"; fi
    done
  done
}

# Starts the five services in the background with the stack's settings;
# logs in $VAR/log, pids in $VAR/run. Extra SP_* settings come from the
# caller's environment (e.g. SP_CLOCK=event for replays).
services_start() {
  eval "$(env_vars)"
  mkdir -p "$VAR/log" "$VAR/run"
  export SP_TENANT_DIR=${SP_TENANT_DIR:-$ROOT/deploy/tenants/default}
  export SP_CATALOG=${SP_CATALOG:-$ROOT/deploy/tenants/demo/catalog.json}
  export SP_PLAYBOOKS=${SP_PLAYBOOKS:-$ROOT/deploy/tenants/demo/playbooks.json}
  local name port
  while read -r svc name port; do
    local pidf="$VAR/run/$name.pid"
    if [ -f "$pidf" ] && ours "$(cat "$pidf")"; then continue; fi
    (cd "$ROOT" && SP_HTTP_ADDR=${SP_HTTP_HOST:-http://127.0.0.1}:$port exec "$BIN/sp-$svc" \
        >>"$VAR/log/$name.log" 2>&1 </dev/null) &
    echo $! >"$pidf"
  done < <(instances)
  # every instance answers /healthz before we go on
  while read -r svc name port; do
    for _ in $(seq 1 100); do
      curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
      kill -0 "$(cat "$VAR/run/$name.pid")" 2>/dev/null || { echo "$name exited:"; tail -5 "$VAR/log/$name.log"; exit 1; }
      sleep 0.1
    done
  done < <(instances)
  echo "services: sp-ingest :$((${SP_PORT_BASE:-8080} + 1)) ... sp-taskpool :$((${SP_PORT_BASE:-8080} + 5)) (logs in $VAR/log)"
}

case "${1:-}" in
  services-start) services_start ;;
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
  *) echo "usage: $0 up|down|env|services-start|services-stop" >&2; exit 2 ;;
esac
