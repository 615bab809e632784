#!/usr/bin/env bash
# Builds the Envoy filter (filter/, aadauth_filter.wasm) and runs its tests:
#
#   build     cargo build -p aadauth-filter --lib --target wasm32-unknown-unknown
#             --profile wasm-release, then tools/wasm-trim (keeps only the proxy-wasm
#             exports and what they reach) -> target/filter-wasm/aadauth_filter.wasm
#   clippy    cargo clippy -p aadauth-filter --target wasm32-unknown-unknown --no-deps
#             -D warnings
#   tests     cargo test -p aadauth-filter: config/request unit tests, the filter in
#             proxy-wasm-testhost (tests/filter.rs), the import check (tests/imports.rs)
#   gateway   cargo test -p aadauth --test gateway (the core's gateway profile)
#
# Prints the wasm size. Exits non-zero when anything fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR=never
log() { printf '\n[test-filter] %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "installing the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# .cargo/config.toml selects getrandom's "unsupported" backend for wasm32; RUSTFLAGS from
# the environment would replace it.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS

OUT="target/filter-wasm"
log "build (wasm32-unknown-unknown, profile wasm-release)"
cargo build -p aadauth-filter --lib --target wasm32-unknown-unknown --profile wasm-release \
  --target-dir "$OUT"
cargo run -q -p wasm-trim -- "$OUT/wasm32-unknown-unknown/wasm-release/aadauth_filter.wasm" \
  "$OUT/aadauth_filter.wasm"

# --no-deps: the core is linted by scripts/test.sh (workspace clippy, -D warnings).
log "clippy (wasm32-unknown-unknown)"
cargo clippy -p aadauth-filter --target wasm32-unknown-unknown --no-deps -- -D warnings

log "tests (unit, proxy-wasm-testhost, import check)"
cargo test -p aadauth-filter
cargo test -p wasm-trim

log "core gateway profile"
cargo test -p aadauth --test gateway

size=$(wc -c < "$OUT/aadauth_filter.wasm")
log "aadauth_filter.wasm: $size bytes ($OUT/aadauth_filter.wasm)"
echo "test-filter: all passed"
