#!/usr/bin/env bash
# Runs cmocka test binaries with TAP output and appends one line per binary to
# build/test-results: "<suite> <binary> <passed> <failed> <skipped>". A binary that
# crashes or exits non-zero without reporting a failure counts one failure.
# Usage: tests/run.sh SUITE BIN...
set -u
suite=$1; shift
results=${SP_TEST_RESULTS:-build/test-results}
mkdir -p "$(dirname "$results")" build/test-logs
rc_all=0
for bin in "$@"; do
  name=$(basename "$bin")
  log=build/test-logs/$suite-$name.log
  CMOCKA_MESSAGE_OUTPUT=TAP ${SP_TEST_WRAPPER:-} "$bin" >"$log" 2>&1
  rc=$?
  pass=$(grep -cE '^ok [0-9]+' "$log" || true)
  skip=$(grep -cE '^not ok [0-9]+.*# SKIP' "$log" || true)
  fail=$(( $(grep -cE '^not ok [0-9]+' "$log" || true) - skip ))
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  if [ "$fail" -gt 0 ]; then
    rc_all=1
    echo "FAIL $suite/$name ($pass passed, $fail failed; exit $rc) — log: $log"
    grep -E '^not ok|ERROR|error:|runtime error|Sanitizer' "$log" | head -20 | sed 's/^/    /'
  else
    if [ "$skip" -gt 0 ]; then echo "ok   $suite/$name ($pass passed, $skip skipped)"; else echo "ok   $suite/$name ($pass passed)"; fi
  fi
  echo "$suite $name $pass $fail $skip" >>"$results"
done
exit $rc_all
