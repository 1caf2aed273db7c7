#!/usr/bin/env bash
# Deployment checks that need no container engine: the compose file is valid
# (Debian's docker-compose), its secrets are required, and every binary
# answers --help and refuses a missing required key by name.
set -u
cd "$(dirname "$0")/../.."
results=${SP_TEST_RESULTS:-build/test-results}
pass=0 fail=0
check() { # name, command...
  local name=$1; shift
  if "$@" >/tmp/sp-deploy-check.log 2>&1; then pass=$((pass + 1)); echo "ok   deploy/$name";
  else fail=$((fail + 1)); echo "FAIL deploy/$name"; sed 's/^/    /' /tmp/sp-deploy-check.log | head -5; fi
}
compose_valid() { POSTGRES_PASSWORD=x SP_INGEST_API_KEYS=a=b docker-compose -f docker-compose.yml config -q; }
compose_needs_secret() { ! env -u POSTGRES_PASSWORD SP_INGEST_API_KEYS=a=b docker-compose -f docker-compose.yml config -q; }
check compose-valid compose_valid
check compose-requires-secrets compose_needs_secret
for b in sp-ingest sp-enrich sp-score sp-route sp-taskpool; do
  check "$b-help" bash -c "build/bin/$b --help | grep -q SP_KAFKA_BOOTSTRAP"
  check "$b-missing-key" bash -c "env -i PATH=\$PATH build/bin/$b 2>&1 >/dev/null | grep -q 'SP_[A-Z_]* is required'; test \${PIPESTATUS[0]} -ne 0"
done
check spctl-help bash -c "build/bin/spctl --help | grep -q SP_PG_URL"
check spctl-missing-key bash -c "env -i PATH=\$PATH build/bin/spctl migrate 2>&1 | grep -q 'SP_PG_URL is required'"
echo "deploy checks $pass $fail 0" >>"$results"
[ "$fail" -eq 0 ]
