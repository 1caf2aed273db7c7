#!/usr/bin/env bash
# make demo: the local stack up, the demo company's quarter through the whole
# pipeline in event time, then a summary of what was detected and routed.
#   SP_DEMO_CUSTOMERS (2000), SP_DEMO_WEEKS (13), SP_DEMO_SEED (42)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
VAR=${SP_VAR:-$ROOT/var}
DEMO=$VAR/demo
BIN=$ROOT/build/bin
CUSTOMERS=${SP_DEMO_CUSTOMERS:-2000}
WEEKS=${SP_DEMO_WEEKS:-13}
SEED=${SP_DEMO_SEED:-42}
KEY=${SP_DEMO_INGEST_KEY:-demo-ingest-key}
BASE=${SP_PORT_BASE:-8080}
INGEST=http://127.0.0.1:$((BASE + 1))
API=http://127.0.0.1:$((BASE + 5))
t0=$(date +%s)

echo "== 1/6 local stack (PostgreSQL, Kafka, migrations, topics)"
bash "$HERE/stack.sh" services-stop >/dev/null 2>&1 || true
bash "$HERE/stack.sh" up
eval "$(bash "$HERE/stack.sh" env)"

echo "== 2/6 fresh demo data: 恒远科技, $CUSTOMERS customers, $WEEKS weeks (seed $SEED)"
# A demo always starts from empty state so its summary is exact.
psql "$SP_PG_URL" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null
"$BIN/spctl" migrate >/dev/null
bash "$HERE/kafka.sh" stop >/dev/null && rm -rf "$VAR/kafka/data" && bash "$HERE/kafka.sh" start >/dev/null
"$BIN/spctl" topics create >/dev/null
rm -rf "$DEMO" && mkdir -p "$DEMO"
"$BIN/spctl" sim --seed "$SEED" --customers "$CUSTOMERS" --weeks "$WEEKS" --out "$DEMO"
"$BIN/spctl" seed --org "$DEMO/org.json" --crm "$DEMO/crm.json"

echo "== 3/6 services (event-time clock)"
# the dashboard's charts (echarts, pinned in its package-lock.json): fetched
# from the npm registry once; without npm the dashboard works without charts
if [ ! -f services/taskpool/web/node_modules/echarts/dist/echarts.min.js ]; then
  bash "$HERE/web-deps.sh" || echo "demo: dashboard charts off (npm unavailable; see deploy/local/web-deps.sh)" >&2
fi
export SP_CLOCK=event SP_LOG_LEVEL=${SP_LOG_LEVEL:-warn}
# Small fetches per partition: a batch then mixes every partition in short
# chunks instead of one partition's megabyte (days of event time), so events
# run little ahead of the watermark that drives sp-score's sweeps.
export SP_RDKAFKA_MAX_PARTITION_FETCH_BYTES=${SP_RDKAFKA_MAX_PARTITION_FETCH_BYTES:-16384}
# sp-score holds the last events of the replay (past the slowest
# partition's watermark) until the input has stopped this long. Longer
# than sp-enrich's SP_IDLE_GRACE (2 s), after which its last heartbeat
# moves the watermark past them and they go in order with their sweeps
# (1 s, until session 8, raced that heartbeat: 21-162 events ahead)
export SP_SCORE_HOLD_FLUSH=${SP_SCORE_HOLD_FLUSH:-3s}
export SP_INGEST_API_KEYS="demo=$(printf '%s' "$KEY" | sha256sum | cut -c1-64)"
export SP_TRACKING_KEY=${SP_TRACKING_KEY:-demo-tracking-key-0123456789}
bash "$HERE/stack.sh" services-start

echo "== 4/6 replaying the quarter through sp-ingest's HTTP endpoints"
t_replay=$(date +%s.%N)
"$BIN/spctl" replay --dir "$DEMO" --ingest "$INGEST" --key "$KEY"

echo "== 5/6 waiting until every topic is drained"
drained=$("$BIN/spctl" wait-drained --timeout "${SP_DEMO_DRAIN_TIMEOUT:-2400}" --since "$t_replay")
echo "$drained"
# when the last stage caught up (wait-drained then watches 4 s more to be sure)
caught=$(sed -n 's/.*caught up \([0-9]*\).*/\1/p' <<<"$drained")

echo "== 6/6 summary ($(($(date +%s) - t0)) s so far; replay to drained ${caught} s)"
# each service's peak resident memory over the replay (VmHWM; target 64 MB)
peaks=""
for f in "$VAR"/run/sp-*.pid; do
  hwm=$(awk '/VmHWM/{printf "%.1f MB", $2/1024}' "/proc/$(cat "$f")/status" 2>/dev/null) || hwm=""
  [ -n "$hwm" ] && peaks="$peaks $(basename "$f" .pid) $hwm,"
done
echo "peak RSS:${peaks%,}"
set +e
"$BIN/spctl" summary --truth "$DEMO/truth.json" --api "$API" --tokens
rc=$?
set -e
echo
echo "Dashboard: $API/   (sign in with a token above; docs/dashboard.md)"
echo "API: $API/v1/me/tasks   (Authorization: Bearer <token above>; docs/api/taskpool.md)"
echo "     a task's playbook filled for its customer: $API/v1/tasks/<key>/playbooks/wakeup_list"
echo "Services keep running for you to explore; stop everything with: make down"
exit $rc
