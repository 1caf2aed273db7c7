#!/usr/bin/env bash
# Prints the totals of build/test-results as "N passed, N failed" and exits
# non-zero when anything failed or nothing ran.
set -u
f=${1:-build/test-results}
[ -f "$f" ] || { echo "0 passed, 1 failed"; exit 1; }
awk '{p+=$3; f+=$4; k+=$5; s[$1]+=$3; sf[$1]+=$4}
     END { for (x in s) printf "  %-12s %d passed, %d failed\n", x, s[x], sf[x];
           if (k > 0) printf "%d passed, %d failed, %d skipped\n", p, f, k;
           else printf "%d passed, %d failed\n", p, f;
           exit (f>0 || p==0) }' "$f"
