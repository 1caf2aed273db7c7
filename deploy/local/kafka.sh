#!/usr/bin/env bash
# A real single-node Kafka 4.x broker in KRaft mode for local runs and tests.
#   kafka.sh start|stop|restart|status|bootstrap|destroy
# The broker jars come from Maven Central (org.apache.kafka:kafka_2.13, see
# deploy/local/kafka/pom.xml) through `mvn dependency:copy-dependencies`, once:
# they are cached in SP_KAFKA_CACHE (default ~/.cache/salespulse) and reused.
# Environment: SP_VAR (state, default <repo>/var), SP_KAFKA_PORT (19092; the
# controller listens on port+1), SP_KAFKA_HEAP (512m), SP_KAFKA_JVM_OPTS (GC and
# JIT flags; default G1, 20 ms pauses. "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
# C1 only, halves a fresh broker's CPU in its first minute of load and costs
# ~35% more once warm: session 17, docs/benchmarks.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VAR=${SP_VAR:-$ROOT/var}
PORT=${SP_KAFKA_PORT:-19092}
CPORT=$((PORT + 1))
HEAP=${SP_KAFKA_HEAP:-512m}
JVM_OPTS=${SP_KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20}
POM=$ROOT/deploy/local/kafka/pom.xml
VER=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")
CACHE=${SP_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/salespulse}
JARS=$CACHE/kafka-$VER
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)
DIR=$VAR/kafka
PIDF=$DIR/broker.pid

bootstrap() { echo "127.0.0.1:$PORT"; }

fetch_jars() {
  [ -f "$JARS/.complete" ] && return 0
  echo "kafka: fetching Kafka $VER jars from Maven Central into $JARS"
  rm -rf "$JARS.tmp"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS.tmp" \
    || { echo "kafka: mvn failed" >&2; exit 1; }
  rm -rf "$JARS" && mv "$JARS.tmp" "$JARS" && touch "$JARS/.complete"
}

# Our broker is running: the pid file names a live process started with this
# folder's server.properties (a stale file can name a PID since reused).
running() {
  local pid
  [ -f "$PIDF" ] && pid=$(cat "$PIDF") && [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/server.properties"
}

answers() { kcat -b "127.0.0.1:$PORT" -L -m 2 >/dev/null 2>&1; }

write_config() {
  mkdir -p "$DIR/data"
  cat >"$DIR/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.consumer.min.session.timeout.ms=6000
group.classic.min.session.timeout.ms=6000
log.retention.hours=720
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=2
CONF
  cat >"$DIR/log4j2.properties" <<'CONF'
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = kafka
logger.kafka.level = INFO
CONF
}

# the JVM's arguments before the main class, for the tools and the broker
# shellcheck disable=SC2206 # JVM_OPTS is a list of flags
JAVA_ARGS=(-Xms128m "-Xmx$HEAP" $JVM_OPTS -Djava.awt.headless=true
  "-Dkafka.logs.dir=$DIR" "-Dlog4j2.configurationFile=$DIR/log4j2.properties" -cp "$JARS/*")

java_run() {
  java "${JAVA_ARGS[@]}" "$@"
}

start() {
  if running; then echo "kafka: already running on $(bootstrap)"; return 0; fi
  command -v java >/dev/null || { echo "kafka: java not found (run deploy/local/install-deps.sh)" >&2; exit 1; }
  fetch_jars
  write_config
  if [ ! -f "$DIR/data/meta.properties" ]; then
    java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
      -c "$DIR/server.properties" >"$DIR/format.log" 2>&1 || { cat "$DIR/format.log" >&2; exit 1; }
  fi
  nohup java "${JAVA_ARGS[@]}" kafka.Kafka "$DIR/server.properties" >"$DIR/stdout.log" 2>&1 &
  echo $! >"$PIDF"
  for _ in $(seq 1 600); do
    if answers; then echo "kafka: running on $(bootstrap) (Kafka $VER, pid $(cat "$PIDF"))"; return 0; fi
    # the pid, not running(): the child may not have become java yet
    kill -0 "$(cat "$PIDF")" 2>/dev/null || { echo "kafka: broker exited" >&2; tail -n 30 "$DIR/stdout.log" "$DIR/broker.log" >&2 || true; exit 1; }
    sleep 0.1
  done
  echo "kafka: broker did not answer within 60 s" >&2
  exit 1
}

stop() {
  if ! running; then echo "kafka: not running"; rm -f "$PIDF"; return 0; fi
  local pid; pid=$(cat "$PIDF")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDF"
  echo "kafka: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  kill) running && kill -9 "$(cat "$PIDF")"; rm -f "$PIDF" ;;
  status) running && echo "kafka: running on $(bootstrap)" || { echo "kafka: stopped"; exit 1; } ;;
  bootstrap) bootstrap ;;
  fetch) fetch_jars ;;
  destroy) stop; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|restart|kill|status|bootstrap|fetch|destroy" >&2; exit 2 ;;
esac
