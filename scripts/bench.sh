#!/usr/bin/env bash
# Measures aadauth and its peers in one run, on the same token, key and time
# (tests/vectors/allowed_vm_system_assigned.json), and writes
#
#   bench-results/results.md     the table: median and p99 µs per operation, ratio to
#                                OpenSSL (Node crypto.verify), the targets as PASS/FAIL,
#                                the verified-token cache's memory, the heap of one
#                                native evaluation
#   bench-results/results.json   the same, machine-readable (per-round medians too)
#   bench-results/chart.svg      a bar chart of the medians (log scale), p99 whiskers
#   bench-results/raw/           each suite's output, per round
#
# Suites (bench/README.md says what each row measures):
#   native   bench/native (aadauth core in-process: evaluate_json cold, LoginFlow warm,
#            signature only, gateway new/cached token, cache memory, one evaluation's
#            heap); built a second time
#            with the `aadauth` binary's allocator (mimalloc) for the rows that allocate
#            much (`…_mimalloc`)
#   node     bench/node (wasm evaluate from pkg/, jose jwtVerify, crypto.verify)
#   python   bench/python (PyJWT jwt.decode, cryptography verify)
#   filter   the filter's own bench (cargo run --release -p aadauth-filter --example bench)
#
# The suites run one after the other (never two at once), ROUNDS times in turn, so that a
# busy period of the machine is spread over all of them; samples are pooled over rounds.
#
#   scripts/bench.sh [--rounds N] [--iterations N] [--no-build] [--skip SUITE]... [--out DIR]
#
#   --rounds N       rounds of every suite (default 5)
#   --iterations N   timed operations per row and round (default 2000; the native cached
#                    row runs 10x as many)
#   --no-build       measure what is built: do not build bench/native, pkg/ or the filter
#                    bench, nor install jose / PyJWT (a suite that is not there is skipped)
#   --skip SUITE     leave a suite out (native, node, python, filter); repeatable
#   --out DIR        where the results go (default bench-results)
#
# Installs what is missing (idempotent): jose in bench/node (npm ci), PyJWT and
# cryptography (pip --quiet), pkg/ (scripts/build-wasm.sh, also when src/ or wasm/ is newer
# than pkg/). A suite that cannot be built or run is reported as not measured, with the
# reason; the script fails only when nothing could be measured.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR=never

ROUNDS=5
ITERATIONS=2000
BUILD=1
OUT="bench-results"
SKIP=" "
VECTOR="tests/vectors/allowed_vm_system_assigned.json"
# A suite run or a build taking longer than this (a cargo lock held by another build, a
# hung process) is given up on: BENCH_SUITE_TIMEOUT (default 300 s), BENCH_BUILD_TIMEOUT
# (default 600 s).
SUITE_TIMEOUT="${BENCH_SUITE_TIMEOUT:-300}"
BUILD_TIMEOUT="${BENCH_BUILD_TIMEOUT:-600}"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --iterations) ITERATIONS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --skip)
      case "$2" in native|node|python|filter) ;; *) echo "bench.sh: --skip takes native, node, python or filter" >&2; exit 2 ;; esac
      SKIP="$SKIP$2 "; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done
case "$ROUNDS$ITERATIONS" in
  *[!0-9]*) echo "bench.sh: --rounds and --iterations take whole numbers" >&2; exit 2 ;;
esac
[ "$ROUNDS" -ge 1 ] && [ "$ITERATIONS" -ge 10 ] || { echo "bench.sh: --rounds ≥ 1, --iterations ≥ 10" >&2; exit 2; }

