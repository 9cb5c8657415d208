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
# A program that fails before writing its TSV must not leave an earlier run's in this run's tables.
rm -f "$results"/{grove_block,grove_step,gemm_ceiling,hf_block,hf_step,hf}.tsv
status=0

source bench/phase-log.sh
phase_log_start

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader || true
git log -1 --format='commit %h (%cs)' 2>/dev/null || true
run grove_block "$build/bench/moe_block_bench" --check --tsv "$results/grove_block.tsv"
run grove_step "$build/bench/train_step_bench" --tsv "$results/grove_step.tsv"
run gemm_ceiling python3 bench/grouped_gemm_ceiling.py --tsv "$results/gemm_ceiling.tsv"
# The peer's block and step in two processes, so that each has its own phase in the clock log; one hf.tsv after.
run hf_block python3 bench/peers/hf_mixtral_bench.py --skip-step --tsv "$results/hf_block.tsv"
run hf_step python3 bench/peers/hf_mixtral_bench.py --skip-block --tsv "$results/hf_step.tsv"
rm -f "$results/hf.tsv"
for part in hf_block hf_step; do
  [[ -s $results/$part.tsv ]] || continue
  if [[ -s $results/hf.tsv ]]; then tail -n +2 "$results/$part.tsv" >> "$results/hf.tsv"
  else cp "$results/$part.tsv" "$results/hf.tsv"; fi
done
phase_log_stop
python3 bench/side_by_side.py "$results" | tee "$results/side_by_side.md"
python3 bench/gpu_clocks.py "$results" | tee "$results/gpu_clocks.md"
exit $status
