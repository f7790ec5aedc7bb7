#!/usr/bin/env bash
# The demo: builds the agent, starts a local redis-server and an embedded OTLP receiver, runs an
# unmodified Jedis + Lettuce app with the agent attached, and prints once a second what the agent
# reports (ops/s, p50/p99, retries, timeouts, reconnects, errors by type) for about 30 seconds.
# DEMO_SECONDS=60 scripts/demo.sh runs it longer.
#
# scripts/demo.sh --picture regenerates the README's dashboard picture instead
# (dashboards/screenshot.png): the same app and faults with Prometheus scraping the agent, every
# panel query of the shipped dashboard evaluated over the run, drawn by a static page with
# Chart.js (installed with npm into dashboards/screenshot/node_modules, not committed) and
# captured with headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_tools

picture=false
if [ "${1:-}" = "--picture" ]; then
  picture=true
  ensure_picture_tools
fi

echo "building the agent (mvn package, tests skipped)..."
mvn -B -q -DskipTests package
harness_cp="smoke-tests/harness/target/classes:$(cat smoke-tests/harness/target/classpath.txt)"

if ! $picture; then
  java -cp "$harness_cp" dev.redisresilience.harness.demo.DemoMain \
    agent/dist/target/redis-resilience-agent.jar smoke-tests/apps "${DEMO_SECONDS:-30}"
  exit 0
fi

page=dashboards/screenshot
java -cp "$harness_cp" dev.redisresilience.harness.demo.DashboardSnapshot \
  agent/dist/target/redis-resilience-agent.jar smoke-tests/apps dashboards "$page/data.js" \
  "${DEMO_SECONDS:-30}"
(cd "$page" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1500,2330 \
  --screenshot="$PWD/dashboards/screenshot.png" "file://$PWD/$page/index.html" 2>/dev/null
echo "wrote dashboards/screenshot.png"
