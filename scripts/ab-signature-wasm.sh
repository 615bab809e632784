#!/usr/bin/env bash
# Times the RSA public operation in WebAssembly (V8, Node) for several revisions of the
# core, in turns in one process, next to crypto.verify: the A/B test for changes to
# src/signature/ (the machine's noise moves every row alike, so compare the rows of one run).
#
#   scripts/ab-signature-wasm.sh [REV...] [--rounds N]
#
# REV is a git revision, or `.` for the working tree (the default when no REV is given).
# Each is built from bench/wasm-signature (the working tree's copy) against that
# revision's core, as scripts/build-wasm.sh builds pkg/ (release, LTO, SIMD128), into
# target/ab-signature/. Every build's result is checked against BigInt first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

revs=()
rounds=40
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "ab-signature-wasm: --rounds takes a positive whole number" >&2; exit 2; }
      rounds="$2"; shift 2 ;;
    -*) echo "usage: $0 [REV...] [--rounds N]" >&2; exit 2 ;;
    *) revs+=("$1"); shift ;;
  esac
done
[ ${#revs[@]} -gt 0 ] || revs=(.)
for rev in "${revs[@]}"; do
  if [ "$rev" != . ] && ! git rev-parse --verify --quiet "$rev^{commit}" >/dev/null; then
    echo "ab-signature-wasm: $rev is not a revision of this repository" >&2
    exit 2
  fi
done

scripts/build-wasm.sh --tools
command -v node >/dev/null || { echo "ab-signature-wasm: Node.js is required" >&2; exit 1; }

out="$ROOT/target/ab-signature"
mkdir -p "$out"
builds=()
for rev in "${revs[@]}"; do
  if [ "$rev" = . ]; then
    label="working-tree"
    tree="$ROOT"
  else
    sha="$(git rev-parse --short=12 "$rev^{commit}")"
    label="$rev@$sha"
    tree="$out/src-$sha"
    if [ ! -d "$tree" ]; then
      mkdir -p "$tree.tmp"
      git archive "$sha" | tar -x -C "$tree.tmp"
      mv "$tree.tmp" "$tree"
    fi
    rm -rf "$tree/bench/wasm-signature"
    mkdir -p "$tree/bench"
    cp -r bench/wasm-signature "$tree/bench/wasm-signature"
    rm -rf "$tree/bench/wasm-signature/target"
  fi
  cp "$tree/Cargo.lock" "$tree/bench/wasm-signature/Cargo.lock"
  echo "[ab-signature-wasm] building $label" >&2
  (cd "$tree/bench/wasm-signature" &&
    cargo build --quiet --release --target wasm32-unknown-unknown --target-dir "$out/build-${label//[^A-Za-z0-9._-]/_}")
  dir="$out/pkg-${label//[^A-Za-z0-9._-]/_}"
  wasm-bindgen --target nodejs --out-dir "$dir" \
    "$out/build-${label//[^A-Za-z0-9._-]/_}/wasm32-unknown-unknown/release/aadauth_bench_wasm_signature.wasm"
  builds+=("$label=$dir")
done
exec node bench/wasm-signature/run.mjs "${builds[@]}" --rounds "$rounds"
