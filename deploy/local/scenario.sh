#!/usr/bin/env bash
# make scenario DIR=path: replays a scenario of your own through the whole
# local pipeline in event time and prints the signals it produced, one JSON
# object a line in event-time order (docs/scenarios.md). DIR holds org.json,
# crm.json and events.ndjson in the simulator's formats (docs/simulator.md);
# the signals are also written to DIR/signals.ndjson. Starts from empty state
# (like make demo: the local stack's database and topics are wiped); the
# services keep running afterwards - make down stops them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
DIR=${1:?usage: deploy/local/scenario.sh DIR (org.json, crm.json, events.ndjson)}
DIR=$(cd "$DIR" && pwd)
for f in org.json crm.json events.ndjson; do
  [ -r "$DIR/$f" ] || { echo "scenario: no $DIR/$f" >&2; exit 2; }
done
VAR=${SP_VAR:-$ROOT/var}
BIN=$ROOT/build/bin
KEY=${SP_DEMO_INGEST_KEY:-demo-ingest-key}
BASE=${SP_PORT_BASE:-8080}
INGEST=http://127.0.0.1:$((BASE + 1))

echo "== 1/5 local stack, empty" >&2
bash "$HERE/stack.sh" services-stop >/dev/null 2>&1 || true
bash "$HERE/stack.sh" up >&2
eval "$(bash "$HERE/stack.sh" env)"
psql "$SP_PG_URL" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null
"$BIN/spctl" migrate >/dev/null
bash "$HERE/kafka.sh" stop >/dev/null && rm -rf "$VAR/kafka/data" && bash "$HERE/kafka.sh" start >/dev/null
"$BIN/spctl" topics create >/dev/null

echo "== 2/5 org and CRM snapshot" >&2
"$BIN/spctl" seed --org "$DIR/org.json" --crm "$DIR/crm.json" >&2

echo "== 3/5 services (event-time clock)" >&2
# as make demo (deploy/local/demo.sh says why)
export SP_CLOCK=event SP_LOG_LEVEL=${SP_LOG_LEVEL:-warn}
export SP_RDKAFKA_MAX_PARTITION_FETCH_BYTES=${SP_RDKAFKA_MAX_PARTITION_FETCH_BYTES:-16384}
export SP_SCORE_HOLD_FLUSH=${SP_SCORE_HOLD_FLUSH:-3s}
export SP_INGEST_API_KEYS="scenario=$(printf '%s' "$KEY" | sha256sum | cut -c1-64)"
bash "$HERE/stack.sh" services-start >&2

echo "== 4/5 replaying $(wc -l <"$DIR/events.ndjson") events through sp-ingest" >&2
"$BIN/spctl" replay --dir "$DIR" --ingest "$INGEST" --key "$KEY" >&2
"$BIN/spctl" wait-drained --timeout "${SP_SCENARIO_DRAIN_TIMEOUT:-600}" >&2

echo "== 5/5 signals (also in $DIR/signals.ndjson)" >&2
"$BIN/spctl" signals >"$DIR/signals.ndjson"
cat "$DIR/signals.ndjson"
