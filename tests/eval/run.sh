#!/usr/bin/env bash
# Extraction quality on the labelled examples (make eval): runs
# `sp-enrich extract` over tests/data/extraction/dev.jsonl and scores it with
# tests/eval/score.c (per-field P/R/F1, macro-F1). EVAL_VERBOSE=1 lists misses.
# Usage: tests/eval/run.sh [BUILD_DIR] [GOLD.jsonl]
set -euo pipefail
build=${1:-${BUILD:-build}}
gold=${2:-tests/data/extraction/dev.jsonl}
mkdir -p "$build/eval"
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$build/eval/score" tests/eval/score.c $(pkg-config --cflags --libs jansson)
jq -c '{id, channel, occurred_at, text}' "$gold" >"$build/eval/in.jsonl" 2>/dev/null ||
  cp "$gold" "$build/eval/in.jsonl"   # the CLI ignores extra keys anyway
"$build/bin/sp-enrich" extract --catalog deploy/tenants/demo/catalog.json \
  --lexicon deploy/tenants/default/lexicon <"$build/eval/in.jsonl" >"$build/eval/out.jsonl"
if [ "${EVAL_VERBOSE:-0}" = 1 ]; then v=-v; else v=; fi
"$build/eval/score" "$gold" "$build/eval/out.jsonl" $v
