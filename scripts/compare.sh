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
# Two modes (COMPARE_MODE):
#   steps   (default) every viewer count of COMPARE_STEPS, for each server;
#   bisect  for each server, the largest viewer count whose p99 stays under
#           COMPARE_P99_MS with every viewer joined, by binary search: probe
#           COMPARE_BISECT_LOW (fails: "none") and COMPARE_BISECT_HIGH
#           (passes: the answer is "at least HIGH"), then halve the interval
#           between the largest passing and the smallest failing count,
#           probing on a grid of COMPARE_BISECT_RES viewers above LOW, until
#           they are one grid step apart (2 + log2((HIGH-LOW)/RES) probes).
#           Each probe is one step as above (fresh server, bounded run, under
#           `timeout`). It assumes p99 grows with viewers; a probe near the
#           bound can go either way, so treat the answer as ± RES.
#           COMPARE_BISECT_LOW=500 COMPARE_BISECT_HIGH=3000 COMPARE_DURATION=5 \
#             COMPARE_SERVERS=gateway COMPARE_MODE=bisect scripts/compare.sh
#
# Environment:
#   COMPARE_MODE      steps (default) or bisect
#   COMPARE_STEPS     viewer counts (default "2000 5000 10000 19000"; steps mode)
#   COMPARE_P99_MS    p99 bound of a qualifying step in ms (default 250)
#   COMPARE_BISECT_LOW, COMPARE_BISECT_HIGH, COMPARE_BISECT_RES
#                     bisect mode: search range and resolution in viewers
#                     (default 2000, 20000, 500)
#   COMPARE_DURATION  traffic seconds per step (default 20)
#   COMPARE_OUT       output directory (default compare-out); the table is
#                     COMPARE_OUT/comparison.md, each run COMPARE_OUT/SERVER-STEP/,
#                     each bisection COMPARE_OUT/SERVER.bisect.json
#   COMPARE_SERVERS   subset/order of "gateway socketio ws ceiling" (default all)
#   CARGO_TARGET_DIR  where cargo builds (default target)
# Needs: cargo, redis-server, python3, setsid, timeout; node + npm for the
# socketio and ws servers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=${COMPARE_MODE:-steps}
STEPS=${COMPARE_STEPS:-"2000 5000 10000 19000"}
P99_MS=${COMPARE_P99_MS:-250}
LOW=${COMPARE_BISECT_LOW:-2000}
HIGH=${COMPARE_BISECT_HIGH:-20000}
RES=${COMPARE_BISECT_RES:-500}
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
case $MODE in
  steps) ;;
  bisect)
    for v in "$LOW" "$HIGH" "$RES"; do
      [[ $v =~ ^[0-9]+$ ]] && ((v >= 1 && v <= 100000)) || die "COMPARE_BISECT_*: '$v' is not 1..100000"
    done
    ((LOW < HIGH)) || die "COMPARE_BISECT_LOW ($LOW) must be below COMPARE_BISECT_HIGH ($HIGH)"
    ;;
  *) die "COMPARE_MODE must be steps or bisect, not '$MODE'" ;;
esac
[[ $P99_MS =~ ^[0-9]+([.][0-9]+)?$ ]] || die "COMPARE_P99_MS must be a number of ms, not '$P99_MS'"
for s in $SERVERS; do
  case $s in gateway | socketio | ws | ceiling) ;; *) die "COMPARE_SERVERS: unknown server '$s'" ;; esac
done
NEEDS_NODE=no
case " $SERVERS " in *" socketio "* | *" ws "*) NEEDS_NODE=yes ;; esac
tools="cargo redis-server python3 setsid timeout"
[ "$NEEDS_NODE" = yes ] && tools="$tools node npm"
for tool in $tools; do
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
build=(-p gateway --bin gateway -p loadtest --bin loadtest)
case " $SERVERS " in *" ceiling "*) build+=(--example ceiling) ;; esac
log "building ${build[*]} (release)"
timeout 3600 cargo build --release "${build[@]}" >&2
if [ "$NEEDS_NODE" = yes ]; then
  log "installing the Node peers' packages (benches/peers)"
  if [ -f benches/peers/package-lock.json ]; then
    (cd benches/peers && timeout 900 npm ci --no-audit --no-fund --loglevel=error) >&2
  else
    (cd benches/peers && timeout 900 npm install --no-audit --no-fund --loglevel=error) >&2
  fi
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
        GATEWAY_MAX_LIVES_PER_DAY=0 RUST_LOG=warn "$BIN/gateway" --listen "127.0.0.1:$port" --redis "$REDIS_URL" ;;
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

# probe SERVER STEP: one step, then whether it qualifies (p99 <= P99_MS,
# every viewer joined, the run ok); the verdict is compare-table.py's.
PROBES=()
probe() {
  local rc=0
  run_step "$1" "$2"
  python3 scripts/compare-table.py "$OUT" --verdict "$1-$2" --p99-ms "$P99_MS" >&2 || rc=$?
  if ((rc == 0)); then PROBES+=("$2:true"); else PROBES+=("$2:false"); fi
  return "$rc"
}

# bisect SERVER: the largest passing viewer count in LOW..HIGH, to RES.
bisect() {
  local server=$1 lo=$LOW hi=$HIGH pass=null fail=null n mid
  PROBES=()
  log "$server: bisecting $LOW..$HIGH viewers to $RES for p99 <= $P99_MS ms"
  if ! probe "$server" "$lo"; then
    fail=$lo
  elif probe "$server" "$hi"; then
    pass=$hi
  else
    # Invariant: lo passes, hi fails; probe the grid lo + k*RES between them.
    while ((hi - lo > RES)); do
      n=$(((hi - lo + RES - 1) / RES))
      mid=$((lo + (n / 2) * RES))
      if probe "$server" "$mid"; then lo=$mid; else hi=$mid; fi
    done
    pass=$lo
    fail=$hi
  fi
  local probes="" p
  for p in "${PROBES[@]}"; do probes+="${probes:+, }{\"viewers\": ${p%%:*}, \"pass\": ${p#*:}}"; done
  printf '{"server": "%s", "low": %d, "high": %d, "resolution": %d, "p99_ms": %s, "duration_s": %d, "largest_passing": %s, "smallest_failing": %s, "probes": [%s]}\n' \
    "$server" "$LOW" "$HIGH" "$RES" "$P99_MS" "$DURATION" "$pass" "$fail" "$probes" >"$OUT/$server.bisect.json"
  log "$server: largest passing ${pass/null/none}, smallest failing ${fail/null/-} (probes: ${PROBES[*]})"
}

for server in $SERVERS; do
  rm -f "$OUT/$server.skipped" "$OUT/$server.bisect.json"
  if [ "$server" = socketio ] && [ ! -f benches/peers/socketio/server.js ]; then
    msg="benches/peers/socketio/server.js does not exist in this checkout"
    log "skipping socketio: $msg"
    echo "$msg" >"$OUT/socketio.skipped"
    continue
  fi
  if [ "$MODE" = bisect ]; then
    bisect "$server"
  else
    for step in $STEPS; do run_step "$server" "$step"; done
  fi
done

# 4. The table.
table_args=(--steps "$STEPS")
[ "$MODE" = bisect ] && table_args=(--bisect)
python3 scripts/compare-table.py "$OUT" --servers "$SERVERS" "${table_args[@]}" \
  --duration "$DURATION" --p99-ms "$P99_MS" >"$OUT/comparison.md"
cat "$OUT/comparison.md"
log "table in $OUT/comparison.md"
