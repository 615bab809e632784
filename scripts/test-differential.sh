#!/usr/bin/env bash
# The differential suite of hostile tokens (tests/differential/): aadauth's verdict on each
# case of cases.json against npm `jose` and PyPI `PyJWT`. Fails when aadauth accepts a token
# that a peer refuses, when the control token is refused, or when the disagreements differ
# from tests/differential/REPORT.md.
#
#   scripts/test-differential.sh            # run and compare
#   scripts/test-differential.sh --update   # also rewrite REPORT.md's table from what was
#                                           # observed (new rows say "REASON NEEDED" and keep
#                                           # failing until a reason is written)
#
# Installs what it needs (idempotent): the pinned PyPI packages of
# tests/differential/requirements.txt and the npm packages of tests/differential (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
UPDATE=()
case "${1:-}" in
  --update) UPDATE=(--update) ;;
  "") ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac
D=tests/differential
OUT=target/differential
step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
if ! python3 - "$D/requirements.txt" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
ok = True
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    if "==" in line:
        name, want = line.split("==")
    else:
        name, want = line.split(">=")[0], None
    try:
        have = version(name)
    except PackageNotFoundError:
        ok = False
        continue
    if want and have != want:
        ok = False
sys.exit(0 if ok else 1)
PY
then
  python3 -m pip install --quiet -r "$D/requirements.txt" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages -r "$D/requirements.txt"
fi
if ! (cd "$D" && npm ls --depth=0 >/dev/null 2>&1); then
  (cd "$D" && npm ci --no-audit --no-fund --loglevel=error)
fi

step "cargo build -p aadauth-cli --release"
cargo build -q -p aadauth-cli --release

step "cases.json is what gen.py writes"
mkdir -p "$OUT"
python3 "$D/gen.py" --out "$OUT/cases.json" >/dev/null
if ! cmp -s "$D/cases.json" "$OUT/cases.json"; then
  echo "tests/differential/cases.json is stale: run python3 tests/differential/gen.py" >&2
  exit 1
fi

step "runners"
BASE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_vector"])' "$D/cases.json")
python3 "$D/run_aadauth.py" --cases "$D/cases.json" --bin target/release/aadauth --out "$OUT/aadauth.json"
node "$D/run_jose.mjs" "$D/cases.json" "$BASE" "$OUT/jose.json"
python3 "$D/run_pyjwt.py" "$D/cases.json" "$BASE" "$OUT/pyjwt.json"

step "compare"
python3 "$D/compare.py" --cases "$D/cases.json" --results "$OUT" --report "$D/REPORT.md" \
  --observed target/differential-observed.md "${UPDATE[@]}"
