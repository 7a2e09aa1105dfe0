#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test of every crate, then
# the gateway's behaviour tests again on a real redis-server and on a
# 3-master Redis Cluster (the tests start both themselves on free ports),
# then a short fuzzing pass (3 s per target on the stable driver; run
# scripts/fuzz.sh for a longer one). The browser tests (headless chromium,
# playwright-core) need scripts/browser-setup.sh first, which it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/browser-setup.sh
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
GATEWAY_TEST_BACKEND=redis cargo test -p gateway --tests
GATEWAY_TEST_BACKEND=cluster cargo test -p gateway --tests
./scripts/fuzz.sh 3
scripts/validate-deploy.sh
