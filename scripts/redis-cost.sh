#!/usr/bin/env bash
# What a scenario costs Redis: runs it with scripts/load-cluster.sh against
# NODES gateways (default 4) sharing one fresh redis-server, resets Redis's
# statistics (CONFIG RESETSTAT) when the traffic phase begins, reads
# INFO commandstats and the redis-server's CPU time when the
# drain after it ends, and prints
#
#   - total Redis commands over the window: the sum of calls= in
#     INFO commandstats, which counts the commands run inside Lua scripts
#     too (an EVALSHA and every redis.call it makes);
#   - the per-command breakdown (calls, µs per call, share);
#   - commands per accepted (acked) comment and per acked like tap, with
#     the counts from the loadtest report (in a scenario with both, each
#     figure divides the same total: run the likes-only scenario for likes);
#   - the redis-server's CPU, % of one core over the window, from
#     /proc/<pid>/stat: (utime + stime) delta / CLK_TCK / wall seconds.
#
# It writes them to OUT/redis-cost.txt and OUT/redis-cost.json next to the
# loadtest's report (OUT/commandstats.txt, OUT/redis-stats.txt and
# OUT/redis-window.txt hold the raw readings).
#
#   scripts/redis-cost.sh loadtest/scenarios/hot-a-1k.toml --out /tmp/rc-a
#   scripts/redis-cost.sh loadtest/scenarios/hot-a-1k.toml --set duration_s=10 --out /tmp/rc-a10
#   GATEWAY_COMMENT_RATE=0 scripts/redis-cost.sh loadtest/scenarios/hot-b-10k.toml \
#     --require-all-acked --max-loss 0 --out /tmp/rc-b
#   scripts/redis-cost.sh loadtest/scenarios/hot-c-likes.toml --out /tmp/rc-c
#
# Environment: NODES (default 4), BASE_PORT (18090: node i on BASE_PORT + i,
# as the hot-*.toml targets expect), GATEWAY_ARGS, CARGO_TARGET_DIR and any
# GATEWAY_* variable, all as scripts/load-cluster.sh takes them;
# REDIS_COST_COMMIT names the gateway build in the output (default: git
# rev-parse --short HEAD, "+dirty" when gateway/ or protocol/ has changes).
# Arguments after the scenario go to `loadtest run`; --out DIR defaults to
# loadtest-out. The exit status is the loadtest's (2: an SLO flag failed),
# after the figures are written.
# Needs: redis-server, redis-cli, python3, getconf.
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

# Internal: the window hooks `loadtest run` calls (--on-window-start/-end),
# with the port and pid that load-cluster.sh exports.
if [ "${1:-}" = --hook ]; then
  which=$2 dir=$3
  port=${LOAD_CLUSTER_REDIS_PORT:?not run by scripts/load-cluster.sh}
  pid=${LOAD_CLUSTER_REDIS_PID:?not run by scripts/load-cluster.sh}
  ticks() {
    local stat rest f
    stat=$(cat "/proc/$pid/stat")
    rest=${stat##*) }
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))
  }
  case $which in
    start)
      redis-cli -p "$port" config resetstat >/dev/null
      echo "start $(date +%s.%N) $(ticks)" >"$dir/redis-window.txt"
      ;;
    end)
      echo "end $(date +%s.%N) $(ticks)" >>"$dir/redis-window.txt"
      redis-cli -p "$port" info commandstats | tr -d '\r' >"$dir/commandstats.txt"
      redis-cli -p "$port" info stats | tr -d '\r' >"$dir/redis-stats.txt"
      redis-cli -p "$port" info server | tr -d '\r' >"$dir/redis-server.txt"
      ;;
    *) echo "redis-cost.sh --hook start|end DIR" >&2; exit 64 ;;
  esac
  exit 0
fi

cd "$(dirname "$0")/.."
scenario=${1:?usage: scripts/redis-cost.sh SCENARIO [loadtest run args...]}
shift
for tool in redis-server redis-cli python3 getconf; do
  command -v "$tool" >/dev/null || { echo "redis-cost.sh: $tool not found" >&2; exit 1; }
done
out=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --out) out=${args[i + 1]:-} ;;
    --out=*) out=${args[i]#--out=} ;;
  esac
done
if [ -z "$out" ]; then
  out=loadtest-out
  args+=(--out "$out")
fi
mkdir -p "$out"
out_abs=$(cd "$out" && pwd)
rm -f "$out_abs/redis-window.txt" "$out_abs/commandstats.txt" "$out_abs/redis-stats.txt" \
  "$out_abs/redis-server.txt" "$out_abs/redis-cost.txt" "$out_abs/redis-cost.json" "$out_abs/report.json"

commit=${REDIS_COST_COMMIT:-}
if [ -z "$commit" ]; then
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git status --porcelain -- gateway protocol 2>/dev/null)" ]; then commit="$commit+dirty"; fi
fi

hook_start="$(printf '%q ' "$SELF" --hook start "$out_abs")"
hook_end="$(printf '%q ' "$SELF" --hook end "$out_abs")"
rc=0
NODES=${NODES:-4} scripts/load-cluster.sh "$scenario" "${args[@]}" \
  --on-window-start "$hook_start" --on-window-end "$hook_end" || rc=$?

