#!/usr/bin/env bash
# Installs the dashboard's pinned npm dependencies (echarts, served by
# sp-taskpool at /vendor/) into services/taskpool/web/node_modules.
# Without them the dashboard works but shows no charts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WEB=${SP_WEB_DIR:-$HERE/../../services/taskpool/web}
command -v npm >/dev/null || { echo "web-deps: npm not found (apt-get install -y npm)" >&2; exit 1; }
cd "$WEB"
npm ci --no-audit --no-fund --loglevel=error
test -f node_modules/echarts/dist/echarts.min.js
echo "web-deps: echarts $(node -p 'require("./node_modules/echarts/package.json").version') in $WEB/node_modules"
