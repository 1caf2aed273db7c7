#!/usr/bin/env bash
# Browser tests of the sp-taskpool dashboard, self-contained: Debian's
# chromium (installed if missing, never downloaded by playwright), npm ci of
# the tests and the dashboard, a private demo stack, the tests, the stack
# down again. Screenshots in build/web-artifacts/; one line per test
# ("web <test> pass fail skip") appended to ${SP_TEST_RESULTS:-build/test-results}.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
# A stack of its own whatever the caller's SP_VAR / ports say (they may name
# the caller's demo stack, which this would wipe); SP_WEB_* move it.
export SP_VAR=${SP_WEB_VAR:-/tmp/webvar} SP_PG_PORT=${SP_WEB_PG_PORT:-25487} SP_KAFKA_PORT=${SP_WEB_KAFKA_PORT:-19287}
export SP_PORT_BASE=${SP_WEB_PORT_BASE:-18690} SP_DEMO_CUSTOMERS=${SP_DEMO_CUSTOMERS:-200} SP_DEMO_WEEKS=${SP_DEMO_WEEKS:-3}
ART=$ROOT/build/web-artifacts
RESULTS=${SP_TEST_RESULTS:-$ROOT/build/test-results}
case "$RESULTS" in /*) ;; *) RESULTS=$ROOT/$RESULTS ;; esac
mkdir -p "$ART" "$(dirname "$RESULTS")"

echo "== browser and fonts"
if ! command -v chromium >/dev/null; then
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
# Chinese text needs a CJK font or the screenshots show boxes
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  apt-get install -y fonts-wqy-zenhei >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y fonts-wqy-zenhei >/dev/null; }
fi
chromium --version 2>/dev/null | grep -v "unexpected operator" || true

echo "== npm ci (tests/web, services/taskpool/web)"
(cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
bash "$ROOT/deploy/local/web-deps.sh"

[ -x build/bin/sp-taskpool ] && [ -x build/bin/spctl ] || make -j2 all

down() { bash "$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true; }
trap down EXIT

echo "== demo stack on private ports (log: $ART/demo.log)"
set +e
bash deploy/local/demo.sh >"$ART/demo.log" 2>&1
demo_rc=$?
set -e
eval "$(bash deploy/local/stack.sh env)"
token_of() { awk -v r="$1" '$1 == r && $NF ~ /^spt_/ { print $2, $NF; exit }' "$ART/demo.log"; }
read -r REP_ID TOKEN_REP < <(token_of rep) || true
read -r SUP_ID TOKEN_SUPERVISOR < <(token_of supervisor) || true
if [ -z "${TOKEN_REP:-}" ] || [ -z "${TOKEN_SUPERVISOR:-}" ]; then
  echo "demo.sh (rc $demo_rc) printed no tokens:"; tail -20 "$ART/demo.log"
  echo "web stack 0 1 0" >>"$RESULTS"
  exit 1
fi
q() { psql "$SP_PG_URL" -Atc "$1"; }
# the rep: one of the supervisor's team with an open deal (so the task routed
# during the test shows on both screens), with a token of their own
SUP_TEAM=$(q "SELECT team_id FROM people WHERE id = '$SUP_ID'")
TEAM_REP=$(q "SELECT d.owner_rep_id FROM deals d JOIN people p ON p.id = d.owner_rep_id
              WHERE p.team_id = '$SUP_TEAM' AND p.role = 'rep' AND p.active AND d.is_open
              ORDER BY d.amount DESC, d.id LIMIT 1")
if [ -n "$TEAM_REP" ] && [ "$TEAM_REP" != "$REP_ID" ]; then
  REP_ID=$TEAM_REP
  TOKEN_REP=$(build/bin/spctl token issue --person "$REP_ID" --label "tests/web" --ttl 1d | grep -o 'spt_[A-Za-z0-9_-]*' | head -1)
fi
read -r REP_TEAM REP_REGION < <(q "SELECT p.team_id, coalesce(p.region_id, t.region_id) FROM people p JOIN teams t ON t.id = p.team_id WHERE p.id = '$REP_ID'" | tr '|' ' ')
read -r REP_DEAL REP_CUSTOMER < <(q "SELECT id, customer_id FROM deals WHERE owner_rep_id = '$REP_ID' AND is_open ORDER BY amount DESC, id LIMIT 1" | tr '|' ' ')
OTHER_TASK_KEY=$(q "SELECT key FROM tasks WHERE team_id <> '$REP_TEAM' ORDER BY key LIMIT 1")
# the signal is dated at the replay's last event: the services run on event
# time, and sp-taskpool's SLA clock has reached about that far (a signal
# dated at the last task's creation, days earlier, escalates at once)
SIGNAL_AT_MS=$(q "SELECT (extract(epoch FROM max(occurred_at)) * 1000)::bigint FROM interactions")
echo "rep $REP_ID ($REP_TEAM/$REP_REGION, deal $REP_DEAL of $REP_CUSTOMER); supervisor $SUP_ID; other team's task $OTHER_TASK_KEY"

echo "== browser tests"
set +e
WEB_URL=http://127.0.0.1:$((SP_PORT_BASE + 5)) TOKEN_REP=$TOKEN_REP TOKEN_SUPERVISOR=$TOKEN_SUPERVISOR \
  REP_ID=$REP_ID REP_TEAM=$REP_TEAM REP_REGION=$REP_REGION REP_DEAL=$REP_DEAL REP_CUSTOMER=$REP_CUSTOMER \
  OTHER_TASK_KEY=$OTHER_TASK_KEY SIGNAL_AT_MS=$SIGNAL_AT_MS KAFKA_BOOTSTRAP=$SP_KAFKA_BOOTSTRAP PG_URL=$SP_PG_URL \
  ARTIFACTS=$ART RESULTS=$RESULTS timeout 600 node "$HERE/dashboard.test.mjs"
rc=$?
set -e
echo "screenshots: $ART"
exit $rc
