#!/usr/bin/env bash
# Runs every test of aadauth. Installs what it needs on a fresh Debian machine (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (workspace, all targets, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (workspace)"
cargo test --workspace

step "test vectors are up to date with tools/vectorgen"
cargo run -q -p vectorgen -- --check

step "bench/report.py target verdicts (python3 -m unittest bench/test_report.py)"
if ! command -v python3 >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3 >/dev/null
fi
python3 -m unittest bench/test_report.py

for extra in scripts/test-wasm.sh scripts/test-capi.sh scripts/test-filter.sh scripts/test-host.sh scripts/test-www.sh scripts/test-differential.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$extra"
  fi
done

step "fuzzing: every cargo-fuzz target for a short, fixed time (scripts/fuzz.sh SECONDS for longer)"
if rustup toolchain list | grep -q nightly; then
  scripts/fuzz.sh 15
else
  echo "no nightly toolchain: fuzzing skipped"
fi

step "all tests passed"
