#!/usr/bin/env bash
# make demo: the local stack up, the demo data through the pipeline, a summary.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
bash "$HERE/stack.sh" up
eval "$(bash "$HERE/stack.sh" env)"
echo
echo "SalesPulse demo"
echo "  PostgreSQL: $SP_PG_URL"
echo "  Kafka:      $SP_KAFKA_BOOTSTRAP"
kcat -b "$SP_KAFKA_BOOTSTRAP" -L 2>/dev/null | grep -c 'topic "sp\.' | xargs -I{} echo "  topics:     {} SalesPulse topics"
echo "  stop with:  make down"