if [ ! -f "$out_abs/report.json" ] || [ ! -f "$out_abs/commandstats.txt" ]; then
  echo "redis-cost.sh: no report or no Redis readings in $out_abs (loadtest exit $rc)" >&2
  exit $((rc == 0 ? 1 : rc))
fi

python3 - "$out_abs" "$scenario" "$commit" "$(getconf CLK_TCK)" "${NODES:-4}" "$*" <<'EOF'
import json, os, platform, sys, time

out, scenario, commit, clk_tck, nodes, argv = sys.argv[1:7]
clk_tck = int(clk_tck)


def info(path):
    d = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            d[k] = v
    return d


# cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,rejected_calls=0,failed_calls=0
commands = []
for k, v in info(os.path.join(out, "commandstats.txt")).items():
    if not k.startswith("cmdstat_"):
        continue
    f = dict(kv.split("=", 1) for kv in v.split(","))
    commands.append({"command": k[len("cmdstat_"):], "calls": int(f["calls"]), "usec": int(f["usec"])})
# Our own CONFIG RESETSTAT comes after the reset and counts once; leave it out.
for c in commands:
    if c["command"] == "config|resetstat":
        c["calls"] -= 1
commands = sorted((c for c in commands if c["calls"] > 0), key=lambda c: -c["calls"])
total = sum(c["calls"] for c in commands)

window = {}
for line in open(os.path.join(out, "redis-window.txt")):
    which, t, ticks = line.split()
    window[which] = (float(t), int(ticks))
wall = window["end"][0] - window["start"][0]
cpu_pct = (window["end"][1] - window["start"][1]) / clk_tck / wall * 100 if wall > 0 else None

server = info(os.path.join(out, "redis-server.txt"))
r = json.load(open(os.path.join(out, "report.json")))
comments = r["low_lane"]["comments"]
likes = r["likes"]
acked_comments = comments["acked"]
acked_taps = likes.get("taps_acked", 0)


def per(n):
    return total / n if n else None


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


res = {
    "scenario": r["scenario"],
    "scenario_file": scenario,
    "args": argv,
    "gateway_commit": commit,
    "nodes": int(nodes),
    "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    "machine": f"{os.cpu_count()} CPU(s), {cpu_model()}, Linux {platform.release()}",
    "redis_version": server.get("redis_version"),
    "window_s": wall,
    "total_commands": total,
    "script_calls": sum(c["calls"] for c in commands if c["command"] in ("evalsha", "eval", "fcall")),
    "commands": [dict(c, usec_per_call=c["usec"] / c["calls"]) for c in commands],
    "comments_sent": comments["sent"],
    "comments_acked": acked_comments,
    "comments_refused": comments["refused"],
    "comment_ack_p99_ms": r["low_lane"].get("ack_latency", {}).get("p99_ms"),
    "like_requests_acked": likes["acked"],
    "like_taps_sent": likes.get("taps_sent", 0),
    "like_taps_acked": acked_taps,
    "commands_per_comment": per(acked_comments),
    "commands_per_like_tap": per(acked_taps),
    "commands_per_like_request": per(likes["acked"]),
    "redis_cpu_pct_of_one_core": cpu_pct,
    "clk_tck": clk_tck,
    "high_lane_gaps": r["high_lane"]["gaps"],
    "violations": r["violations"],
}
json.dump(res, open(os.path.join(out, "redis-cost.json"), "w"), indent=2)

o = []
o.append(f"Redis cost of {r['scenario']} ({scenario} {argv}), gateway {commit}, {nodes} node(s), one redis-server {res['redis_version']}")
o.append(f"machine: {res['machine']}; {res['measured_at']}")
o.append(f"window: {wall:.1f} s (traffic start → end of the drain)")
o.append(f"total Redis commands (INFO commandstats, scripts' inner calls included): {total:,} ({total / wall:,.0f}/s)" if wall > 0 else f"total Redis commands: {total:,}")
o.append(f"of which script calls (EVALSHA/EVAL/FCALL): {res['script_calls']:,}")
o.append(f"comments: {comments['sent']:,} sent, {acked_comments:,} acked, refused {comments['refused']}")
o.append(f"like taps: {res['like_taps_sent']:,} sent, {acked_taps:,} acked ({likes['acked']:,} like requests acked)")
def fmt(v):
    if v is None:
        return "-"
    return f"{v:.2f}" if v >= 1 else f"{v:.4f}"



o.append(f"commands per accepted comment: {fmt(res['commands_per_comment'])}")
o.append(f"commands per like tap: {fmt(res['commands_per_like_tap'])} (per like request: {fmt(res['commands_per_like_request'])})")
if acked_comments and acked_taps:
    o.append("  (both divide the same total: this scenario mixes comments and likes)")
o.append(f"redis-server CPU: {fmt(cpu_pct)}% of one core over the window (CLK_TCK {clk_tck})")
o.append("")
o.append(f"{'command':<28} {'calls':>12} {'share':>7} {'µs/call':>9}")
for c in res["commands"]:
    o.append(f"{c['command']:<28} {c['calls']:>12,} {c['calls'] / total:>7.1%} {c['usec_per_call']:>9.2f}")
text = "\n".join(o) + "\n"
open(os.path.join(out, "redis-cost.txt"), "w").write(text)
print(text, end="")
print(f"written: {out}/redis-cost.txt, {out}/redis-cost.json")
EOF
exit "$rc"
