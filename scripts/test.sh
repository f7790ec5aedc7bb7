#!/usr/bin/env bash
# Runs every test: unit tests, in-process agent tests (Jedis 8.0.2 + 5.0.0, Lettuce 7.7.0 +
# 6.1.10), the packaging test and the smoke tests of the packaged jar on forked apps, all
# against real redis-server processes on loopback, and the shipped dashboard and alert rules against
# Debian's prometheus scraping the agent. Then the smoke tests again with the apps
# on JDK 25 when it is installed, and the overhead benchmark's quick mode (no timed assertions:
# it only has to run, so that it cannot rot).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_tools
ensure_prometheus # PrometheusDashboardIT: the shipped dashboard and alerts against a real Prometheus

mvn -B verify

JDK25=/usr/lib/jvm/temurin-25-jdk-amd64
if [ -x "$JDK25/bin/java" ]; then
  echo "smoke tests again, forked apps on $($JDK25/bin/java -version 2>&1 | head -1)"
  # -am: the smoke tests need their sibling modules from this reactor, not from a local repository
  mvn -B -o verify -pl smoke-tests/tests -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest.java.home="$JDK25"
fi

echo "overhead benchmark, quick smoke mode (figures not comparable; the full run is benchmarks/run.sh)"
bash benchmarks/run.sh --quick --no-build
