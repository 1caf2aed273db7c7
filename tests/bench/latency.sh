#!/usr/bin/env bash
# Ingest -> task latency at a fixed rate (issue 8, bench part b), on a running
# stack with the wall clock: the simulated book's events are replayed through
# sp-ingest at RATE/s for SECONDS as background load, and every 250 ms a probe -
# a customer's WeCom message with an after-sales worry on an open deal that
# no background event touches - is posted. Each probe raises deal.risk_raised
# and so creates one task; its latency is the Kafka timestamp of the task's
# first TaskEvent (sp-taskpool published it after its commit) minus the time
# the probe's POST was sent. Prints p50/p99/max over the probes and how many
# had no task within the wait.
#
# The background load starts WARM seconds before the first counted probe, so
# the figures are the steady state at that rate rather than the start-up of
# a freshly started broker and services (a cold JVM broker's JIT and the
# first sweeps took p99 from ~0.3 s to 0.6-4.8 s on this machine, session 14).
#
# Usage: latency.sh RATE SECONDS SIM_DIR INGEST_URL KEY [SKIP [WARM]]
# SKIP: background lines already used by an earlier run (they would be
# absorbed as duplicates, not load). WARM: seconds of load before the probes
# (default 10).
# Environment: SP_KAFKA_BOOTSTRAP, SP_PG_URL, SP_VAR, BIN (spctl).
set -u
rate=$1 secs=$2 sim=$3 url=$4 key=$5 skip=${6:-0} warm=${7:-10}
work=$SP_VAR/latency-$rate
rm -rf "$work"; mkdir -p "$work"
n=$((rate * (secs + warm)))
tail -n +$((skip + 1)) "$sim/events.ndjson" | head -n "$n" >"$work/events.ndjson"
# probe deals: new ones (a CRM stage change creates each), so every probe's
# risk is the first on its deal and raises a task
nprobe=$((secs * 4 + 1))
psql "$SP_PG_URL" -Atc "SELECT id || ' ' || owner_rep_id FROM customers WHERE owner_rep_id IS NOT NULL
  AND merged_into IS NULL ORDER BY id LIMIT $nprobe" >"$work/customers"
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
tag=$(date +%s%3N)
awk -v now="$now" -v tag="$tag" 'BEGIN{printf "["} {printf "%s{\"source\":\"latency-probe\",\"external_id\":\"deal-%s-%d\",\"occurred_at\":\"%s\",\"channel\":\"crm\",\"customer_ref\":\"%s\",\"rep_id\":\"%s\",\"deal_id\":\"LP-%s-%d\",\"stage_change\":{\"to_stage\":\"demo\"}}", (NR > 1 ? "," : ""), tag, NR, now, $1, $2, tag, NR; print "LP-" tag "-" NR " " $1 > "/dev/stderr"} END{print "]"}' \
  "$work/customers" >"$work/deals.json" 2>"$work/deals"
curl -s -o /dev/null -w '' -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  "$url/v1/interactions" --data-binary @"$work/deals.json"
for _ in $(seq 1 100); do
  [ "$(psql "$SP_PG_URL" -Atc "SELECT count(*) FROM deals WHERE id LIKE 'LP-$tag-%'")" -ge "$nprobe" ] && break
  sleep 0.2
done
# warm-up: the first deal's probe goes through alone and is not counted
# (a fresh service's first message waits for its group join and producer id)
read -r wdeal wcust <"$work/deals"
sed -i 1d "$work/deals"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  "$url/v1/interactions" -d "[{\"source\":\"latency-probe\",\"external_id\":\"warm-$tag\",\"occurred_at\":\"$now\",\"channel\":\"wecom\",\"direction\":\"inbound\",\"customer_ref\":\"$wcust\",\"deal_id\":\"$wdeal\",\"text\":\"我们这边有没有售后网点？出了故障多久能上门维修？\"}]"
for _ in $(seq 1 150); do
  kcat -b "$SP_KAFKA_BOOTSTRAP" -C -t sp.tasks.events.v1 -e -q -f '%k\n' 2>/dev/null | grep -q ":$wdeal:" && break
  sleep 0.2
done
nprobe=$(wc -l <"$work/deals")
"$BIN/spctl" replay --dir "$work" --ingest "$url" --key "$key" --rate "$rate" --window 500 >"$work/replay.log" 2>&1 &
rp=$!
sleep "$warm"
t_start=$(date +%s%3N)
i=0
while read -r deal cust; do
  [ "$i" -ge "$nprobe" ] && break
  now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  sent=$(date +%s%3N)
  curl -s -o /dev/null -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    "$url/v1/interactions" -d "[{\"source\":\"latency-probe\",\"external_id\":\"probe-$rate-$i-$sent\",\"occurred_at\":\"$now\",\"channel\":\"wecom\",\"direction\":\"inbound\",\"customer_ref\":\"$cust\",\"deal_id\":\"$deal\",\"text\":\"设备装好以后如果出了故障，你们多久能上门维修？我们这边有没有售后网点？\"}]"
  echo "task:deal.risk_raised:deal:$deal:1 $sent" >>"$work/probes"
  i=$((i + 1))
  next=$((t_start + i * 250))
  left=$((next - $(date +%s%3N)))
  [ "$left" -gt 0 ] && sleep "$(printf '0.%03d' "$left")"
done <"$work/deals"
wait $rp
t_end=$(date +%s%3N)
# wait (bounded) until every probe's task event is on the topic
for _ in $(seq 1 600); do
  kcat -b "$SP_KAFKA_BOOTSTRAP" -C -t sp.tasks.events.v1 -e -q -f '%k %T\n' 2>/dev/null >"$work/events"
  got=$(awk 'NR==FNR{want[$1]=1; next} ($1 in want) && !seen[$1]++' "$work/probes" "$work/events" | wc -l)
  [ "$got" -ge "$i" ] && break
  sleep 1
done
awk 'NR==FNR{sent[$1]=$2; next} ($1 in sent) && !($1 in first){first[$1]=$2; print $2-sent[$1]}' \
  "$work/probes" "$work/events" | sort -n >"$work/lat"
got=$(wc -l <"$work/lat")
pct() { [ "$got" -gt 0 ] && sed -n "$(((got - 1) * $1 / 100 + 1))p" "$work/lat" || echo 0; }
echo "$i probes, $got tasks, $((i - got)) missing; latency p50 $(pct 50) ms p99 $(pct 99) ms max $(pct 100) ms" >"$work/result"
echo "latency at $rate interactions/s ($n background events, probes over $(((t_end - t_start) / 1000)) s after $warm s of load, wall clock): $(cat "$work/result")"
