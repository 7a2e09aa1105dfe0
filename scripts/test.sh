#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test of every crate.
# Tests that need Redis start their own redis-server on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
