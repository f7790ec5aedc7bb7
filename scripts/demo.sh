#!/usr/bin/env bash
# The demo: builds the agent, starts a local redis-server and an embedded OTLP receiver, runs an
# unmodified Jedis + Lettuce app with the agent attached, and prints once a second what the agent
# reports (ops/s, p50/p99, retries, timeouts, reconnects, errors by type) for about 30 seconds.
# DEMO_SECONDS=60 scripts/demo.sh runs it longer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_tools

echo "building the agent (mvn package, tests skipped)..."
mvn -B -q -DskipTests package
java -cp "smoke-tests/harness/target/classes:$(cat smoke-tests/harness/target/classpath.txt)" \
  dev.redisresilience.harness.demo.DemoMain \
  agent/dist/target/redis-resilience-agent.jar smoke-tests/apps "${DEMO_SECONDS:-30}"
