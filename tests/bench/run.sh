#!/usr/bin/env bash
# make bench: figures, each beside the baseline it ran with, on a stack of its
# own ($BUILD/bench-var; ports 25435/19198; services on 18390+). Appends the
# results to docs/benchmarks.md with the machine they ran on.
# BUILD (from make) names the build folder; SP_BENCH_PG_PORT / SP_BENCH_KAFKA_PORT /
# SP_BENCH_PORT_BASE move the stack; BENCH_ENRICH_N sizes the enrichment run;
# BENCH_LATENCY_SECONDS the fixed-rate latency runs (15 s each), BENCH_LATENCY_WARM
# the load before their probes (5 s; the book must hold 500 x (15+5) + 2000 x (15+5) lines).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export SP_VAR=$ROOT/${BUILD:-build}/bench-var SP_PG_PORT=${SP_BENCH_PG_PORT:-25435}
export SP_KAFKA_PORT=${SP_BENCH_KAFKA_PORT:-19198} SP_PORT_BASE=${SP_BENCH_PORT_BASE:-18390}
export SP_LOG_LEVEL=warn SP_PG_FSYNC=${SP_PG_FSYNC:-on}
BIN=$ROOT/${BUILD:-build}/bin
BB=$ROOT/${BUILD:-build}/bench
export SP_BIN=$BIN
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
SP_HTTP_ADDR=http://127.0.0.1:$((SP_PORT_BASE + 6)) "$BIN/sp-ingest" >"$SP_VAR/ingest.log" 2>&1 &
ip=$!
sleep 1
BENCH_BROKER_PID=$(cat "$SP_VAR/kafka/broker.pid" 2>/dev/null) "$BB/bench_ingest" http://127.0.0.1:$((SP_PORT_BASE + 6)) "$KEY" "$SP_KAFKA_BOOTSTRAP" "${BENCH_SECONDS:-10}" "${BENCH_CLIENTS:-4}"
echo "sp-ingest peak RSS: $(rss $ip)"
kill $ip; wait $ip 2>/dev/null
# (2) extraction alone, one core
[ -x "$BB/bench_extract" ] && "$BB/bench_extract" 2>&1 | tail -3
# fresh broker and database for the next part
# an empty database with the schema, and the topics (kept if they exist)
fresh_db() {
  psql "$SP_PG_URL" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" 2>/dev/null
  "$BIN/spctl" migrate >/dev/null && "$BIN/spctl" topics create >/dev/null
}
fresh() {
  bash deploy/local/kafka.sh stop >/dev/null; rm -rf "$SP_VAR/kafka/data"; bash deploy/local/kafka.sh start >/dev/null
  fresh_db
}
# the services again on a fresh database and the running broker, the book's
# org seeded, clock $1. The broker is not restarted: a deployment's broker
# has run for days, and a fresh JVM spends the first minute of load
# compiling (session 17, 2,000/s on a broker started just before: java
# 10.9 s of CPU in the run instead of 5.6 s, p99 3.0 s instead of 0.44 s).
# The topics keep the earlier runs' messages; every group has read them
# (wait-drained), so the services start at their ends.
restack() {
  bash deploy/local/stack.sh services-stop >/dev/null
  fresh_db
  "$BIN/spctl" seed --org "$SP_VAR/sim/org.json" --crm "$SP_VAR/sim/crm.json" >/dev/null
  SP_CLOCK=$1 bash deploy/local/stack.sh services-start >/dev/null
  sleep 3
}
# replays the book through sp-ingest (extra spctl replay options in "$@"),
# waits until every topic is drained, prints the rate as "pipeline$label";
# the rate into $pipe, the interactions into $n
pipeline_run() {
  local label=$1 t0 out secs
  shift
  t0=$(date +%s.%N)
  "$BIN/spctl" replay --dir "$SP_VAR/sim" --ingest http://127.0.0.1:$((SP_PORT_BASE + 1)) --key "$KEY" "$@"
  out=$("$BIN/spctl" wait-drained --timeout 1200 --since "$t0" 2>/dev/null)
  echo "$out"
  # from the first request until the last stage caught up - not until the
  # wait had seen the pipeline quiet long enough to be sure (4 s more)
  secs=$(sed -n 's/.*caught up \([0-9.]*\) s.*/\1/p' <<<"$out")
  [ -n "$secs" ] || secs=$(echo "$(date +%s.%N) - $t0" | bc -l)
  n=$(psql "$SP_PG_URL" -Atc "select count(*) from interactions")
  pipe=$(echo "$n / $secs" | bc -l)
  printf 'pipeline%s: %d interactions from HTTP ingest to task pool in %.1f s = %.0f interactions/s\n' \
    "$label" "$n" "$secs" "$pipe"
}
# CPU ticks used so far, one "name ticks" line each: PostgreSQL (the
# postmaster's children: backends, WAL writer, checkpointer ...), the
# broker, each service, and this shell's waited-for children (the replay),
# from the output of the shell's `times` in file $1 (written by the caller:
# in a $(...) subshell `times` sees no children)
cpu_ticks() {
  local pm ck t=0 c
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # names here hold no spaces
  ck=$(psql "$SP_PG_URL" -Atc "select pid from pg_stat_activity where backend_type = 'checkpointer'" 2>/dev/null)
  pm=$(awk '{print $4}' "/proc/$ck/stat" 2>/dev/null)
  for c in $(pgrep -P "${pm:-0}"); do t=$((t + $(ticks "$c"))); done
  echo "PostgreSQL $t"
  echo "broker $(ticks "$(cat "$SP_VAR/kafka/broker.pid")")"
  for svc in ingest enrich score route taskpool; do echo "sp-$svc $(ticks "$(cat "$SP_VAR/run/sp-$svc.pid")")"; done
  # times: the second line is the children's user and system time
  echo "replay $(sed -n 2p "$1" | awk '{split($1, u, "m"); split($2, s, "m"); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 100}')"
}
# the CPU per interaction between two cpu_ticks snapshots ($1, $2) for $3
# interactions, one "name us" line each
cpu_us() {
  join <(sort <<<"$1") <(sort <<<"$2") | awk -v n="$3" -v hz="$(getconf CLK_TCK)" '{ printf "%s %.1f\n", $1, ($3 - $2) / hz * 1e6 / n }'
}
# prints cpu_us's lines ($1) in pipeline order, label $2, their sum and
# the rate that sum allows on every core
cpu_per_interaction() {
  awk -v label="$2" -v cores="$(nproc)" '
    { us[$1] = $2; sum += $2 }
    END {
      split("PostgreSQL broker sp-ingest sp-enrich sp-score sp-route sp-taskpool replay", order, " ")
      line = ""
      for (i = 1; i <= 8; i++) line = line sprintf("%s%s %.0f", i > 1 ? ", " : "", order[i] == "replay" ? "spctl (replay and wait)" : order[i], us[order[i]])
      printf "CPU per interaction (%s, us): %s; sum %.0f us -> at most %.0f/s on %d cores if nothing waited\n", label, line, sum, cores * 1e6 / sum, cores
    }' <<<"$1"
}
# every service's peak RSS, each line ending in $1
rss_all() {
  for svc in ingest enrich score route taskpool; do echo "sp-$svc peak RSS$1: $(rss "$(cat "$SP_VAR/run/sp-$svc.pid")")"; done
}
# (2b) enrichment end to end: N simulated interactions already in Kafka,
# sp-enrich alone, through PostgreSQL to sp.enriched.v1; the pass-through
# baseline in the same run (bench_enrich.c says how it is measured)
if [ -x "$BB/bench_enrich" ]; then
  fresh
  en=${BENCH_ENRICH_N:-100000}
  "$BIN/spctl" sim --seed 11 --customers $((en / 60 + 10)) --weeks 13 --out "$SP_VAR/esim" >/dev/null
  "$BIN/spctl" seed --org "$SP_VAR/esim/org.json" --crm "$SP_VAR/esim/crm.json" >/dev/null
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  BENCH_ENRICH_PORT=$((SP_PORT_BASE + 7)) SP_CATALOG=$ROOT/deploy/tenants/demo/catalog.json \
    "$BB/bench_enrich" "$SP_KAFKA_BOOTSTRAP" "$SP_VAR/esim/events.ndjson" "$en" "$BIN/sp-enrich" "$SP_VAR/enrich.log"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  # the same with two sp-enrich instances in the group (how sp-enrich
  # scales: one PostgreSQL backend each; enrich_lock keeps them from
  # deadlocking on shared customers)
  fresh
  "$BIN/spctl" seed --org "$SP_VAR/esim/org.json" --crm "$SP_VAR/esim/crm.json" >/dev/null
  : >"$SP_VAR/enrich2.log"
  BENCH_ENRICH_INSTANCES=2 BENCH_ENRICH_PORT=$((SP_PORT_BASE + 7)) SP_CATALOG=$ROOT/deploy/tenants/demo/catalog.json \
    "$BB/bench_enrich" "$SP_KAFKA_BOOTSTRAP" "$SP_VAR/esim/events.ndjson" "$en" "$BIN/sp-enrich" "$SP_VAR/enrich2.log"
  echo "deadlocks retried: $(grep -c 'deadlock detected' "$SP_VAR/enrich2.log" 2>/dev/null || true)"
  # (2c) sp-score sustained (issue 5): the enriched stream of (2b), its rows
  # in PostgreSQL, through sp-score with the wall clock (as it runs live:
  # each batch as it comes, sweeps on a timer): one instance with batches of
  # 500, one with 2000 (the default), two in one group with 2000, each on
  # emptied and vacuumed score state (the previous run's deleted rows would
  # otherwise be vacuumed during the next), BENCH_SCORE_RUNS times each (3)
  # and the median; first to last scored, so start-up and group join are
  # not counted; beside it a plain consume of the same messages
  k0=$(date +%s.%N)
  nw=$(kcat -b "$SP_KAFKA_BOOTSTRAP" -C -t sp.enriched.v1 -e -q -f 'x\n' 2>/dev/null | wc -l)
  k1=$(date +%s.%N)
  printf 'baseline: plain consume of the same %d messages (kcat): %.0f/s\n' "$nw" "$(echo "$nw / ($k1 - $k0)" | bc -l)"
  # the state autovacuum keeps a running database in: statistics (just
  # loaded, the tables have none and the plans are guesses) and the history
  # vacuumed (a live sp-score reads days and weeks of interactions that
  # autovacuum has long passed over; this stream was written seconds ago,
  # so every row read would first be checked against the commit log).
  # It made no measurable difference in session 13 (one instance 9,479/s
  # without, 9,573/s with; 11,550-11,850/s on a long-used private stack,
  # a difference not explained)
  psql "$SP_PG_URL" -qc "VACUUM ANALYZE" >/dev/null
  rates=()
  # after a configuration's last run: the median of its runs that finished
  score_median() {
    [ "$rep" -eq "${BENCH_SCORE_RUNS:-3}" ] && [ "${#rates[@]}" -gt 0 ] || return 0
    local med
    med=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
    printf 'score (wall clock, %d instance(s), SP_MAX_BATCH=%d): median of %d runs %.0f/s sustained (%s)\n' \
      "$inst" "$mb" "${#rates[@]}" "$med" "$(printf '%.0f ' "${rates[@]}" | sed 's/ $//')"
    printf 'ratio: score/plain consume = %.4f\n' "$(echo "$med / ($nw / ($k1 - $k0))" | bc -l)"
    rates=()
  }
  for run in $(for c in 1:500 1:2000 2:2000; do for r in $(seq 1 "${BENCH_SCORE_RUNS:-3}"); do echo $c:$r; done; done); do
    inst=${run%%:*} mb=${run#*:} rep=${mb#*:} mb=${mb%:*}
    psql "$SP_PG_URL" -qc "TRUNCATE signal_state, deal_health, score_tracking, score_rep_actions, score_sweeps,
      score_role_touches; DELETE FROM processed_events WHERE consumer = 'sp-score'" >/dev/null
    psql "$SP_PG_URL" -qc "VACUUM ANALYZE processed_events, signal_state, deal_health, score_tracking,
      score_rep_actions, score_role_touches" >/dev/null
    pids=() t0= g0=0
    for i in $(seq 1 $inst); do
      SP_GROUP_ID=bench-scorew-$inst-$mb-$rep-$$ SP_MAX_BATCH=$mb SP_CLOCK=wall SP_HTTP_ADDR=http://127.0.0.1:$((18399 + i)) \
        "$BIN/sp-score" >>"$SP_VAR/score-wall.log" 2>&1 &
      pids+=($!)
    done
    for _ in $(seq 1 12000); do
      got=0
      for i in $(seq 1 $inst); do
        g=$(curl -s http://127.0.0.1:$((18399 + i))/metrics | awk '/sp_consumer_messages_total\{result="ok"\}/{print $2}')
        got=$((got + ${g:-0}))
      done
      [ -z "$t0" ] && [ "$got" -gt 0 ] && { t0=$(date +%s.%N); g0=$got; }
      [ "$got" -ge "$nw" ] && break
      kill -0 "${pids[@]}" 2>/dev/null || break
      sleep 0.05
    done
    t1=$(date +%s.%N)
    if [ -z "$t0" ] || [ "$got" -lt "$nw" ]; then
      echo "score (wall clock, $inst instance(s), SP_MAX_BATCH=$mb, run $rep): FAILED, $got of $nw scored ($SP_VAR/score-wall.log)"
      kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
      score_median
      continue
    fi
    rate=$(echo "($nw - $g0) / ($t1 - $t0)" | bc -l)
    printf 'score (wall clock, %d instance(s), SP_MAX_BATCH=%d, run %d): %d enriched messages; %d after the first batch scored in %.1f s = %.0f/s sustained; peak RSS %s\n' \
      "$inst" "$mb" "$rep" "$nw" "$((nw - g0))" "$(echo "$t1 - $t0" | bc -l)" "$rate" "$(for p in "${pids[@]}"; do rss "$p"; echo; done | sort -n | tail -1)"
    kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null
    rates+=("$rate")
    score_median
  done
fi
# (2d) one sweep boundary over a book of 1,000,000 customers and 200,000 open
# deals, 1% due (issue 5): itest_score's measurement (SP_SCORE_BENCH) on
# this stack's database, its book generated there (its other tests run
# first, on rows of their own)
IS=$ROOT/${BUILD:-build}/test/integration/itest_score
if [ -x "$IS" ]; then
  SP_ROOT=$ROOT SP_SCORE_BENCH=only SP_SCORE_BENCH_CUSTOMERS=${BENCH_SWEEP_CUSTOMERS:-1000000} \
    CMOCKA_MESSAGE_OUTPUT=TAP "$IS" >"$SP_VAR/score-bench.log" 2>&1
  grep -q '^bench: sweep' "$SP_VAR/score-bench.log" && sed -n 's/^bench: /score bench: /p' "$SP_VAR/score-bench.log" \
    || echo "score bench: FAILED ($SP_VAR/score-bench.log: $(grep -m1 -E 'error|itest:' "$SP_VAR/score-bench.log"))"
fi
# (3) the whole pipeline: a simulated book replayed as fast as it goes, on a
# clean broker and database (part 1 filled sp.interactions.v1)
fresh
"$BIN/spctl" sim --seed 11 --customers "${BENCH_CUSTOMERS:-800}" --weeks 13 --out "$SP_VAR/sim" >/dev/null
"$BIN/spctl" seed --org "$SP_VAR/sim/org.json" --crm "$SP_VAR/sim/crm.json" >/dev/null
SP_CLOCK=event bash deploy/local/stack.sh services-start >/dev/null
pipeline_run "" --window 5000
rss_all ""
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
# (3b) sp-score alone (issue 5): the enriched stream of the run above consumed
# again from the start by a fresh consumer group on emptied score state, in
# event time; beside it, a plain consume of the same messages (kcat)
bash deploy/local/stack.sh services-stop >/dev/null
k0=$(date +%s.%N)
ne=$(kcat -b "$SP_KAFKA_BOOTSTRAP" -C -t sp.enriched.v1 -e -q -f 'x\n' 2>/dev/null | wc -l)
k1=$(date +%s.%N)
psql "$SP_PG_URL" -qc "TRUNCATE signal_state, deal_health, score_tracking, score_rep_actions, score_sweeps, score_role_touches;
  DELETE FROM processed_events WHERE consumer = 'sp-score'; DELETE FROM clock_partitions WHERE consumer LIKE 'bench-score%'" >/dev/null
SP_GROUP_ID=bench-score-$$ SP_CLOCK=event SP_IDLE_GRACE=1s SP_HTTP_ADDR=http://127.0.0.1:18399 "$BIN/sp-score" >"$SP_VAR/score-bench.log" 2>&1 &
sp=$!
s0=$(date +%s.%N)
for _ in $(seq 1 6000); do
  got=$(curl -s http://127.0.0.1:18399/metrics | awk '/sp_consumer_messages_total\{result="ok"\}/{print $2}')
  [ "${got:-0}" -ge "$ne" ] && break
  kill -0 $sp 2>/dev/null || break
  sleep 0.2
done
s1=$(date +%s.%N)
printf 'score: %d enriched messages (events and watermark heartbeats) through sp-score alone in %.1f s = %.0f/s; peak RSS %s\n' \
  "$ne" "$(echo "$s1 - $s0" | bc -l)" "$(echo "$ne / ($s1 - $s0)" | bc -l)" "$(rss $sp)"
metrics=$(curl -s http://127.0.0.1:18399/metrics)
busy() { echo "$metrics" | awk -v w="$1" '$1 == "sp_score_busy_seconds_total{work=\"" w "\"}" {v = $2} END {print v + 0}'; }
printf 'sp-score busy: %.1f s on events, %.1f s on sweeps, %.1f s on deal health; %d events applied ahead of their sweeps\n' \
  "$(busy events)" "$(busy sweeps)" "$(busy health)" \
  "$(echo "$metrics" | awk '$1 ~ /^sp_score_applied_ahead_total/ {n += $2} END {print n + 0}')"
printf 'baseline: plain consume of the same %d messages (kcat): %.0f/s\n' "$ne" "$(echo "$ne / ($k1 - $k0)" | bc -l)"
printf 'ratio: score/plain consume = %.4f\n' "$(echo "($ne / ($s1 - $s0)) / ($ne / ($k1 - $k0))" | bc -l)"
kill $sp; wait $sp 2>/dev/null
# (3b') the whole pipeline with the wall clock, as live traffic flows: the
# same book on a clean database (the broker of (3) still running), no
# event-time windows (--span 0), 16 streams, sweeps on their hourly timer;
# first request to every topic drained
restack wall
times >"$SP_VAR/times.0"
c_before=$(cpu_ticks "$SP_VAR/times.0")
pipeline_run " (wall clock)" --window 1000000 --span 0 --streams 16
times >"$SP_VAR/times.1"
cpu_wall=$(cpu_us "$c_before" "$(cpu_ticks "$SP_VAR/times.1")" "$n")
cpu_per_interaction "$cpu_wall" "wall clock run"
rss_all " (wall clock run)"
# (3c) ingest -> task latency at fixed rates (issue 8): the same book as
# background load on a clean database with the wall clock (the broker still
# running), probes raising one task each (tests/bench/latency.sh says how it
# is measured)
restack wall
LS=${BENCH_LATENCY_SECONDS:-15} LW=${BENCH_LATENCY_WARM:-5}
BIN=$BIN bash tests/bench/latency.sh 500 "$LS" "$SP_VAR/sim" "http://127.0.0.1:$((SP_PORT_BASE + 1))" "$KEY" 0 "$LW"
BIN=$BIN bash tests/bench/latency.sh 2000 "$LS" "$SP_VAR/sim" "http://127.0.0.1:$((SP_PORT_BASE + 1))" "$KEY" $((500 * (LS + LW))) "$LW"
rss_all " after the latency runs"
# (3d) the front alone: the same replay as (3b') into sp-ingest with every
# downstream service stopped - the load generator's, sp-ingest's and the
# broker's share of the machine, which no change downstream can shrink.
# Beside (3b') it says what a pipeline rate leaves everything after
# sp.interactions.v1. Last before (4)'s fresh broker: the stopped groups
# never read these events.
restack wall
for svc in enrich score route taskpool; do kill "$(cat "$SP_VAR/run/sp-$svc.pid")"; done
sleep 2
times >"$SP_VAR/times.2"
f_before=$(cpu_ticks "$SP_VAR/times.2")
f0=$(date +%s.%N)
fo=$("$BIN/spctl" replay --dir "$SP_VAR/sim" --ingest http://127.0.0.1:$((SP_PORT_BASE + 1)) --key "$KEY" --window 1000000 --span 0 --streams 16)
f1=$(date +%s.%N)
times >"$SP_VAR/times.3"
fn=$(sed -n 's/.* \([0-9]*\) accepted.*/\1/p' <<<"$fo")
if [ "${fn:-0}" -eq 0 ]; then
  echo "front alone: FAILED, nothing accepted (${fo:-no output from spctl replay})"
else
  cpu_front=$(cpu_us "$f_before" "$(cpu_ticks "$SP_VAR/times.3")" "$fn")
  awk -v fn="$fn" -v secs="$(echo "$f1 - $f0" | bc -l)" -v cores="$(nproc)" -v target=20000 '
    FNR == 1 { part++ }
    part == 1 { front[$1] = $2 }
    part == 2 { wall[$1] = $2 }
    END {
      f = front["replay"] + front["sp-ingest"] + front["broker"]
      rest = wall["PostgreSQL"] + wall["sp-enrich"] + wall["sp-score"] + wall["sp-route"] + wall["sp-taskpool"] + wall["broker"] - front["broker"]
      budget = cores * 1e6 / target
      printf "front alone (spctl replay -> sp-ingest -> sp.interactions.v1, downstream stopped): %d interactions in %.1f s = %.0f/s; CPU per interaction (us): spctl %.0f, sp-ingest %.0f, broker %.0f = %.0f\n", fn, secs, fn / secs, front["replay"], front["sp-ingest"], front["broker"], f
      if (budget > f)
        printf "budget at %d interactions/s on %d cores: %.0f us per interaction; the front takes %.0f, leaving %.0f for enrichment, scoring, routing, the task pool, PostgreSQL and the broker'"'"'s other topics, which took %.0f in the wall clock run (%.1f times as much)\n", target, cores, budget, f, budget - f, rest, rest / (budget - f)
      else
        printf "budget at %d interactions/s on %d cores: %.0f us per interaction; the front alone takes %.0f, nothing is left for enrichment, scoring, routing, the task pool, PostgreSQL and the broker'"'"'s other topics, which took %.0f in the wall clock run\n", target, cores, budget, f, rest
    }' <(echo "$cpu_front") <(echo "$cpu_wall")
fi
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
