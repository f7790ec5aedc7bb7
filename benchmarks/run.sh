#!/usr/bin/env bash
# The overhead benchmark: no agent vs redis-resilience-agent vs the OpenTelemetry Java agent, on
# Jedis and Lettuce workloads, start-up, allocation, peak RSS and jar size.
#
#   benchmarks/run.sh            full run (~20 min on a 2-core VM), writes benchmarks/results/latest.md
#   benchmarks/run.sh --quick    smoke run (~2 min), writes benchmarks/target/quick.md (not comparable)
#
# Other options are passed to the driver: --rounds N, --netem-rounds N, --warmup-seconds S,
# --measure-seconds S, --pipeline-commands N, --warmup-pipelines N, --startup-runs N, --out FILE.
# --no-build skips the Maven build (when `mvn package` has just run, e.g. in CI after `mvn verify`).
# --no-netem skips the production-like regime (redis-server in a network namespace behind
# `tc netem`, see benchmarks/netem.sh; needs root or sudo); where the kernel has no netem the
# regime is skipped and the report says why. --netns-without-netem runs the namespace without
# any delay (tests the plumbing only; the report says so).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

QUICK=0
BUILD=1
NETEM=1
NETEM_MODE=""
ARGS=()
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1; ARGS+=("$a") ;;
    --no-build) BUILD=0 ;;
    --no-netem) NETEM=0 ;;
    --netns-without-netem) NETEM_MODE=no-delay ;;
    *) ARGS+=("$a") ;;
  esac
done

source scripts/lib.sh # installs redis-server, Maven and a JDK when missing
source benchmarks/netem.sh
ensure_tools

if [ "$BUILD" -eq 1 ]; then
  echo "building the agent and the benchmark (mvn package, tests skipped)..."
  mvn -B -q -DskipTests -pl benchmarks -am package
fi

B="$ROOT/benchmarks"
if [ "$QUICK" -eq 1 ]; then OUT="$B/target/quick.md"; else OUT="$B/results/latest.md"; fi
# A private snapshot of what the run uses (both agents, classes, class paths): a rebuild or
# `mvn clean` of the working tree while the benchmark runs must not change or remove them.
SNAP="$(mktemp -d "${TMPDIR:-/tmp}/redis-benchmark.XXXXXX")"
cleanup() {
  if [ "$NETEM" -eq 1 ]; then netem_cleanup; fi
  rm -rf "$SNAP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$ROOT/agent/dist/target/redis-resilience-agent.jar" "$SNAP/redis-resilience-agent.jar"
cp "$B/target/otel/opentelemetry-javaagent.jar" "$SNAP/opentelemetry-javaagent.jar"
cp -r "$B/target/classes" "$SNAP/classes"
cp "$B/target/classpath.txt" "$SNAP/"
mkdir -p "$SNAP/lib"
DRIVER_CP="$SNAP/classes"
IFS=: read -ra entries < "$B/target/driver-classpath.txt" || true # no trailing newline
for e in "${entries[@]}"; do
  case "$e" in
    "$ROOT"/*) cp -r "$e" "$SNAP/lib/"; e="$SNAP/lib/$(basename "$e")" ;; # the harness
  esac
  DRIVER_CP="$DRIVER_CP:$e"
done

# which agent was measured: the commit, and whether the agent's sources had uncommitted changes
AGENT_BUILD="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'unknown commit')"
if git -C "$ROOT" status --porcelain -- agent instrumentation-jedis instrumentation-lettuce pom.xml \
    2>/dev/null | grep -q .; then
  AGENT_BUILD="$AGENT_BUILD + uncommitted changes"
fi

NETEM_ARGS=()
if [ "$NETEM" -eq 1 ]; then
  netem_setup "$SNAP" "$NETEM_MODE"
  if [ -n "$NETEM_REDIS" ]; then
    NETEM_ARGS=(--netem-redis "$NETEM_REDIS" --netem-setup "$NETEM_SETUP")
  else
    echo "production-like regime NOT available: $NETEM_UNAVAILABLE" >&2
    NETEM_ARGS=(--netem-unavailable "$NETEM_UNAVAILABLE")
  fi
fi

rm -rf "$B/target/forked"
mkdir -p "$B/target"
cd "$B" # forked JVMs' stdout/stderr go to benchmarks/target/forked
java -cp "$DRIVER_CP" \
  dev.redisresilience.benchmarks.BenchmarkDriver \
  --agent-jar "$SNAP/redis-resilience-agent.jar" \
  --otel-jar "$SNAP/opentelemetry-javaagent.jar" \
  --classes "$SNAP/classes" \
  --app-classpath-file "$SNAP/classpath.txt" \
  --out "$OUT" \
  --agent-build "$AGENT_BUILD" \
  ${NETEM_ARGS[@]+"${NETEM_ARGS[@]}"} \
  ${ARGS[@]+"${ARGS[@]}"}
