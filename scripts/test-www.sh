#!/usr/bin/env bash
# End-to-end tests of the role tester page (www/) in Debian's chromium. Installs what it
# needs (idempotent): the npm packages of tests/e2e (playwright-core, axe-core; never a
# downloaded browser), chromium from apt when /usr/bin/chromium is missing, the wasm
# package (scripts/build-wasm.sh) and the CLI that serves the page. Exits non-zero when a
# test fails. Screenshots land in tests/e2e/screenshots/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[test-www] %s\n' "$*" >&2; }

command -v node >/dev/null && command -v npm >/dev/null || {
  log "installing node and npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
}

if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

# npm ci when the installed tree does not match the lock file; skipped when it does.
if ! (cd tests/e2e && npm ls --depth=0 >/dev/null 2>&1); then
  log "installing tests/e2e npm packages"
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

if [ -x scripts/build-wasm.sh ]; then
  log "building pkg/ (scripts/build-wasm.sh)"
  scripts/build-wasm.sh
elif [ ! -f pkg/aadauth_wasm.js ]; then
  log "pkg/ is missing and there is no scripts/build-wasm.sh to build it"
  exit 1
fi

log "building the CLI (aadauth serve)"
cargo build -q --release -p aadauth-cli

log "running node --test tests/e2e/"
node --test tests/e2e/
