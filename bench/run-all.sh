#!/usr/bin/env bash
# Runs Grove's GPU benchmarks and the Hugging Face peer in one go on one GPU and prints the side-by-side table
# (bench/README.md). Called by `scripts/gpu.sh bench` after the build: bench/run-all.sh BUILD_DIR [RESULTS_DIR]
# RESULTS_DIR (default BUILD_DIR/bench-results) receives the TSVs, the logs and side_by_side.md.
# Grove runs first, the peer in its own process afterwards, so neither sees the other's memory.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/run-all.sh BUILD_DIR [RESULTS_DIR]}
results=${2:-$build/bench-results}
mkdir -p "$results"
status=0

run() {  # run NAME COMMAND...: log to RESULTS_DIR/NAME.log, keep going on failure, remember it
  local name=$1; shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$results/$name.log"
  local rc=${PIPESTATUS[0]}
  if [[ $rc -ne 0 ]]; then echo "== $name failed (exit $rc)"; status=1; fi
}

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader || true
git log -1 --format='commit %h (%cs)' 2>/dev/null || true
run grove_block "$build/bench/moe_block_bench" --check --tsv "$results/grove_block.tsv"
run grove_step "$build/bench/train_step_bench" --tsv "$results/grove_step.tsv"
run gemm_ceiling python3 bench/grouped_gemm_ceiling.py --tsv "$results/gemm_ceiling.tsv"
run hf python3 bench/peers/hf_mixtral_bench.py --tsv "$results/hf.tsv"
python3 bench/side_by_side.py "$results" | tee "$results/side_by_side.md"
exit $status
