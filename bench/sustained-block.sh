#!/usr/bin/env bash
# The MoE block under sustained load: Grove's bf16 block (moe_block_bench, launched eagerly and replayed) and the
# Hugging Face peer's fastest backend (grouped_mm), alternated ROUNDS times at PASSES timed passes each, one shape at a
# time, REST seconds of idle before each, then the block's seven grouped GEMMs alone for 4 s as one CUDA graph
# (grouped_gemm_ceiling.py --sustain), with the GPU's clock and power log (bench/phase-log.sh). run-all.sh times
# 10 passes after 3 warm-ups; this shows what a longer run does to each side's time and clock.
# usage: bench/sustained-block.sh BUILD_DIR RESULTS_DIR [PASSES (200)] [ROUNDS (2)] [REST (5)]
# BUILD_DIR and RESULTS_DIR are taken from the repository root. RESULTS_DIR receives each phase's log and TSV,
# clocks.csv, phases.tsv and sustained_block.md (the table printed at the end). Needs a CUDA build of
# moe_block_bench and torch with transformers for the peer.
set -uo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/sustained-block.sh BUILD_DIR RESULTS_DIR [PASSES (200)] [ROUNDS (2)] [REST (5)]"
if [[ $# -lt 2 || $# -gt 5 ]]; then echo "$usage" >&2; exit 2; fi
build=$1
results=$2
passes=${3:-200}
rounds=${4:-2}
rest=${5:-5}
check_number() {  # check_number NAME VALUE MINIMUM
  if ! [[ $2 =~ ^[0-9]+$ ]] || (( 10#$2 < $3 )); then
    echo "sustained-block.sh: $1 must be a whole number >= $3, got '$2'" >&2; echo "$usage" >&2; exit 2
  fi
}
check_number PASSES "$passes" 1
check_number ROUNDS "$rounds" 1
check_number REST "$rest" 0
passes=$((10#$passes)) rounds=$((10#$rounds)) rest=$((10#$rest))  # "08" is 8, not an octal error
if [[ ! -x $build/bench/moe_block_bench ]]; then
  echo "sustained-block.sh: no $build/bench/moe_block_bench (build the bench targets first)" >&2; exit 2
fi
mkdir -p "$results"
rm -f "$results"/grove-*.tsv "$results"/hf-*.tsv "$results"/gemms-*.log  # no earlier run's rows in this table
status=0
source bench/phase-log.sh
phase_log_start

for shape in olmoe mixtral-small; do
  for round in $(seq 1 "$rounds"); do
    sleep "$rest"
    run "grove-$shape-$round" "$build/bench/moe_block_bench" --shapes "$shape" --params bf16 --launch eager,graph \
      --iters "$passes" --tsv "$results/grove-$shape-$round.tsv"
    sleep "$rest"
    run "hf-$shape-$round" python3 bench/peers/hf_mixtral_bench.py --skip-step --blocks "$shape" \
      --backends grouped_mm --steps "$passes" --tsv "$results/hf-$shape-$round.tsv"
  done
  # The block's seven GEMMs alone for 4 s, about as long as a Grove phase keeps the card loaded: what any block
  # built on these GEMMs takes at the cap.
  sleep "$rest"
  run "gemms-$shape" python3 bench/grouped_gemm_ceiling.py --shapes "$shape" --sustain 4
done
phase_log_stop

{
  echo "## The bf16 block at $passes passes, $rounds rounds alternated"
  echo
  echo "| phase | launch | median ms | fastest ms |"
  echo "|---|---|---:|---:|"
  for shape in olmoe mixtral-small; do
    for round in $(seq 1 "$rounds"); do
      # moe_block_bench: shape … launch(9) backend(10) median_ms(11) min_ms(12); the peer: kind case backend(3)
      # median_ms(4) min_ms(5)
      [[ -s $results/grove-$shape-$round.tsv ]] && tail -n +2 "$results/grove-$shape-$round.tsv" |
        awk -F'\t' -v p="grove-$shape-$round" '{ printf "| %s | %s | %.3f | %.3f |\n", p, $9, $11, $12 }'
      [[ -s $results/hf-$shape-$round.tsv ]] && tail -n +2 "$results/hf-$shape-$round.tsv" |
        awk -F'\t' -v p="hf-$shape-$round" '{ printf "| %s | %s | %.3f | %.3f |\n", p, $3, $4, $5 }'
    done
  done
  echo
  for shape in olmoe mixtral-small; do
    [[ -s $results/gemms-$shape.log ]] && sed -n '/^| shape/,$p' "$results/gemms-$shape.log" && echo
  done
  python3 bench/gpu_clocks.py "$results"
} | tee "$results/sustained_block.md"
exit $status
