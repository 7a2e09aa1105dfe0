#!/usr/bin/env python3
"""The comparison table of scripts/compare.sh (docs/benchmarks.md, target c).

Reads OUT/SERVER-STEP/report.json (loadtest/src/report.rs) and prints
Markdown: one row per server and step, then per server the deliveries/s at
p99 <= 250 ms (--p99-ms) and the gateway's ratio to it next to the target.
With --bisect the steps of each server are the probes in
OUT/SERVER.bisect.json (compare.sh, COMPARE_MODE=bisect), and a last table
gives each server's largest viewer count under the p99 bound.
--verdict SERVER-STEP only says whether that one run qualifies (exit 0) or
not (exit 1); compare.sh's bisection asks it after every probe.

    python3 scripts/compare-table.py compare-out --servers "gateway ws ceiling" --steps "2000 5000"
    python3 scripts/compare-table.py compare-out --servers "gateway ws" --bisect
    python3 scripts/compare-table.py compare-out --verdict gateway-5000 --p99-ms 250
"""
import argparse
import json
import os
import platform
import sys
import time

P99_MAX_MS = 250.0
NAMES = {
    "gateway": "gateway (1 node, Redis)",
    "socketio": "Socket.IO (Redis adapter)",
    "ws": "Node `ws`",
    "ceiling": "Rust ceiling",
}
# The gateway's figure must be at least this multiple of the other's.
TARGETS = {"socketio": 5.0, "ws": 2.0, "ceiling": 0.5}
# The gateway's server CPU per delivery may be at most this multiple of the ceiling's.
CPU_RATIO_MAX = 1.2


def load(out, server, step):
    """(report or None, status text)."""
    d = os.path.join(out, f"{server}-{step}")
    status_file = os.path.join(d, "status")
    status = open(status_file).read().strip() if os.path.exists(status_file) else "not run"
    path = os.path.join(d, "report.json")
    if not os.path.exists(path):
        return None, status
    with open(path) as f:
        return json.load(f), status


def row_figures(r):
    c = r["connections"]
    lat = r["latency"]
    gw = [p for p in r["processes"] if p["role"] == "gateway"]
    # compare.sh passes the server's pid first, then Redis's if it uses it.
    cpu = gw[0]["cpu_pct_traffic"] if gw else None
    rss = gw[0]["rss_peak_kib"] if gw else None
    redis = gw[1]["cpu_pct_traffic"] if len(gw) > 1 else None
    m = r.get("machine_cpu")
    others = None
    if m:
        ours = sum(p["cpu_pct_traffic"] or 0 for p in r["processes"])
        others = max(m["busy_pct"] - ours, 0.0)
    return {
        "planned": c["planned"],
        "joined": c["connected"],
        "deliveries": r["throughput"]["deliveries_per_s"],
        "ratio": r["low_lane"]["delivery_ratio"],
        "samples": lat["count"],
        "p50": lat["p50_ms"],
        "p99": lat["p99_ms"],
        "gaps": r["high_lane"]["gaps"],
        "high": r["high_lane"]["batches"],
        "cpu": cpu,
        "rss": rss,
        "redis": redis,
        "others": others,
    }


def cpu_us(f):
    """Server CPU µs per delivered comment: CPU % of a core ÷ deliveries/s."""
    if f["cpu"] is None or not f["deliveries"]:
        return None
    return f["cpu"] / 100.0 * 1e6 / f["deliveries"]


def qualifies(f):
    """A step counts when every viewer joined and p99 <= the bound."""
    return f["samples"] > 0 and f["joined"] == f["planned"] and f["p99"] <= P99_MAX_MS


