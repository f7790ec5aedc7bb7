#!/usr/bin/env bash
# Runs every test: unit tests, in-process agent tests on the oldest and newest client version of
# each client (with --full-matrix every version of the matrix: the newest patch of Jedis 4, 5, 6,
# 7, 8 and of Lettuce 6.1, 6.x, 7.x), the packaging
# test and the smoke tests of the packaged jar on forked apps, all against real redis-server
# processes on loopback, and the shipped dashboard and alert rules against Debian's prometheus
# scraping the agent. Then, when Temurin 25 is installed, the smoke tests with the apps on it and
# the agent tests on it for the oldest and newest version of each client (every version with
# --full-matrix), and the overhead benchmark's quick mode (no timed assertions: it only has to
# run, so that it cannot rot). Writes target/support-matrix.md: what the agent tests ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_tools
ensure_prometheus # PrometheusDashboardIT: the shipped dashboard and alerts against a real Prometheus

# CI (.ci/run) runs oldest and newest of each client on both JDKs, to stay well under 30 minutes
# on 2 cores; --full-matrix adds the middle versions on both (about 3.5 more minutes per JDK)
MATRIX=()
if [ "${1:-}" = "--full-matrix" ]; then
  MATRIX=(-Pfull-matrix)
fi

# the surefire reports of each JDK's agent tests, kept apart for scripts/SupportMatrix.java
rm -rf target/matrix-reports
keep_reports() {
  for m in instrumentation-jedis instrumentation-lettuce; do
    mkdir -p "target/matrix-reports/$1/$m"
    cp "$m"/target/surefire-reports/TEST-*.xml "target/matrix-reports/$1/$m/"
  done
}

rm -rf instrumentation-jedis/target/surefire-reports instrumentation-lettuce/target/surefire-reports
# -Dsentinel.failover=true: the SENTINEL FAILOVER-under-load tests too (each on a quorum of its
# own; about 15-25 s each), on JDK 17 only
mvn -B verify "${MATRIX[@]}" -Dsentinel.failover=true
keep_reports jdk17

JDK25=/usr/lib/jvm/temurin-25-jdk-amd64
if [ -x "$JDK25/bin/java" ]; then
  echo "smoke tests again, forked apps on $($JDK25/bin/java -version 2>&1 | head -1)"
  # -am: the smoke tests need their sibling modules from this reactor, not from a local repository
  # the collector-down memory test for 40 s instead of 90 there (its full 90 s runs on JDK 17)
  mvn -B -o verify -pl smoke-tests/tests -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest.java.home="$JDK25" -Dcollector.down.seconds=40
  echo "agent tests again, on $($JDK25/bin/java -version 2>&1 | head -1)"
  rm -rf instrumentation-jedis/target/surefire-reports instrumentation-lettuce/target/surefire-reports
  mvn -B -o test -pl instrumentation-jedis,instrumentation-lettuce -am "${MATRIX[@]}" \
    -Dtest='dev.redisresilience.agent.instrumentation.**' -Dsurefire.failIfNoSpecifiedTests=false \
    -Djvm="$JDK25/bin/java"
  keep_reports jdk25
fi

java scripts/SupportMatrix.java target/support-matrix.md target/matrix-reports

echo "overhead benchmark, quick smoke mode (figures not comparable; the full run is benchmarks/run.sh)"
bash benchmarks/run.sh --quick --no-build
