#!/usr/bin/env bash
# Target (c) comparison, one command (docs/benchmarks.md): the same scenario
# on the same machine against the gateway (one node, pub/sub through Redis),
# the Socket.IO peer (Redis adapter), the Node `ws` peer and the Rust
# ceiling, then one table: scripts/compare.sh
#
# Per server and step: a fresh server process on a free 127.0.0.1 port,
# `loadtest run` of a generated scenario (one room, STEP viewers, 200
# comments/s from 200 senders at 1/s, 2 high-lane probes/s, JSON; like
# loadtest/scenarios/a-hot-room.toml), then the server is stopped.
#
# Environment:
#   COMPARE_STEPS     viewer counts (default "2000 5000 10000 19000")
#   COMPARE_DURATION  traffic seconds per step (default 20)
#   COMPARE_OUT       output directory (default compare-out); the table is
#                     COMPARE_OUT/comparison.md, each run COMPARE_OUT/SERVER-STEP/
#   COMPARE_SERVERS   subset/order of "gateway socketio ws ceiling" (default all)
#   CARGO_TARGET_DIR  where cargo builds (default target)
# Needs: cargo, node + npm, redis-server, python3, setsid, timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

STEPS=${COMPARE_STEPS:-"2000 5000 10000 19000"}
DURATION=${COMPARE_DURATION:-20}
OUT=${COMPARE_OUT:-compare-out}
SERVERS=${COMPARE_SERVERS:-"gateway socketio ws ceiling"}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
ADMIN_KEY=compare-admin-key
TOKEN_SECRET=compare-token-secret
RAMP_PER_S=1500

die() { echo "compare.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[[ $DURATION =~ ^[0-9]+$ ]] && ((DURATION >= 1 && DURATION <= 3600)) ||
  die "COMPARE_DURATION must be 1..3600 seconds, not '$DURATION'"
for s in $STEPS; do
  [[ $s =~ ^[0-9]+$ ]] && ((s >= 1 && s <= 100000)) || die "COMPARE_STEPS: '$s' is not 1..100000"
done
[ -n "${STEPS// /}" ] || die "COMPARE_STEPS is empty"
for s in $SERVERS; do
  case $s in gateway | socketio | ws | ceiling) ;; *) die "COMPARE_SERVERS: unknown server '$s'" ;; esac
