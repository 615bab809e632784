#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 20; CI uses this short run).
# A longer run: scripts/fuzz.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-20}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
rustup toolchain list | grep -q nightly || { echo "the nightly toolchain is needed for cargo fuzz" >&2; exit 1; }
cd fuzz
for target in token jwks role_config evaluate rs256 gateway; do
  corpus="corpus/$target"
  work="$(mktemp -d)"
  cp -r "$corpus/." "$work/" 2>/dev/null || true
  echo "==> fuzz $target for ${SECONDS_EACH}s"
  # The checked-in corpus stays read-only: new inputs go to a scratch copy.
  cargo +nightly fuzz run "$target" "$work" -- -max_total_time="$SECONDS_EACH" -max_len=20000 -rss_limit_mb=2048 2>&1 \
    | grep -E "^(#[0-9]+ *DONE|Done|==|SUMMARY|ERROR)|stat::number_of_executed_units|panicked" || true
  rm -rf "$work"
  if [ -d "artifacts/$target" ] && [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz target $target found a failure: fuzz/artifacts/$target" >&2
    exit 1
  fi
done
echo "fuzzing: no failures"