def verdict(out, name):
    """(passes, why) for the run in OUT/NAME (SERVER-STEP)."""
    server, _, step = name.rpartition("-")
    r, status = load(out, server, step)
    if r is None:
        return False, status
    f = row_figures(r)
    if status != "ok":
        return False, status
    if f["samples"] == 0:
        return False, "no latency sample"
    if f["joined"] != f["planned"]:
        return False, f"{f['joined']} of {f['planned']} viewers joined"
    if f["p99"] > P99_MAX_MS:
        return False, f"p99 {f['p99']:.1f} ms > {P99_MAX_MS:g} ms"
    return True, f"p99 {f['p99']:.1f} ms <= {P99_MAX_MS:g} ms, every viewer joined, {fmt_int(f['deliveries'])} deliveries/s"


def load_bisect(out, server):
    path = os.path.join(out, f"{server}.bisect.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt_int(v):
    return f"{v:,.0f}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    global P99_MAX_MS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--servers", default="gateway socketio ws ceiling")
    ap.add_argument("--steps", default="2000 5000 10000 19000")
    ap.add_argument("--duration", default="?")
    ap.add_argument("--p99-ms", type=float, default=P99_MAX_MS, help="p99 bound of a qualifying step")
    ap.add_argument("--bisect", action="store_true", help="steps per server from OUT/SERVER.bisect.json")
    ap.add_argument("--verdict", metavar="SERVER-STEP", help="only: does this run qualify (exit 0) or not (1)")
    a = ap.parse_args()
    P99_MAX_MS = a.p99_ms
    if a.verdict:
        ok, why = verdict(a.out, a.verdict)
        print(f"{a.verdict}: {'pass' if ok else 'fail'}: {why}")
        sys.exit(0 if ok else 1)
    servers = a.servers.split()
    steps = [int(s) for s in a.steps.split()] if not a.bisect else []
    bisects = {s: load_bisect(a.out, s) for s in servers} if a.bisect else {}

    def steps_of(server):
        if not a.bisect:
            return steps
        b = bisects.get(server)
        return sorted({p["viewers"] for p in b["probes"]}) if b else []

    o = []
    o.append("# Target (c): same scenario, same machine\n")
    o.append(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPU(s) ({cpu_model()}), "
        f"loopback, load client on the same cores. Per step: one room, the step's "
        f"viewers, 200 comments/s from 200 senders, 2 high-lane probes/s, JSON, "
        f"{a.duration} s of traffic; a fresh server process per step.\n"
    )
    o.append(
        "| server | viewers | joined | deliveries/s (ratio) | p50 / p99 ms | high-lane gaps / batches "
        "| server CPU % of a core | server CPU µs per delivery | server RSS peak | Redis CPU % | co-tenants CPU % | status |"
    )
    o.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    best = {}
    per_delivery = {}
    for server in servers:
        skipped = os.path.join(a.out, f"{server}.skipped")
        if os.path.exists(skipped):
            reason = open(skipped).read().strip()
            o.append(f"| {NAMES[server]} | - | - | - | - | - | - | - | - | - | - | skipped: {reason} |")
            best[server] = ("skipped", None)
            continue
        best[server] = ("none", None)
        if a.bisect and bisects.get(server) is None:
            o.append(f"| {NAMES[server]} | - | - | - | - | - | - | - | - | - | - | not bisected |")
        for step in steps_of(server):
            r, status = load(a.out, server, step)
            if r is None:
                o.append(f"| {NAMES[server]} | {fmt_int(step)} | - | - | - | - | - | - | - | - | - | {status} |")
                continue
            f = row_figures(r)
            joined = fmt_int(f["joined"]) if f["joined"] == f["planned"] else f"**{fmt_int(f['joined'])}**"
            p99 = f"{f['p99']:,.0f}" if f["p99"] <= P99_MAX_MS else f"**{f['p99']:,.0f}**"
            cpu = "-" if f["cpu"] is None else f"{f['cpu']:.0f}"
            us = cpu_us(f)
            us_cell = "-" if us is None else f"{us:.1f}"
            if us is not None:
                per_delivery.setdefault(server, {})[step] = us
            rss = "-" if f["rss"] is None else f"{f['rss'] / 1024:,.0f} MiB"
            others = "-" if f["others"] is None else f"{f['others']:.0f}"
            redis = "-" if f["redis"] is None else f"{f['redis']:.0f}"
            o.append(
                f"| {NAMES[server]} | {fmt_int(f['planned'])} | {joined} | "
                f"{fmt_int(f['deliveries'])} ({f['ratio']:.3f}) | {f['p50']:,.0f} / {p99} | "
                f"{f['gaps']} / {f['high']} | {cpu} | {us_cell} | {rss} | {redis} | {others} | {status} |"
            )
            if status == "ok" and qualifies(f) and (best[server][1] is None or f["deliveries"] > best[server][1]):
                best[server] = (step, f["deliveries"])

    o.append(
        f"\n**Deliveries/s at p99 ≤ {P99_MAX_MS:g} ms**: per server, the highest deliveries/s "
        f"among its steps where p99 ≤ {P99_MAX_MS:g} ms and every viewer joined.\n"
    )
    o.append(f"| server | deliveries/s at p99 ≤ {P99_MAX_MS:g} ms | at step | gateway ÷ server | target | met |")
    o.append("|---|---|---|---|---|---|")
    g = best.get("gateway", ("none", None))[1]
    for server in servers:
        step, v = best[server]
        value = fmt_int(v) if v is not None else step
        at = fmt_int(step) if v is not None else "-"
        if server == "gateway":
            o.append(f"| {NAMES[server]} | {value} | {at} | - | - | - |")
            continue
        t = TARGETS[server]
        target = f"≥ {t:g}×" if t >= 1 else f"≥ {t:.0%} of it"
        if g is not None and v:
            ratio = g / v
            met = "yes" if ratio >= t else "no"
            o.append(f"| {NAMES[server]} | {value} | {at} | {ratio:.2f}× | {target} | {met} |")
        else:
            o.append(f"| {NAMES[server]} | {value} | {at} | n/a | {target} | n/a |")
    gw_us = per_delivery.get("gateway", {})
    ceil_us = per_delivery.get("ceiling", {})
    common = sorted(set(gw_us) & set(ceil_us))
    if common:
        o.append(
            f"\n**Server CPU per delivery, gateway ÷ ceiling** (server CPU % of a core ÷ "
            f"deliveries/s, per step; target ≤ {CPU_RATIO_MAX:g}×)\n"
        )
        o.append("| viewers | gateway µs | ceiling µs | gateway ÷ ceiling | met |")
        o.append("|---|---|---|---|---|")
        for step in common:
            ratio = gw_us[step] / ceil_us[step]
            met = "yes" if ratio <= CPU_RATIO_MAX else "no"
            o.append(
                f"| {fmt_int(step)} | {gw_us[step]:.1f} | {ceil_us[step]:.1f} | {ratio:.2f}× | {met} |"
            )
    if a.bisect:
        o.append(
            f"\n**Largest viewer count with p99 ≤ {P99_MAX_MS:g} ms** (and every viewer joined), "
            "by binary search: each probe a fresh server and one bounded run.\n"
        )
        o.append("| server | largest passing | smallest failing | searched | resolution | probes (viewers: pass/fail) |")
        o.append("|---|---|---|---|---|---|")
        for server in servers:
            b = bisects.get(server)
            if b is None:
                continue
            passing = b.get("largest_passing")
            failing = b.get("smallest_failing")
            largest = fmt_int(passing) if passing is not None else f"none (fails at {fmt_int(b['low'])})"
            if passing is not None and failing is None:
                largest += " (the high bound: raise COMPARE_BISECT_HIGH)"
            probes = ", ".join(f"{fmt_int(p['viewers'])}: {'pass' if p['pass'] else 'fail'}" for p in b["probes"])
            o.append(
                f"| {NAMES[server]} | {largest} | {fmt_int(failing) if failing is not None else '-'} | "
                f"{fmt_int(b['low'])}–{fmt_int(b['high'])} | {fmt_int(b['resolution'])} | {probes} |"
            )
    print("\n".join(o))


if __name__ == "__main__":
    main()
