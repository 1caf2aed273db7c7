#!/usr/bin/env bash
# make bench: figures, each beside the baseline it ran with, on a stack of its
# own (build/bench-var; ports 55435/19198; services on 18390+). Appends the
# results to docs/benchmarks.md with the machine they ran on.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export SP_VAR=$ROOT/build/bench-var SP_PG_PORT=55435 SP_KAFKA_PORT=19198 SP_PORT_BASE=18390
export SP_LOG_LEVEL=warn SP_PG_FSYNC=${SP_PG_FSYNC:-on}
BIN=$ROOT/build/bin
BB=$ROOT/build/bench
KEY=bench-ingest-key
export SP_INGEST_API_KEYS="bench=$(printf '%s' "$KEY" | sha256sum | cut -c1-64)"
export SP_TENANT_DIR=$ROOT/deploy/tenants/default
out=$SP_VAR/results.txt
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1' EXIT
rm -rf "$SP_VAR"; mkdir -p "$SP_VAR"
bash deploy/local/pg.sh start >/dev/null && bash deploy/local/kafka.sh start >/dev/null || exit 1
eval "$(bash deploy/local/stack.sh env)"; export SP_PG_URL SP_KAFKA_BOOTSTRAP
"$BIN/spctl" migrate >/dev/null && "$BIN/spctl" topics create >/dev/null && "$BIN/spctl" topics create bench.raw >/dev/null
rss() { awk '/VmHWM/{printf "%.1f MB", $2/1024}' "/proc/$1/status" 2>/dev/null; }
{
echo "## $(date -u +%F) on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
echo
echo '```'
# (1) ingest alone, and the plain producer beside it
SP_HTTP_ADDR=http://127.0.0.1:18381 "$BIN/sp-ingest" >"$SP_VAR/ingest.log" 2>&1 &
ip=$!
sleep 1
"$BB/bench_ingest" http://127.0.0.1:18381 "$KEY" "$SP_KAFKA_BOOTSTRAP" "${BENCH_SECONDS:-10}" "${BENCH_CLIENTS:-4}"
echo "sp-ingest peak RSS: $(rss $ip)"
kill $ip; wait $ip 2>/dev/null
# (2) extraction alone, one core
[ -x "$BB/bench_extract" ] && "$BB/bench_extract" 2>&1 | tail -3
# (3) the whole pipeline: a simulated book replayed as fast as it goes, on a
# clean broker and database (part 1 filled sp.interactions.v1)
bash deploy/local/kafka.sh stop >/dev/null; rm -rf "$SP_VAR/kafka/data"; bash deploy/local/kafka.sh start >/dev/null
psql "$SP_PG_URL" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" 2>/dev/null
"$BIN/spctl" migrate >/dev/null && "$BIN/spctl" topics create >/dev/null
"$BIN/spctl" sim --seed 11 --customers "${BENCH_CUSTOMERS:-600}" --weeks 13 --out "$SP_VAR/sim" >/dev/null
"$BIN/spctl" seed --org "$SP_VAR/sim/org.json" --crm "$SP_VAR/sim/crm.json" >/dev/null
SP_CLOCK=event bash deploy/local/stack.sh services-start >/dev/null
t0=$(date +%s.%N)
"$BIN/spctl" replay --dir "$SP_VAR/sim" --ingest http://127.0.0.1:18391 --key "$KEY" --window 5000
"$BIN/spctl" wait-drained --timeout 1200 2>/dev/null
t1=$(date +%s.%N)
n=$(psql "$SP_PG_URL" -Atc "select count(*) from interactions")
pipe=$(echo "$n / ($t1 - $t0)" | bc -l)
printf 'pipeline: %d interactions from HTTP ingest to task pool in %.1f s = %.0f interactions/s\n' "$n" "$(echo "$t1 - $t0" | bc -l)" "$pipe"
for svc in ingest enrich score route taskpool; do echo "sp-$svc peak RSS: $(rss "$(cat "$SP_VAR/run/sp-$svc.pid")")"; done
# baseline: PostgreSQL COPY of the same rows
psql "$SP_PG_URL" -qc "CREATE TABLE copy_bench (LIKE interactions)" >/dev/null
c0=$(date +%s.%N)
psql "$SP_PG_URL" -qc "\\copy (SELECT * FROM interactions) TO '$SP_VAR/rows.copy'" >/dev/null
c1=$(date +%s.%N)
psql "$SP_PG_URL" -qc "\\copy copy_bench FROM '$SP_VAR/rows.copy'" >/dev/null
c2=$(date +%s.%N)
copy=$(echo "$n / ($c2 - $c1)" | bc -l)
printf 'baseline: PostgreSQL COPY of the same %d rows: %.0f rows/s\n' "$n" "$copy"
printf 'ratio: pipeline/COPY = %.3f\n' "$(echo "$pipe / $copy" | bc -l)"
# (4) sp-taskpool's targets (issue 6), the real service on a clean broker and
# database: my-tasks p99 at 500 req/s with 100,000 tasks, commands applied/s
# through Kafka, actions/s, peak RSS
bash deploy/local/stack.sh services-stop >/dev/null
bash deploy/local/kafka.sh stop >/dev/null; rm -rf "$SP_VAR/kafka/data"; bash deploy/local/kafka.sh start >/dev/null
psql "$SP_PG_URL" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" 2>/dev/null
"$BIN/spctl" migrate >/dev/null && "$BIN/spctl" topics create >/dev/null
SP_BENCH_TASKPOOL=$BIN/sp-taskpool SP_BENCH_PORT=18396 "$BB/bench_taskpool" 2>&1 | grep -v '"level"'
echo '```'
echo
} | tee "$out"
cat "$out" >>docs/benchmarks.md
echo "bench: results appended to docs/benchmarks.md"
