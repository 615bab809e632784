#!/usr/bin/env bash
# Builds what is needed and serves the role tester page, with the demo preloaded, on
# http://127.0.0.1:8080 (PORT=… to change). Installs what it needs (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8080}"
if [ -f www/index.html ] && [ -x scripts/build-wasm.sh ]; then
  scripts/build-wasm.sh >&2
  cargo build -q --release -p aadauth-cli
  exec target/release/aadauth serve --dir www --host 127.0.0.1 --port "$PORT"
else
  cargo build -q --release -p aadauth-cli
  exec target/release/aadauth demo "$@"
fi
