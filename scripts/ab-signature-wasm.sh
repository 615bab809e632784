#!/usr/bin/env bash
# Times the RSA public operation in WebAssembly (V8, Node) for several revisions of the
# core, in turns in one process, next to crypto.verify: the A/B test for changes to
# src/signature/ (the machine's noise moves every row alike, so compare the rows of one run).
#
#   scripts/ab-signature-wasm.sh [REV...] [--rounds N]
#   scripts/ab-signature-wasm.sh [REV...] --callgrind [--count K]
#
# REV is a git revision, or `.` for the working tree (the default when no REV is given).
# Each is built from bench/wasm-signature (the working tree's copy) against that
# revision's core, as scripts/build-wasm.sh builds pkg/ (release, LTO, SIMD128), into
# target/ab-signature/. Every build's result is checked against BigInt first.
#
# --callgrind counts instructions instead of timing, which this machine's changes of speed
# do not move: each build runs under valgrind (callgrind) twice, after the same warm-up,
# with K (default 1000) more operations in the second run; the difference / K is the
# instructions per operation. Node runs with --predictable --no-liftoff (one thread, the
# optimising compiler from the start), so that the count repeats to a few thousand
# instructions in two billion. Instructions are not time: V8's unpacks for extmul, for
# one, cost more cycles than their count says. Needs valgrind.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

revs=()
rounds=40
callgrind=0
count=1000
count_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "ab-signature-wasm: --rounds takes a positive whole number" >&2; exit 2; }
      rounds="$2"; shift 2 ;;
    --callgrind) callgrind=1; shift ;;
    --count)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "ab-signature-wasm: --count takes a positive whole number" >&2; exit 2; }
      count="$2"; count_given=1; shift 2 ;;
    -*) echo "usage: $0 [REV...] [--rounds N] | $0 [REV...] --callgrind [--count K]" >&2; exit 2 ;;
    *) revs+=("$1"); shift ;;
  esac
done
if [ "$count_given" = 1 ] && [ "$callgrind" = 0 ]; then
  echo "ab-signature-wasm: --count goes with --callgrind" >&2
  exit 2
fi
[ ${#revs[@]} -gt 0 ] || revs=(.)
for rev in "${revs[@]}"; do
  if [ "$rev" != . ] && ! git rev-parse --verify --quiet "$rev^{commit}" >/dev/null; then
    echo "ab-signature-wasm: $rev is not a revision of this repository" >&2
    exit 2
  fi
done

scripts/build-wasm.sh --tools
command -v node >/dev/null || { echo "ab-signature-wasm: Node.js is required" >&2; exit 1; }
if [ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null; then
  echo "ab-signature-wasm: --callgrind needs valgrind (apt-get install valgrind)" >&2
  exit 1
fi

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
if [ "$callgrind" = 0 ]; then
  exec node bench/wasm-signature/run.mjs "${builds[@]}" --rounds "$rounds"
fi

# The instruction count of `node run.mjs LABEL=DIR --count K` (the summary line of
# callgrind's output file).
instructions() {
  local file="$out/callgrind.out"
  rm -f "$file"
  valgrind --quiet --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$file" \
    node --predictable --no-liftoff bench/wasm-signature/run.mjs "$1" --count "$2" >&2
  sed -n 's/^summary: \([0-9][0-9]*\)$/\1/p' "$file"
}
echo "instructions per public operation (callgrind; $count operations after the same warm-up, node --predictable --no-liftoff):"
first=""
for b in "${builds[@]}"; do
  echo "[ab-signature-wasm] counting ${b%%=*} (two runs under valgrind, about a minute)" >&2
  base="$(instructions "$b" 0)"
  more="$(instructions "$b" "$count")"
  [ -n "$base" ] && [ -n "$more" ] || { echo "ab-signature-wasm: no callgrind summary for ${b%%=*}" >&2; exit 1; }
  per=$(( (more - base) / count ))
  [ -n "$first" ] || first="$per"
  awk -v l="${b%%=*}" -v p="$per" -v f="$first" 'BEGIN { printf "  %-32s %9d  (%.3f x the first)\n", l, p, p / f }'
done
