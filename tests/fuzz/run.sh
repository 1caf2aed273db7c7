#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer binary and runs each for
# SECONDS (default 20). Usage: tests/fuzz/run.sh [SECONDS [--record FILE]]
#
# Every common/*.c, every non-main services/*/*.c and the protobuf-c code
# (generated here with protoc-c) is compiled once with clang and the
# sanitizers into build/fuzz/libspfuzz.a; each fuzz_*.c links against that
# archive, so a new target needs no change here. Seeds: tests/fuzz/corpus/<target>/
# (optional) are copied into build/fuzz/corpus/<target>/, which keeps what
# the runs find. A crash leaves its input as build/fuzz/crash-<target>-*.
# Exit status: 0 when no target crashed, 1 otherwise.
set -u
secs=${1:-20}
# --record FILE: append "fuzz <target> 1 0" / "fuzz <target> 0 1" lines for
# the test summary (make test)
record=""
[ "${2:-}" = "--record" ] && record=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/fuzz
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found" >&2; exit 2; }
PKGS="libprotobuf-c libpq rdkafka jansson libpcre2-8 libcrypto gmime-3.0 libxml-2.0"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $SAN -fsanitize=fuzzer-no-link \
  -I. -Icommon -Iservices -I$out/gen $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lnng -lpthread -lm"
mkdir -p "$out/gen" "$out/obj" "$out/bin" "$out/corpus"

# protobuf-c sources, regenerated when a .proto changes
stamp=$out/gen/.stamp
if [ ! -f "$stamp" ] || [ -n "$(find proto -name '*.proto' -newer "$stamp")" ]; then
  protoc-c --proto_path=proto --c_out="$out/gen" proto/salespulse/v1/*.proto || exit 2
  touch "$stamp"
fi

# library sources: common, services without main.c, generated protobuf
srcs=$(ls common/*.c 2>/dev/null; ls services/*/*.c 2>/dev/null | grep -v '/main\.c$'; find "$out/gen" -name '*.pb-c.c')
# an object is stale when its source, or any header/proto in the tree, is newer
newest_hdr=$(find common services proto "$out/gen" \( -name '*.h' -o -name '*.proto' \) -printf '%T@ %p\n' |
  sort -n | tail -1 | cut -d' ' -f2-)
objs=()
todo=()
for s in $srcs; do
  o=$out/obj/$(echo "$s" | tr '/' '_' | sed 's/\.c$/.o/')
  objs+=("$o")
  if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$newest_hdr" -nt "$o" ]; then
    todo+=("$s $o")
  fi
done
if [ ${#todo[@]} -gt 0 ]; then
  echo "fuzz: compiling ${#todo[@]} sources"
  printf '%s\n' "${todo[@]}" | xargs -P 2 -L 1 sh -c "$CC $CFLAGS -w -c \"\$0\" -o \"\$1\" || exit 255" || exit 2
fi
rm -f "$out/libspfuzz.a"
ar rcs "$out/libspfuzz.a" "${objs[@]}" || exit 2

status=0
for f in tests/fuzz/fuzz_*.c; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .c)
  bin=$out/bin/$name
  if ! $CC $CFLAGS -fsanitize=fuzzer "$f" "$out/libspfuzz.a" $LIBS -o "$bin"; then
    echo "FAIL $name (build)"; status=1
    [ -n "$record" ] && echo "fuzz $name 0 1 0" >>"$record"
    continue
  fi
  corpus=$out/corpus/$name
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
  log=$out/$name.log
  # leaks are checked too; tests/lsan.supp lists known one-time library allocations
  supp=""
  [ -f tests/lsan.supp ] && supp="suppressions=$root/tests/lsan.supp"
  LSAN_OPTIONS="$supp" UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$out/crash-$name-" "$corpus" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    echo "FAIL $name (exit $rc) — log: $log"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -5 | sed 's/^/    /'
    status=1
    [ -n "$record" ] && echo "fuzz $name 0 1 0" >>"$record"
  else
    echo "ok   $name (${runs:-?}, ${secs}s)"
    [ -n "$record" ] && echo "fuzz $name 1 0 0" >>"$record"
  fi
done
exit $status