log() { printf '[bench] %s\n' "$*" >&2; }
RAW="$OUT/raw"
rm -rf "$RAW"
mkdir -p "$RAW"
NOTES="$RAW/notes.txt"      # one note a line, into results.md
SKIPPED="$RAW/skipped.txt"  # "suite<TAB>why" lines
: > "$NOTES"
: > "$SKIPPED"
for suite in $SKIP; do printf '%s\t%s\n' "$suite" "left out (--skip $suite)" >> "$SKIPPED"; done
note() { log "note: $*"; printf '%s\n' "$*" >> "$NOTES"; }
skip() { log "skipping $1: $2"; printf '%s\t%s\n' "$1" "$2" >> "$SKIPPED"; SKIP="$SKIP$1 "; }
skipped() { case "$SKIP" in *" $1 "*) return 0 ;; esac; return 1; }
have() { command -v "$1" >/dev/null 2>&1; }
started=$(date +%s)

[ -f "$VECTOR" ] || { echo "bench.sh: $VECTOR is missing" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# Builds and installs (each one idempotent and quick when already done).

NATIVE_BIN="target/bench-native/release/aadauth-bench-native"
NATIVE_MI_BIN="target/bench-native-mimalloc/release/aadauth-bench-native"
NATIVE_MI=1
FILTER_BIN="target/release/examples/bench"

if ! skipped native; then
  features=""
  if grep -q '^pub mod cache;' src/lib.rs && grep -q '^pub mod gateway;' src/lib.rs; then
    features="--features cache"
  else
    printf 'cache\t%s\n' "no aadauth::cache in src/lib.rs (src/cache.rs not there yet): no cached-token row, no cache memory" >> "$SKIPPED"
  fi
  if [ "$BUILD" = 1 ]; then
    if ! have cargo; then
      skip native "cargo not found"
    else
      log "building bench/native (cargo build --release $features; a first build takes ~2 minutes)"
      # The workspace's lock file, so that every dependency is the version the workspace
      # builds with (bench/native is a workspace of its own; its Cargo.lock is git-ignored).
      cp Cargo.lock bench/native/Cargo.lock
      # shellcheck disable=SC2086
      if ! timeout "$BUILD_TIMEOUT" cargo build --quiet --release $features \
          --manifest-path bench/native/Cargo.toml --target-dir target/bench-native >&2; then
        if [ -x "$NATIVE_BIN" ]; then
          note "bench/native did not build (src/ mid-edit?): measured the previous build of $NATIVE_BIN"
        else
          skip native "bench/native did not build (cargo build --release --manifest-path bench/native/Cargo.toml)"
        fi
      fi
    fi
  fi
  if ! skipped native && [ ! -x "$NATIVE_BIN" ]; then
    skip native "$NATIVE_BIN is not built (run without --no-build)"
  fi
  if ! skipped native && [ "$BUILD" = 1 ]; then
    log "building bench/native with mimalloc (--features mimalloc)"
    if ! timeout "$BUILD_TIMEOUT" cargo build --quiet --release --features mimalloc \
        --manifest-path bench/native/Cargo.toml --target-dir target/bench-native-mimalloc >&2; then
      note "bench/native did not build with --features mimalloc: no mimalloc rows"
      rm -f "$NATIVE_MI_BIN"
    fi
  fi
  if skipped native || [ ! -x "$NATIVE_MI_BIN" ]; then
    NATIVE_MI=0
  fi
fi

WASM_ARG=""
if ! skipped node; then
  if ! have node; then
    skip node "node not found (Node ≥ 20)"
  else
    if [ ! -f bench/node/node_modules/jose/package.json ]; then
      if [ "$BUILD" = 1 ] && have npm; then
        log "installing jose (npm ci in bench/node)"
        (cd bench/node && { npm ci --silent --no-audit --no-fund || npm install --silent --no-audit --no-fund; }) >&2 \
          || skip node "npm could not install jose in bench/node"
      else
        skip node "jose is not installed (cd bench/node && npm ci)"
      fi
    fi
  fi
fi
if ! skipped node; then
  stale=""
  if [ -f pkg/aadauth_wasm_bg.wasm ]; then
    stale="$(find src wasm/src wasm/Cargo.toml Cargo.lock -newer pkg/aadauth_wasm_bg.wasm -type f 2>/dev/null | head -n 3 | tr '\n' ' ')"
  fi
  if [ "$BUILD" = 1 ] && { [ ! -f pkg/aadauth_wasm_bg.wasm ] || [ -n "$stale" ]; }; then
    if [ -n "$stale" ]; then
      log "pkg/ is older than ${stale}: rebuilding (scripts/build-wasm.sh)"
    else
      log "pkg/ is missing: building it (scripts/build-wasm.sh)"
    fi
    if timeout "$BUILD_TIMEOUT" scripts/build-wasm.sh >&2; then
      stale=""
    else
      note "scripts/build-wasm.sh failed (src/ mid-edit?)"
    fi
  fi
  if [ ! -f pkg/aadauth_wasm_bg.wasm ]; then
    printf 'wasm\t%s\n' "pkg/ is not built (scripts/build-wasm.sh)" >> "$SKIPPED"
    WASM_ARG="--no-wasm"
  elif [ -n "$stale" ]; then
    note "pkg/ is older than src/ or wasm/ ($stale): the wasm rows measure the previous build"
  fi
fi

if ! skipped python; then
  if ! have python3; then
    skip python "python3 not found"
  elif ! python3 -c 'import jwt, cryptography' 2>/dev/null; then
    if [ "$BUILD" = 1 ]; then
      log "installing PyJWT and cryptography (pip --quiet)"
      python3 -m pip install --quiet PyJWT cryptography >&2 \
        || python3 -m pip install --quiet --user PyJWT cryptography >&2 \
        || true
    fi
    python3 -c 'import jwt, cryptography' 2>/dev/null \
      || skip python "PyJWT / cryptography are not installed (python3 -m pip install PyJWT cryptography)"
  fi
fi

if ! skipped filter; then
  if [ ! -f filter/Cargo.toml ] || [ ! -f filter/examples/bench.rs ]; then
    skip filter "filter bench not available (no filter/examples/bench.rs)"
  elif [ "$BUILD" = 1 ]; then
    log "building the filter bench (cargo build --release -p aadauth-filter --example bench)"
    if ! timeout "$BUILD_TIMEOUT" cargo build --quiet --release -p aadauth-filter --example bench >&2; then
      if [ -x "$FILTER_BIN" ]; then
        note "the filter bench did not build (filter/ mid-edit?): measured the previous build"
      else
        skip filter "filter bench not available (cargo build --release -p aadauth-filter --example bench failed)"
      fi
    fi
  fi
  if ! skipped filter && [ ! -x "$FILTER_BIN" ]; then
    skip filter "filter bench not available ($FILTER_BIN is not built)"
  fi
fi

# ---------------------------------------------------------------------------------------
# The rounds: every suite in turn, never two at once.

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
measured=0
for round in $(seq 1 "$ROUNDS"); do
  if ! skipped native; then
    log "round $round/$ROUNDS: native"
    if timeout "$SUITE_TIMEOUT" "$NATIVE_BIN" --vector "$VECTOR" --iterations "$ITERATIONS" \
        --fast-iterations $((ITERATIONS * 10)) > "$RAW/native-$round.json" 2> "$RAW/native-$round.err"; then
      measured=1
    else
      note "native round $round failed: $(tail -n 1 "$RAW/native-$round.err")"
      rm -f "$RAW/native-$round.json"
    fi
    if [ "$NATIVE_MI" = 1 ]; then
      if ! timeout "$SUITE_TIMEOUT" "$NATIVE_MI_BIN" --vector "$VECTOR" --iterations "$ITERATIONS" \
          > "$RAW/native_mimalloc-$round.json" 2> "$RAW/native_mimalloc-$round.err"; then
        note "native (mimalloc) round $round failed: $(tail -n 1 "$RAW/native_mimalloc-$round.err")"
        rm -f "$RAW/native_mimalloc-$round.json"
      fi
    fi
  fi
  if ! skipped node; then
    log "round $round/$ROUNDS: node"
    # shellcheck disable=SC2086
    if timeout "$SUITE_TIMEOUT" node bench/node/bench.mjs --vector "$VECTOR" --iterations "$ITERATIONS" \
        --json "$RAW/node-$round.json" $WASM_ARG 2> "$RAW/node-$round.err" >&2; then
      measured=1
    else
      note "node round $round failed: $(tail -n 1 "$RAW/node-$round.err")"
      rm -f "$RAW/node-$round.json"
    fi
  fi
  if ! skipped python; then
    log "round $round/$ROUNDS: python"
    if timeout "$SUITE_TIMEOUT" python3 bench/python/bench.py --vector "$VECTOR" --iterations "$ITERATIONS" \
        --json "$RAW/python-$round.json" 2> "$RAW/python-$round.err"; then
      measured=1
    else
      note "python round $round failed: $(tail -n 1 "$RAW/python-$round.err")"
      rm -f "$RAW/python-$round.json"
    fi
  fi
  if ! skipped filter; then
    log "round $round/$ROUNDS: filter"
    # The filter bench builds the filter's wasm itself (cargo, quick when built) and signs
    # its own tokens; its defaults are 300 new-token and 5000 cached-token requests.
    if timeout "$SUITE_TIMEOUT" "$FILTER_BIN" > "$RAW/filter-$round.txt" 2> "$RAW/filter-$round.err"; then
      measured=1
    else
      note "filter round $round failed: $(tail -n 1 "$RAW/filter-$round.err")"
      rm -f "$RAW/filter-$round.txt"
    fi
  fi
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

if [ "$measured" = 0 ]; then
  echo "bench.sh: nothing could be measured (see above)" >&2
  exit 1
fi

# ---------------------------------------------------------------------------------------
# The report.

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
BENCH_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')" \
BENCH_CPU="${cpu:-unknown CPU}" \
BENCH_CORES="$(nproc 2>/dev/null || echo '?')" \
BENCH_LOAD_BEFORE="$load_before" \
BENCH_LOAD_AFTER="$load_after" \
BENCH_GIT="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$([ -z "$(git status --porcelain -- src wasm filter 2>/dev/null)" ] || echo ' + uncommitted changes in src/, wasm/ or filter/')" \
BENCH_RUSTC="$(rustc --version 2>/dev/null || echo '?')" \
BENCH_NODE="$(node --version 2>/dev/null || echo '?')" \
BENCH_PYTHON="$(python3 --version 2>/dev/null | cut -d' ' -f2)" \
BENCH_VECTOR="$VECTOR" \
BENCH_ROUNDS="$ROUNDS" \
BENCH_ITERATIONS="$ITERATIONS" \
BENCH_SECONDS="$(( $(date +%s) - started ))" \
python3 - "$RAW" <<'PY'
import json, os, sys
raw = sys.argv[1]
e = os.environ.get
notes = [l.rstrip("\n") for l in open(os.path.join(raw, "notes.txt"), encoding="utf-8") if l.strip()]
skipped = {}
for line in open(os.path.join(raw, "skipped.txt"), encoding="utf-8"):
    if "\t" in line:
        k, v = line.rstrip("\n").split("\t", 1)
        skipped.setdefault(k, v)
meta = {
    "date": e("BENCH_DATE"), "cpu": e("BENCH_CPU"), "cores": e("BENCH_CORES"),
    "load_before": e("BENCH_LOAD_BEFORE"), "load_after": e("BENCH_LOAD_AFTER"),
    "git": e("BENCH_GIT"), "rustc": e("BENCH_RUSTC"), "node": e("BENCH_NODE"),
    "python": e("BENCH_PYTHON"), "vector": e("BENCH_VECTOR"),
    "rounds": int(e("BENCH_ROUNDS")), "iterations": int(e("BENCH_ITERATIONS")),
    "seconds": int(e("BENCH_SECONDS")), "skipped": skipped, "notes": notes,
}
json.dump(meta, open(os.path.join(raw, "meta.json"), "w", encoding="utf-8"), indent=2)
PY
python3 bench/report.py "$RAW" "$OUT" || { echo "bench.sh: bench/report.py failed" >&2; exit 1; }
log "done in $(( $(date +%s) - started ))s: $OUT/results.md, $OUT/results.json, $OUT/chart.svg"
