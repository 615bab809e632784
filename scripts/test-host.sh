#!/usr/bin/env bash
# Tests the native host adapters (aadauth-host) and the network commands of the CLI
# (login / explain / keys) against the local Azure + Vault stand-in on 127.0.0.1, including
# Python's azure-identity fetching a token from the stand-in's IMDS.
# Installs what is missing (idempotent). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*"; }

step "python3 with azure-identity"
if ! command -v python3 >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3 python3-pip >/dev/null
fi
if ! python3 -c "import azure.identity" >/dev/null 2>&1; then
  python3 -m pip --version >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null; }
  python3 -m pip install --quiet --disable-pip-version-check azure-identity 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages azure-identity
fi
python3 -c "import azure.identity; print('azure-identity', azure.identity.__version__)"

# The stand-in listens on 127.0.0.1 only; keep any proxy out of the way.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# The azure-identity test must run, not skip.
export AADAUTH_REQUIRE_AZURE_IDENTITY=1

step "cargo test -p aadauth-host (adapters against the stand-in)"
cargo test -p aadauth-host

step "cargo test -p aadauth-cli --test live (login / explain / keys end to end)"
cargo test -p aadauth-cli --test live

step "host tests passed"
