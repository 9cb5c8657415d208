# Sourced by bench/run-all.sh and bench/sustained-block.sh (not run on its own): runs benchmark phases with a log,
# notes each phase's start and end in RESULTS/phases.tsv, and samples the GPU's SM clock, power draw and
# clock-limiting reasons every 200 ms into RESULTS/clocks.csv while they run. Under a sustained GEMM load an H200
# reaches its 700 W cap and lowers its clock, so a faster program is timed at a lower clock than a slower one
# (docs/PERFORMANCE.md); bench/gpu_clocks.py summarises the log per phase.
# Callers set `results` (the folder) and `status` (0), then call phase_log_start; `run` sets status to 1 when a
# phase fails, and phase_log_stop ends the sampling (an EXIT trap ends it too).

# Both sides in UTC, so that a phase and the samples inside it agree across a daylight-saving change.
phase_stamp() { TZ=UTC date '+%Y/%m/%d %H:%M:%S.%3N'; }  # the form of nvidia-smi's timestamps

phase_log_start() {
  printf 'phase\tstart\tend\n' > "$results/phases.tsv"
  rm -f "$results/clocks.csv"
  clock_logger=""
  command -v nvidia-smi > /dev/null || return 0
  nvidia-smi -L > /dev/null 2>&1 || { echo "phase-log: nvidia-smi cannot reach a GPU; no clock log"; return 0; }
  # The GPU the benchmarks run on: CUDA's first visible device (an index or a UUID), else the first GPU.
  local gpu=${CUDA_VISIBLE_DEVICES:-0}
  gpu=${gpu%%,*}
  local reasons=clocks_event_reasons.active  # older drivers call it clocks_throttle_reasons.active
  nvidia-smi -i "$gpu" --query-gpu=$reasons --format=csv,noheader > /dev/null 2>&1 ||
    reasons=clocks_throttle_reasons.active
  local power=power.draw.instant  # power.draw is a one-second average on newer drivers, hiding a pass's peak
  nvidia-smi -i "$gpu" --query-gpu=$power --format=csv,noheader > /dev/null 2>&1 || power=power.draw
  TZ=UTC nvidia-smi -i "$gpu" --query-gpu=timestamp,clocks.sm,clocks.mem,$power,power.limit,temperature.gpu,$reasons \
    --format=csv,nounits -lms 200 > "$results/clocks.csv" 2> /dev/null &
  clock_logger=$!
  trap phase_log_stop EXIT
}

phase_log_stop() {
  [[ -n ${clock_logger:-} ]] || return 0
  kill "$clock_logger" 2> /dev/null
  wait "$clock_logger" 2> /dev/null
  clock_logger=""
}

run() {  # run NAME COMMAND...: log to RESULTS/NAME.log, keep going on failure, remember it, note its times
  local name=$1; shift
  echo "== $name: $*"
  local start; start=$(phase_stamp)
  "$@" 2>&1 | tee "$results/$name.log"
  local rc=${PIPESTATUS[0]}
  printf '%s\t%s\t%s\n' "$name" "$start" "$(phase_stamp)" >> "$results/phases.tsv"
  if [[ $rc -ne 0 ]]; then echo "== $name failed (exit $rc)"; status=1; fi
}
