#!/usr/bin/env bash
# Builds the WebAssembly package into pkg/ (for browsers and Node, ES module + .d.ts),
# installing what is missing first. Idempotent, and quick when everything is there.
#
#   scripts/build-wasm.sh            install missing tools, build pkg/
#   scripts/build-wasm.sh --tools    only install missing tools
#
# Needs: cargo/rustup. Installs (when missing): the wasm32-unknown-unknown target,
# wasm-pack, wasm-bindgen-cli at exactly the version in Cargo.lock, binaryen (wasm-opt).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

log() { printf '[build-wasm] %s\n' "$*" >&2; }

apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "missing $*, and no apt-get to install it"
    return 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -z "${APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

# binaryen's major version (0 when unreadable, which counts as old).
wasm_opt_version() {
  local v
  v="$(wasm-opt --version 2>/dev/null | sed -n 's/.*version \([0-9][0-9]*\).*/\1/p' | head -n1)"
  echo "${v:-0}"
}

install_tools() {
  command -v cargo >/dev/null || { log "cargo is required (install Rust with rustup)"; exit 1; }

  # 1. The Rust target.
  if command -v rustup >/dev/null; then
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
      log "adding the wasm32-unknown-unknown target"
      rustup target add wasm32-unknown-unknown
    fi
  fi

  # Building the tools from source needs a C toolchain.
  if ! command -v cc >/dev/null && { ! command -v wasm-pack >/dev/null || ! command -v wasm-bindgen >/dev/null; }; then
    apt_install build-essential pkg-config
  fi

  # 2. wasm-pack.
  if ! command -v wasm-pack >/dev/null; then
    log "installing wasm-pack"
    cargo install wasm-pack
  fi

  # 3. wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock
  #    (the CLI refuses a module built with another version).
  local want have
  want="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/^version = "|"$/, ""); print; exit }' Cargo.lock)"
  if [ -z "$want" ]; then
    log "no wasm-bindgen in Cargo.lock; resolving"
    cargo metadata --format-version 1 >/dev/null
    want="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/^version = "|"$/, ""); print; exit }' Cargo.lock)"
  fi
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" != "$want" ]; then
    log "installing wasm-bindgen-cli $want (found: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$want" --force
  fi

  # 4. wasm-opt (binaryen); wasm-pack is told not to download it (wasm/Cargo.toml).
  if ! command -v wasm-opt >/dev/null; then
    log "installing binaryen (wasm-opt)"
    apt_install binaryen
  fi
  # An old wasm-opt needs a repair step, written for Node.
  if [ "$(wasm_opt_version)" -lt 110 ] && ! command -v node >/dev/null; then
    log "installing Node.js (to repair the output of wasm-opt $(wasm_opt_version))"
    apt_install nodejs
  fi
}

install_tools
if [ "${1:-}" = "--tools" ]; then exit 0; fi

# Release build with LTO, for this build only (the workspace profile stays as it is).
# opt-level 3 then wasm-opt -Oz: "s" is ~1% smaller gzipped but ~2x slower to verify a
# token, "z" ~15% smaller and ~5x slower (bench/node/bench.mjs).
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${AADAUTH_WASM_OPT_LEVEL:-3}"
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1

# Built next to pkg/ and swapped in whole, so that pkg/ never holds a half-built or
# half-optimized module (nor snippets of an older build).
tmp="target/wasm-pkg.tmp"
rm -rf "$tmp"
log "wasm-pack build (opt-level $CARGO_PROFILE_RELEASE_OPT_LEVEL, LTO)"
wasm-pack --quiet build wasm --target web --out-dir "../$tmp" --release

WASM_OPT_LEVEL="${AADAUTH_WASM_OPT:--O3}"
log "wasm-opt $WASM_OPT_LEVEL ($(wasm-opt --version))"
cp "$tmp/aadauth_wasm_bg.wasm" "$tmp/bindgen.wasm"
# The features rustc enables by default for wasm32-unknown-unknown, plus SIMD (128-bit),
# which .cargo/config.toml turns on; every current browser (Chrome/Edge 91+, Firefox 89+,
# Safari 16.4+), Node 16.4+ and Envoy's runtimes (V8, wasmtime, WAMR) have them.
wasm-opt "$WASM_OPT_LEVEL" \
  --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$tmp/bindgen.wasm" -o "$tmp/aadauth_wasm_bg.wasm"
# binaryen before version 110 (Debian 12 ships 108) writes every table export as table 0,
# which points wasm-bindgen's externref table export at the funcref table
# (WebAssembly/binaryen#4711). Re-point it.
if [ "$(wasm_opt_version)" -lt 110 ]; then
  log "wasm-opt $(wasm_opt_version) < 110: repairing table exports"
  node scripts/wasm-table-exports.mjs "$tmp/bindgen.wasm" "$tmp/aadauth_wasm_bg.wasm"
fi
rm "$tmp/bindgen.wasm"
# The RSA arithmetic of src/signature/simd128.rs is fast only if its products stay
# i64x2.extmul (V8 emulates the i64x2.mul that LLVM would otherwise make of them, at about
# twice the cost): refuse a module where the optimizer has rewritten them.
if ! wasm-dis "$tmp/aadauth_wasm_bg.wasm" 2>/dev/null | grep 'i64x2.extmul_low_i32x4_u' >/dev/null; then
  log "the module has no i64x2.extmul: src/signature/simd128.rs lost its SIMD multiplies"
  exit 1
fi

rm -rf pkg.old
if [ -d pkg ]; then mv pkg pkg.old; fi
mv "$tmp" pkg
rm -rf pkg.old

wasm="pkg/aadauth_wasm_bg.wasm"
raw="$(wc -c < "$wasm")"
gz="$(gzip -9c "$wasm" | wc -c)"
log "$wasm: $raw bytes raw, $gz bytes gzip -9"
if [ "$gz" -ge 409600 ]; then
  log "the module is over the 400 KB gzip budget"
  exit 1
fi
