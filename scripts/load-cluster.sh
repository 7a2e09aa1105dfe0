#!/usr/bin/env bash
# Runs a loadtest scenario against NODES gateway processes sharing one
# redis-server that this script starts on a free loopback port, then stops
# everything it started. Node i listens on 127.0.0.1:$((BASE_PORT + i)), so
# the scenario's `targets` must list those ports (node 0 first).
#
#   NODES=11 BASE_PORT=18100 GATEWAY_ARGS="--tick-ms 1000" \
#     scripts/load-cluster.sh loadtest/scenarios/b-200k.toml --out /tmp/lt-b
#
# Environment: NODES (default 2), BASE_PORT (18090), GATEWAY_ARGS (extra
# gateway flags), CARGO_TARGET_DIR (where the release binaries are built);
# every other variable reaches the gateways as well (GATEWAY_COMMENT_RATE=0).
# Arguments after the scenario go to `loadtest run` (e.g. --max-p99-ms,
# --set duration_s=10). `loadtest run` and its window hooks see
# LOAD_CLUSTER_REDIS_PORT and LOAD_CLUSTER_REDIS_PID (scripts/redis-cost.sh
# uses them). The soft open-file limit is raised to the hard one.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:?usage: scripts/load-cluster.sh SCENARIO [loadtest run args...]}
shift
nodes=${NODES:-2}
base=${BASE_PORT:-18090}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p gateway -p loadtest --bin gateway --bin loadtest >&2

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
pids=()
redis_port=
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "$redis_port" ]; then redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --maxclients 10000 --daemonize yes --logfile /tmp/load-cluster-redis.log >/dev/null
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis_pid=$(redis-cli -p "$redis_port" info server | tr -d '\r' | sed -n 's/^process_id://p')
export LOAD_CLUSTER_REDIS_PORT=$redis_port LOAD_CLUSTER_REDIS_PID=$redis_pid

# One lottery key for every node, so records verify across them and no node
# writes a generated one to gateway-secrets.env.
lottery_key=${GATEWAY_LOTTERY_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}
gateway_pids=()
for i in $(seq 0 $((nodes - 1))); do
    # shellcheck disable=SC2086
    # Load runs start many rooms (zipf: 100): no platform live limits.
    GATEWAY_ADMIN_KEY=${GATEWAY_ADMIN_KEY:-k} GATEWAY_TOKEN_SECRET=${GATEWAY_TOKEN_SECRET:-s} \
        GATEWAY_LOTTERY_KEY=$lottery_key GATEWAY_MAX_LIVE_ROOMS=${GATEWAY_MAX_LIVE_ROOMS:-0} \
        GATEWAY_MAX_LIVES_PER_DAY=${GATEWAY_MAX_LIVES_PER_DAY:-0} \
        RUST_LOG=${RUST_LOG:-warn} "$target/release/gateway" \
        --listen "127.0.0.1:$((base + i))" --redis "redis://127.0.0.1:$redis_port" \
        --node-id "n$i" ${GATEWAY_ARGS:-} &
    pids+=($!)
    gateway_pids+=(--gateway-pid "$!")
done
for i in $(seq 0 $((nodes - 1))); do
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$((base + i))/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
done
"$target/release/loadtest" run "$scenario" "${gateway_pids[@]}" "$@"