done
for tool in cargo node npm redis-server python3 setsid timeout; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Everything started here runs in its own process group (setsid); on exit,
# however it comes, each group is stopped: TERM, then KILL after 5 s.
GROUPS_STARTED=()
stop_group() {
  local pid=$1
  kill -0 -- "-$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${GROUPS_STARTED[@]}"; do stop_group "$pid"; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start LOG CMD...: runs CMD in a new process group, sets STARTED to its pid.
start() {
  local logf=$1
  shift
  setsid "$@" >"$logf" 2>&1 &
  STARTED=$!
  GROUPS_STARTED+=("$STARTED")
}

# A free loopback port whose successor is free too (the ceiling's admin).
free_port() {
  python3 - <<'EOF'
import socket
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
else:
    raise SystemExit("no free port pair")
EOF
}

# wait_accepting PID PORT LOG NAME: up to 30 s for 127.0.0.1:PORT to accept.
wait_accepting() {
  local pid=$1 port=$2 logf=$3 name=$4
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "$name exited before accepting on :$port (log: $logf)"; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  tail -20 "$logf" >&2
  die "$name does not accept on 127.0.0.1:$port after 30 s (log: $logf)"
}

# 1. Builds.
log "building gateway, loadtest and the ceiling (release)"
timeout 3600 cargo build --release -p gateway --bin gateway -p loadtest --bin loadtest --example ceiling >&2
log "installing the Node peers' packages (benches/peers)"
if [ -f benches/peers/package-lock.json ]; then
  (cd benches/peers && timeout 900 npm ci --no-audit --no-fund --loglevel=error) >&2
else
  (cd benches/peers && timeout 900 npm install --no-audit --no-fund --loglevel=error) >&2
fi

# 2. Our own Redis: loopback, no persistence; an existing one is left alone.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] || [ "$NOFILE" -ge 20000 ] ||
  echo "compare.sh: warning: only $NOFILE open files allowed; large steps will fail" >&2
REDIS_PORT=$(free_port)
mkdir -p "$OUT/redis"
start "$OUT/redis/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
  --appendonly no --dir "$OUT/redis" --protected-mode yes
REDIS_PID=$STARTED
wait_accepting "$REDIS_PID" "$REDIS_PORT" "$OUT/redis/redis.log" redis-server
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
log "redis on $REDIS_URL (pid $REDIS_PID)"

redis_flush() {
  python3 - "$REDIS_PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
assert s.recv(64).startswith(b"+OK"), "FLUSHALL failed"
EOF
}

# 3. The sweeps.
run_step() {
  local server=$1 step=$2 port admin_port wire="" dir="$OUT/$1-$2"
  rm -rf "$dir"
  mkdir -p "$dir"
  port=$(free_port)
  admin_port=$port
  redis_flush
  case $server in
    gateway)
      start "$dir/server.log" env GATEWAY_ADMIN_KEY=$ADMIN_KEY GATEWAY_TOKEN_SECRET=$TOKEN_SECRET \
        RUST_LOG=warn "$BIN/gateway" --listen "127.0.0.1:$port" --redis "$REDIS_URL" ;;
    socketio)
      start "$dir/server.log" node benches/peers/socketio/server.js "$port" --redis "$REDIS_URL"
      wire='wire = "socketio"' ;;
    ws)
      start "$dir/server.log" node benches/peers/ws/server.js "$port" ;;
    ceiling)
      start "$dir/server.log" "$BIN/examples/ceiling" "$port"
      admin_port=$((port + 1)) ;;
  esac
  local pid=$STARTED pids=(--gateway-pid "$STARTED")
  # Where the server uses Redis, its CPU is sampled too (second pid).
  case $server in gateway | socketio) pids+=(--gateway-pid "$REDIS_PID") ;; esac
  wait_accepting "$pid" "$port" "$dir/server.log" "$server"
  wait_accepting "$pid" "$admin_port" "$dir/server.log" "$server admin"
  cat >"$dir/scenario.toml" <<EOF
# Generated by scripts/compare.sh: $server, $step viewers.
name = "compare-$server-$step"
targets = ["ws://127.0.0.1:$port/ws"]
admin_url = "http://127.0.0.1:$admin_port"
admin_key = "$ADMIN_KEY"
$wire
viewers = $step
ramp_per_s = $RAMP_PER_S
duration_s = $DURATION
comment_rate = 200
senders = 200
high_probe_per_s = 2
per_worker = 18000
source_ips = 8

[rooms]
prefix = "cmp-$server-$step"
count = 1
EOF
  # ramp + traffic + drain, and the coordinator's own 60 s worker deadline.
  local limit=$(((step + RAMP_PER_S - 1) / RAMP_PER_S + 2 + DURATION + 120))
  log "$server, $step viewers, ${DURATION} s (server pid $pid, port $port, at most ${limit} s)"
  start "$dir/loadtest.log" timeout "$limit" "$BIN/loadtest" run "$dir/scenario.toml" \
    "${pids[@]}" --out "$dir" --no-progress
  local lt=$STARTED rc=0
  wait "$lt" || rc=$?
  grep -E '^(connections|latency|high lane|throughput|gateway pid|machine)' "$dir/loadtest.log" >&2 || true
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "server exited during the run" >"$dir/status"
  elif [ ! -f "$dir/report.json" ]; then
    echo "loadtest failed (exit $rc, see loadtest.log)" >"$dir/status"
  else
    echo ok >"$dir/status"
  fi
  stop_group "$pid"
  stop_group "$lt"
  sleep 2 # let the sockets of this step go before the next
}

for server in $SERVERS; do
  rm -f "$OUT/$server.skipped"
  if [ "$server" = socketio ] && [ ! -f benches/peers/socketio/server.js ]; then
    msg="benches/peers/socketio/server.js does not exist in this checkout"
    log "skipping socketio: $msg"
    echo "$msg" >"$OUT/socketio.skipped"
    continue
  fi
  for step in $STEPS; do run_step "$server" "$step"; done
done

# 4. The table.
python3 scripts/compare-table.py "$OUT" --servers "$SERVERS" --steps "$STEPS" \
  --duration "$DURATION" >"$OUT/comparison.md"
cat "$OUT/comparison.md"
log "table in $OUT/comparison.md"
