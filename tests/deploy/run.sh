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
# sp-route checks the playbook ids its rules name against SP_PLAYBOOKS at start
pb_only_card=$(mktemp)
cat >"$pb_only_card" <<'JSON'
{"version":1,"playbooks":[{"id":"advancement_card","kind":"advancement_card","title_zh":"客户推进卡",
 "title_en":"Customer advancement card","sections":[{"id":"q","title_zh":"问","title_en":"Q",
 "items":[{"zh":"下一步？","en":"Next step?"}]}]}]}
JSON
route_env="env -i PATH=$PATH SP_TENANT_DIR=deploy/tenants/default SP_KAFKA_BOOTSTRAP=127.0.0.1:1 SP_PG_URL=postgresql://x@127.0.0.1:1/x"
check route-unknown-playbook bash -c "$route_env SP_PLAYBOOKS=$pb_only_card timeout 5 build/bin/sp-route 2>&1 >/dev/null | grep -q 'SP_PLAYBOOKS: rules\[[0-9]*\] ([a-z_]*): key \"playbooks\": \"[a-z_]*\" is not a known playbook'; test \${PIPESTATUS[0]} -eq 2"
check route-demo-playbooks bash -c "! $route_env SP_PLAYBOOKS=deploy/tenants/demo/playbooks.json timeout 2 build/bin/sp-route 2>&1 | grep -q 'configuration error'"
# configuration refused at start, naming the key (not a failure per request later)
hex=$(printf '%064d' 0)
ing_env="env -i PATH=$PATH SP_KAFKA_BOOTSTRAP=127.0.0.1:1 SP_HTTP_ADDR=http://127.0.0.1:0"
refused() { # expected message, env assignments...
  local want=$1; shift
  out=$($ing_env "$@" timeout 5 build/bin/sp-ingest 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq 2 ] && grep -qF "$want" <<<"$out"
}
check ingest-bad-webhook-secret refused "SP_INGEST_WEBHOOK_SECRETS: secret 2 is not whsec_<base64>" \
  SP_INGEST_API_KEYS=a=$hex SP_INGEST_WEBHOOK_SECRETS=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whsec_***
check ingest-nonhex-key-hash refused "SP_INGEST_API_KEYS: item 0 is not source=sha256hex" \
  SP_INGEST_API_KEYS=a=$(printf '%064d' 0 | tr 0 z)
check ingest-duration-range refused 'SP_PUBLISH_TIMEOUT: "0" out of range' \
  SP_INGEST_API_KEYS=a=$hex SP_PUBLISH_TIMEOUT=0
check ingest-named-rules-missing refused "SP_TRACKING_RULES:" \
  SP_INGEST_API_KEYS=a=$hex SP_TRACKING_RULES=/nonexistent/tracking.json
check taskpool-named-playbooks-missing bash -c "env -i PATH=\$PATH SP_KAFKA_BOOTSTRAP=127.0.0.1:1 SP_PG_URL=postgresql://x@127.0.0.1:1/x SP_PLAYBOOKS=/nonexistent.json timeout 5 build/bin/sp-taskpool 2>&1 >/dev/null | grep -q 'SP_PLAYBOOKS: '; test \${PIPESTATUS[0]} -eq 2"
check taskpool-named-catalog-missing bash -c "env -i PATH=\$PATH SP_KAFKA_BOOTSTRAP=127.0.0.1:1 SP_PG_URL=postgresql://x@127.0.0.1:1/x SP_CATALOG=/nonexistent.json timeout 5 build/bin/sp-taskpool 2>&1 >/dev/null | grep -q 'SP_CATALOG: '; test \${PIPESTATUS[0]} -eq 2"
check spctl-help bash -c "build/bin/spctl --help | grep -q SP_PG_URL"
check spctl-missing-key bash -c "env -i PATH=\$PATH build/bin/spctl migrate 2>&1 | grep -q 'SP_PG_URL is required'"
rm -f "$pb_only_card"
echo "deploy checks $pass $fail 0" >>"$results"
[ "$fail" -eq 0 ]
