#!/usr/bin/env bash
# Runs the ctest suite of a configured build, excluding tests labelled `gpu` unless CUDA is usable,
# and ends with one summary line. Usage: scripts/run-tests.sh BUILD_DIR [JOBS] [extra ctest args...]
set -uo pipefail
build_dir=${1:-build}
jobs=${2:-$(nproc)}
shift 2 2>/dev/null || shift $#
exclude=(-LE gpu)
if "$build_dir/grove" --version 2>/dev/null | grep -q '^CUDA available'; then exclude=(); fi
start=$(date +%s)
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "${exclude[@]}" "$@"
status=$?
elapsed=$(( $(date +%s) - start ))
if [[ $status -eq 0 ]]; then
  echo "make test: PASSED in ${elapsed}s (${exclude[*]:-all labels})"
else
  echo "make test: FAILED (ctest exit $status) after ${elapsed}s"
fi
exit $status
