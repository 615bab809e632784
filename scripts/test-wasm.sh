#!/usr/bin/env bash
# Builds pkg/ (scripts/build-wasm.sh) and runs every test of the WebAssembly package:
#
#   native      cargo test -p aadauth-wasm: the exports' Rust side equals the core on every
#               vector; the .d.ts interfaces name exactly the serialized members
#   node        wasm-pack test --node wasm: the JS API in Node, every vector
#   chrome      wasm-pack test --headless --chrome wasm: the same in headless Chromium
#   imports     the built module imports only wasm-bindgen glue (no clock/random/net/DOM)
#   dts         the .d.ts types the API with the contract's interfaces, tsc --strict
#   pkg-vectors every vector through the built (wasm-opt'ed) pkg/ in Node
#   readme      the README's Node example, run as written
#
# Exits non-zero when any fails; the last line reads "N passed, M failed".
#   scripts/test-wasm.sh [--no-build] [--no-chrome]
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

build=1
chrome=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --no-chrome) chrome=0 ;;
    *) echo "usage: $0 [--no-build] [--no-chrome]" >&2; exit 2 ;;
  esac
done

log() { printf '[test-wasm] %s\n' "$*" >&2; }

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -z "${APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

# Tools the tests need besides the build's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing Node.js and npm"
  apt_install nodejs npm
fi
if [ "$chrome" = 1 ] && { ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; }; then
  log "installing Chromium and its WebDriver"
  apt_install chromium chromium-driver
fi

if [ "$build" = 1 ]; then
  scripts/build-wasm.sh || { log "build failed"; echo "0 passed, 1 failed"; exit 1; }
fi

if [ ! -x tests/node/node_modules/.bin/tsc ]; then
  log "npm install in tests/node"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error) || log "npm install failed"
fi

logs="target/test-wasm"
mkdir -p "$logs"
passed=0
failed=0
failures=()

# run NAME COMMAND...: runs a suite, its output also in target/test-wasm/NAME.log.
run() {
  local name="$1"
  shift
  log "== $name: $*"
  if "$@" 2>&1 | tee "$logs/$name.log"; then
    log "== $name: ok"
    passed=$((passed + 1))
  else
    log "== $name: FAILED (log: $logs/$name.log)"
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

# wasm-pack test prints "no tests to run" or skips a suite that targets the other
# environment and still exits 0: require that tests ran, and where.
wasm_pack_test() {
  local where="$1"
  shift
  local out
  out="$(mktemp)"
  wasm-pack test "$@" wasm 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  local ran
  ran="$(sed -n 's/^test result: ok\. \([0-9][0-9]*\) passed.*/\1/p' "$out" | awk '{s += $1} END {print s + 0}')"
  if [ "$rc" -eq 0 ] && [ "$where" = chrome ] && ! grep -q 'Running headless tests in Chrome' "$out"; then
    echo "no test ran in Chrome"
    rc=1
  fi
  rm -f "$out"
  if [ "$rc" -eq 0 ] && [ "$ran" -eq 0 ]; then
    echo "wasm-pack test ran no test"
    rc=1
  fi
  return "$rc"
}

export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}"

# One cargo build at a time: these run one after the other.
run native cargo test -p aadauth-wasm
run node wasm_pack_test node --node
if [ "$chrome" = 1 ]; then
  # wasm-pack would download a chromedriver otherwise; Chrome's flags are in wasm/webdriver.json.
  export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
  run chrome wasm_pack_test chrome --headless --chrome
fi
run imports node tests/node/check-imports.mjs
run dts node tests/node/check-dts.mjs
run pkg-vectors node tests/node/vectors.mjs
run classes node tests/node/classes.mjs
run readme node tests/node/readme-example.mjs

if [ "$failed" -gt 0 ]; then
  log "failed: ${failures[*]}"
fi
echo "wasm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
