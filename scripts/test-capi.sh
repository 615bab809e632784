#!/usr/bin/env bash
# Builds the C ABI (capi/: libaadauth.so, libaadauth.a, include/aadauth.h) and runs every
# test of it:
#
#   rust       cargo test -p aadauth-capi: every vector through the extern "C" functions
#              (identical to evaluate_json), the step API, 8 threads at once, bad arguments,
#              and the header regenerated with the cbindgen library
#   header     the cbindgen CLI regenerates include/aadauth.h: it must equal the checked-in one
#   c          capi/examples/c/demo.c against the cdylib (demo cases, then every vector)
#   c-static   the same program linked with libaadauth.a
#   cxx        the header compiles as C++
#   go         capi/examples/go (cgo, standard library only, no module downloads)
#   python     capi/examples/python/demo.py (ctypes)
#   valgrind   the C demo under valgrind --leak-check=full, 20 rounds of evaluate / decode /
#              step calls and error paths: no error, "definitely lost: 0"
#
# Installs what is missing (idempotent): golang-go, valgrind, gcc (apt), cbindgen (cargo
# install, the version capi/Cargo.toml pins). Exits non-zero when any suite fails; the last
# line reads "capi: N passed, M failed".
#   scripts/test-capi.sh [--no-build]
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
  esac
done

log() { printf '[test-capi] %s\n' "$*" >&2; }

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
  fi
}

# The cbindgen CLI must be the version of the library capi's header test uses.
CBINDGEN_VERSION="$(sed -n 's/^cbindgen = { version = "=\([0-9.]*\)".*/\1/p' capi/Cargo.toml)"
if [ -z "$CBINDGEN_VERSION" ]; then
  log "cannot read the cbindgen version from capi/Cargo.toml"
  exit 1
fi

command -v gcc >/dev/null && command -v g++ >/dev/null || { log "installing gcc"; apt_install gcc g++ libc6-dev; }
command -v go >/dev/null || { log "installing golang-go"; apt_install golang-go; }
command -v valgrind >/dev/null || { log "installing valgrind"; apt_install valgrind; }
command -v python3 >/dev/null || { log "installing python3"; apt_install python3; }
if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]; then
  log "installing cbindgen $CBINDGEN_VERSION"
  cargo install --locked --version "$CBINDGEN_VERSION" cbindgen
fi

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
LIBDIR="$TARGET/release"
OUT="$TARGET/test-capi"
mkdir -p "$OUT"

# One cargo build at a time: these run one after the other.
if [ "$build" = 1 ]; then
  log "cargo build --release -p aadauth-capi"
  cargo build --release -p aadauth-capi || { log "build failed"; echo "capi: 0 passed, 1 failed"; exit 1; }
fi
for f in "$LIBDIR/libaadauth.so" "$LIBDIR/libaadauth.a"; do
  [ -f "$f" ] || { log "missing $f"; echo "capi: 0 passed, 1 failed"; exit 1; }
done

DEMO="demo/demo.json"
[ -f "$DEMO" ] || DEMO="tests/vectors/allowed_vm_system_assigned.json"

passed=0
failed=0
failures=()

# run NAME COMMAND...: runs a suite, its output also in $OUT/NAME.log.
run() {
  local name="$1"
  shift
  log "== $name: $*"
  if "$@" 2>&1 | tee "$OUT/$name.log"; then
    log "== $name: ok"
    passed=$((passed + 1))
  else
    log "== $name: FAILED (log: $OUT/$name.log)"
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

header_check() {
  cbindgen --quiet --config capi/cbindgen.toml --crate aadauth-capi --output "$OUT/aadauth.h" &&
    diff -u capi/include/aadauth.h "$OUT/aadauth.h" &&
    echo "include/aadauth.h is up to date"
}

CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -O2 -Icapi/include)

c_demo() {
  gcc "${CFLAGS[@]}" capi/examples/c/demo.c -L"$LIBDIR" -laadauth -Wl,-rpath,"$LIBDIR" \
    -o "$OUT/demo" || return 1
  "$OUT/demo" "$DEMO" || return 1
  local v n=0
  for v in tests/vectors/*.json; do
    "$OUT/demo" --quiet "$v" >/dev/null || { echo "C demo failed on $v"; return 1; }
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { echo "no vectors"; return 1; }
  echo "C demo: $n vectors ok"
}

c_static() {
  gcc "${CFLAGS[@]}" capi/examples/c/demo.c "$LIBDIR/libaadauth.a" -lpthread -ldl -lm \
    -o "$OUT/demo-static" || return 1
  ! ldd "$OUT/demo-static" | grep -q libaadauth || { echo "linked the shared library"; return 1; }
  "$OUT/demo-static" "$DEMO"
}

cxx_header() {
  printf '#include "aadauth.h"\nint main() { aadauth_free(aadauth_evaluate(nullptr)); return 0; }\n' |
    g++ -std=c++17 -Wall -Wextra -Werror -Icapi/include -x c++ - -L"$LIBDIR" -laadauth \
      -Wl,-rpath,"$LIBDIR" -o "$OUT/cxx" && "$OUT/cxx" && echo "the header compiles as C++"
}

go_demo() {
  (
    cd capi/examples/go || exit 1
    export GOFLAGS=-mod=mod GOPROXY=off
    export CGO_ENABLED=1 CGO_LDFLAGS="-L$LIBDIR -Wl,-rpath,$LIBDIR"
    local unformatted
    unformatted="$(gofmt -l .)"
    [ -z "$unformatted" ] || { echo "gofmt: $unformatted"; exit 1; }
    go vet . && go build -o "$OUT/go-demo" . && "$OUT/go-demo" "$ROOT/$DEMO"
  )
}

python_demo() {
  AADAUTH_LIB="$LIBDIR/libaadauth.so" python3 capi/examples/python/demo.py "$DEMO"
}

valgrind_loop() {
  local log="$OUT/valgrind.txt"
  valgrind --leak-check=full --error-exitcode=1 --log-file="$log" \
    "$OUT/demo" --repeat 20 --quiet "$DEMO" || { cat "$log"; return 1; }
  grep -E 'ERROR SUMMARY|definitely lost|All heap blocks' "$log"
  grep -qE 'definitely lost: 0 bytes|All heap blocks were freed' "$log" ||
    { echo "valgrind reports a leak"; return 1; }
}

run rust cargo test -p aadauth-capi
run header header_check
run c c_demo
run c-static c_static
run cxx cxx_header
run go go_demo
run python python_demo
if [ -x "$OUT/demo" ]; then
  run valgrind valgrind_loop
else
  log "== valgrind: FAILED (no C demo to run)"
  failed=$((failed + 1))
  failures+=(valgrind)
fi

if [ "$failed" -gt 0 ]; then
  log "failed: ${failures[*]}"
fi
echo "capi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
