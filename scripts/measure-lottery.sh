#!/usr/bin/env bash
# Comment p99 at 10,000 comments/s with and without a comment lottery
# collecting participants. Needs release builds of gateway and loadtest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CARGO_TARGET_DIR:-target}/release
ulimit -n 20000
run() {
  local label=$1 lottery=$2
  GATEWAY_ADMIN_KEY=k GATEWAY_TOKEN_SECRET=s GATEWAY_COMMENT_RATE=0 RUST_LOG=warn \
    "$BIN/gateway" --listen 127.0.0.1:18090 &
  local pid=$!
  sleep 1
  local api=http://127.0.0.1:18090/api auth='Authorization: Bearer k' ct='content-type: application/json'
  curl -sf -H "$auth" -H "$ct" -d '{"id":"lot-0","anchor":"anna","planned_start":0,"planned_end":4102444800000}' $api/rooms >/dev/null
  curl -sf -H "$auth" -H "$ct" -d '{"action":"start"}' $api/rooms/lot-0/live >/dev/null
  if [ "$lottery" = yes ]; then
    curl -sf -H "$auth" -H "$ct" -d '{"kind":"comment","duration_s":26,"winners":10,"prize":"coupon"}' \
      $api/rooms/lot-0/lotteries >/dev/null
    curl -sf -XPOST -H "$auth" $api/rooms/lot-0/lotteries/lot-1/start >/dev/null
  fi
  "$BIN/loadtest" run loadtest/scenarios/lottery-10k.toml --gateway-pid $pid --out "/tmp/lt-lottery-$label" | tail -25
  if [ "$lottery" = yes ]; then
    sleep 4   # the window closes 26 s after the start; the draw follows
    curl -s -H "$auth" $api/rooms/lot-0/lotteries/lot-1/record > "/tmp/lt-lottery-$label/record.json"
    python3 -c "import json,sys; r=json.load(open('/tmp/lt-lottery-$label/record.json')); o=r['outcome']; print('lottery state', r.get('state', o.get('state')), 'participants N =', (o.get('commitment') or {}).get('count'), 'winners', len(o.get('winners', [])))" || head -c 400 "/tmp/lt-lottery-$label/record.json"
  fi
  kill $pid; wait $pid 2>/dev/null || true
}
echo "== without a lottery"; run plain no
echo "== with a comment lottery open"; run lottery yes
