#!/usr/bin/env bash
# Where the wasm Verifier.evaluate row of scripts/bench.sh spends its time: builds the
# package as scripts/build-wasm.sh does (release, LTO, SIMD) but keeping the functions'
# names and without wasm-opt (which drops them), into target/wasm-profile/pkg, then runs
# bench/node/profile.mjs on it (V8's sampling profiler, shares by phase and by function).
#
#   scripts/profile-wasm.sh [--iterations N] [--top N]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

scripts/build-wasm.sh --tools
command -v node >/dev/null || { echo "profile-wasm: Node.js is required" >&2; exit 1; }

export CARGO_PROFILE_RELEASE_OPT_LEVEL=3
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
out="target/wasm-profile"
echo "[profile-wasm] cargo build -p aadauth-wasm (release, LTO, names kept)" >&2
cargo build --quiet -p aadauth-wasm --target wasm32-unknown-unknown --release --target-dir "$out/build"
wasm-bindgen --target web --keep-debug --out-dir "$out/pkg" \
  "$out/build/wasm32-unknown-unknown/release/aadauth_wasm.wasm"
exec node bench/node/profile.mjs "$out/pkg" "$@"
