#!/usr/bin/env bash
# Installs every Debian 12 package SalesPulse needs to build, test and run
# locally. Idempotent. As root, or through sudo when not root.
#   --check   exit 0 if everything is present, 1 otherwise (installs nothing)
set -euo pipefail

PKGS=(
  build-essential pkg-config git ca-certificates curl
  libnng-dev libprotobuf-c-dev protobuf-c-compiler libpq-dev librdkafka-dev
  libjansson-dev libpcre2-dev libssl-dev libgmime-3.0-dev libxml2-dev libcmocka-dev
  clang libclang-rt-14-dev clang-format valgrind kcat bc  # libclang-rt: libFuzzer and the sanitizer runtimes (a Recommends, not pulled in)
  postgresql-15 postgresql-client-15
  openjdk-17-jre-headless maven
  docker-compose
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm for the dashboard's pinned packages (charts) and the browser tests'
# driver: Debian's, unless a Node.js with its own npm is already there
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "missing: ${missing[*]}"
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && { echo "install-deps: all ${#PKGS[@]} packages present"; exit 0; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
