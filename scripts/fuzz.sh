#!/usr/bin/env bash
# A bounded fuzzing pass over every target in fuzz/ (both codecs'
# decode_client, the word filter, the lottery record parser), SECONDS each
# (default 30), on a stable toolchain: the stable driver `fuzz-stable` runs
# each target's corpus, then mutated inputs. A panic saves its input under
# fuzz/artifacts/<target>/ and fails the script. With cargo-fuzz installed
# (`cargo install cargo-fuzz`), FUZZ_ENGINE=libfuzzer runs the same targets
# under libFuzzer instead, coverage-guided; without a sanitizer
# (FUZZ_SANITIZER=none, the default) that works on stable too, and
# FUZZ_SANITIZER=address needs nightly (or RUSTC_BOOTSTRAP=1).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-30}"
shift || true
if [[ "${FUZZ_ENGINE:-stable}" == libfuzzer ]]; then
  targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <(cargo fuzz list | grep -vx fuzz-stable)
  for t in "${targets[@]}"; do
    # New inputs go to the first folder (ignored by git); the seeds are read.
    mkdir -p "target/corpus/$t"
    cargo fuzz run -s "${FUZZ_SANITIZER:-none}" "$t" "target/corpus/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -max_len=16384
  done
else
  # Not --locked: the fuzz crate builds the workspace crates by path, so its
  # lock follows their dependencies (cargo updates it as it builds).
  cargo run --quiet --release --no-default-features --features stable \
    --bin fuzz-stable -- \
    --seconds "$seconds" "$@"
fi
