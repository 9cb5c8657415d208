#!/usr/bin/env bash
# Runs the embedded demo experiment with the freshly built binary. Usage: scripts/run-demo.sh BUILD_DIR
set -euo pipefail
build_dir=${1:-build}
if ! "$build_dir/grove" --help | grep -qE '^\s+demo\b'; then
  echo "make demo: this grove binary has no demo command; nothing was run." >&2
  exit 1
fi
exec "$build_dir/grove" demo --out demo-out
