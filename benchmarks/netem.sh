# The benchmark's production-like regime, sourced by benchmarks/run.sh: redis-server in its own
# network namespace, reached from the root namespace (where the benchmarked JVMs run) over a veth
# pair with `tc netem` delay on both ends, so that the client-server round trip is a few hundred
# microseconds instead of loopback's ~30 µs. Private /30 addresses on the veth pair only, no
# route out of the namespace: the traffic stays on this machine. Needs root (or sudo),
# iproute2 (installed when missing) and a kernel with sch_netem.
#
#   netem_setup DIR   creates it all (cleans leftovers first); on success sets NETEM_REDIS
#                     (host:port) and NETEM_SETUP (a description); otherwise NETEM_UNAVAILABLE
#                     (the precise reason) and leaves nothing behind
#   netem_cleanup     removes it all; idempotent, safe to call when nothing exists

NETEM_NS=rrbench
NETEM_IF_HOST=rrbench0
NETEM_IF_NS=rrbench1
NETEM_ADDR_HOST=10.213.71.1
NETEM_ADDR_NS=10.213.71.2
NETEM_PORT=6390
NETEM_DELAY_US="${NETEM_DELAY_US:-150}" # per direction, on each end of the veth pair
NETEM_REDIS=""
NETEM_SETUP=""
NETEM_UNAVAILABLE=""

netem_cleanup() {
  # only what netem_setup created: the redis-server(s) in our namespace, our veth, our namespace
  if as_root ip netns list 2>/dev/null | grep -qw "$NETEM_NS"; then
    local pids
    pids="$(as_root ip netns pids "$NETEM_NS" 2>/dev/null || true)"
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      as_root kill $pids 2>/dev/null || true
      sleep 0.5
      pids="$(as_root ip netns pids "$NETEM_NS" 2>/dev/null || true)"
      # shellcheck disable=SC2086
      [ -z "$pids" ] || as_root kill -9 $pids 2>/dev/null || true
    fi
  fi
  as_root ip link del "$NETEM_IF_HOST" 2>/dev/null || true # deletes its peer too
  as_root ip netns del "$NETEM_NS" 2>/dev/null || true
}

# $1: a directory for redis-server's log and pid file. $2: "no-delay" builds the namespace
# without netem (a test of the plumbing only; the report says so).
netem_setup() {
  local dir="$1" mode="${2:-}" err
  ensure_iproute2
  netem_cleanup # leftovers of an interrupted run
  if ! err="$(as_root ip netns add "$NETEM_NS" 2>&1)"; then
    NETEM_UNAVAILABLE="\`ip netns add $NETEM_NS\` failed: $err"
    netem_cleanup
    return 0
  fi
  if ! err="$( { as_root ip link add "$NETEM_IF_HOST" type veth peer name "$NETEM_IF_NS" &&
      as_root ip link set "$NETEM_IF_NS" netns "$NETEM_NS" &&
      as_root ip addr add "$NETEM_ADDR_HOST/30" dev "$NETEM_IF_HOST" &&
      as_root ip link set "$NETEM_IF_HOST" up &&
      as_root ip -n "$NETEM_NS" addr add "$NETEM_ADDR_NS/30" dev "$NETEM_IF_NS" &&
      as_root ip -n "$NETEM_NS" link set "$NETEM_IF_NS" up &&
      as_root ip -n "$NETEM_NS" link set lo up; } 2>&1)"; then
    NETEM_UNAVAILABLE="the veth pair between the namespaces could not be set up: $err"
    netem_cleanup
    return 0
  fi
  local delay="netem delay ${NETEM_DELAY_US}us on both ends of the veth pair"
  if [ "$mode" = "no-delay" ]; then
    delay="NO netem delay (--netns-without-netem: a test of the namespace plumbing only, not the production-like regime)"
  else
    if ! err="$(as_root tc qdisc add dev "$NETEM_IF_HOST" root netem delay "${NETEM_DELAY_US}us" 2>&1)"; then
      local config=""
      if [ -r /proc/config.gz ]; then
        config="; /proc/config.gz: $(zcat /proc/config.gz | grep -E 'NET_SCH_NETEM' | head -1)"
      fi
      local modules="/lib/modules/$(uname -r) exists"
      [ -d "/lib/modules/$(uname -r)" ] || modules="no /lib/modules/$(uname -r) (no loadable modules)"
      NETEM_UNAVAILABLE="this machine's kernel has no netem: \`tc qdisc add dev $NETEM_IF_HOST root netem delay ${NETEM_DELAY_US}us\` failed with \"$err\" (kernel $(uname -r)$config; $modules). Network namespaces and veth pairs do work here; without netem (or fq, for an eBPF departure-time delay) there is no kernel-side way to delay the packets, and a user-space delaying proxy would add its own CPU cost on the same cores, so the regime was not faked."
      netem_cleanup
      return 0
    fi
    if ! err="$(as_root ip netns exec "$NETEM_NS" tc qdisc add dev "$NETEM_IF_NS" root netem delay "${NETEM_DELAY_US}us" 2>&1)"; then
      NETEM_UNAVAILABLE="netem on the namespace's end failed: $err"
      netem_cleanup
      return 0
    fi
  fi
  if ! err="$(as_root ip netns exec "$NETEM_NS" "$(command -v redis-server)" \
      --bind "$NETEM_ADDR_NS" --port "$NETEM_PORT" --save '' --appendonly no \
      --protected-mode no --daemonize yes --pidfile "$dir/netem-redis.pid" \
      --logfile "$dir/netem-redis.log" 2>&1)"; then
    NETEM_UNAVAILABLE="redis-server did not start in the namespace: $err"
    netem_cleanup
    return 0
  fi
  local i
  for i in $(seq 1 50); do
    if [ "$(redis-cli -h "$NETEM_ADDR_NS" -p "$NETEM_PORT" ping 2>/dev/null)" = "PONG" ]; then
      NETEM_REDIS="$NETEM_ADDR_NS:$NETEM_PORT"
      NETEM_SETUP="redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') in network namespace \`$NETEM_NS\` at $NETEM_ADDR_NS:$NETEM_PORT, veth pair $NETEM_IF_HOST ($NETEM_ADDR_HOST/30, root namespace) - $NETEM_IF_NS, $delay"
      echo "netem regime: $NETEM_SETUP"
      return 0
    fi
    sleep 0.1
  done
  NETEM_UNAVAILABLE="redis-server in the namespace did not answer PING at $NETEM_ADDR_NS:$NETEM_PORT: $(tail -5 "$dir/netem-redis.log" 2>/dev/null)"
  netem_cleanup
}
