#!/usr/bin/env bash
# Integration tests against a real PostgreSQL and a real Kafka broker that
# this script starts (in build/itest-var, on their own ports so a running
# `make up` stack is not disturbed) and stops again, whatever happens.
# Usage: tests/integration/run.sh BIN...
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export SP_VAR=$ROOT/build/itest-var
export SP_PG_PORT=${SP_ITEST_PG_PORT:-25433}
export SP_KAFKA_PORT=${SP_ITEST_KAFKA_PORT:-19192}
export SP_ROOT=$ROOT
results=${SP_TEST_RESULTS:-build/test-results}

cleanup() {
  bash deploy/local/stack.sh services-stop >/dev/null 2>&1 || true
  bash deploy/local/kafka.sh stop >/dev/null 2>&1 || true
  bash deploy/local/pg.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# a fresh broker and cluster each run: tests own their topics and schema
bash deploy/local/pg.sh destroy >/dev/null 2>&1 || true
rm -rf "$SP_VAR/kafka"
if ! bash deploy/local/pg.sh start || ! bash deploy/local/kafka.sh start; then
  echo "integration: could not start PostgreSQL/Kafka"
  echo "integration stack 0 1" >>"$results"
  exit 1
fi
eval "$(bash deploy/local/stack.sh env)"
psql "$SP_PG_URL" -qc "drop schema public cascade; create schema public;" >/dev/null
export SP_PG_URL SP_KAFKA_BOOTSTRAP
echo "integration: PostgreSQL $SP_PG_URL, Kafka $SP_KAFKA_BOOTSTRAP (Kafka $(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' deploy/local/kafka/pom.xml))"
build/bin/spctl migrate >/dev/null && build/bin/spctl topics create >/dev/null || {
  echo "integration: migrate/topics failed"; echo "integration setup 0 1" >>"$results"; exit 1; }
bash tests/run.sh integration "$@"
rc=$?
# The pipeline's consumer/producer paths and the pipelined database reads
# again under valgrind (memcheck, definite leaks are errors).
vg=()
for b in "$@"; do case "$b" in *itest_bus|*itest_atleastonce|*itest_db) vg+=("$b") ;; esac; done
if [ ${#vg[@]} -gt 0 ] && command -v valgrind >/dev/null; then
  SP_TEST_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9" \
    bash tests/run.sh valgrind "${vg[@]}" || rc=1
fi
exit $rc
