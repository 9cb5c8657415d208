#!/usr/bin/env bash
# Build, test and benchmark Grove on the GPU machine (torch wheel's LibTorch, CUDA, the SQLite sysroot copied along),
# as docs/GPU.md describes. Usage: scripts/gpu.sh probe|build|test|bench|all [extra args]
#   probe  print what the machine has (GPU, torch, dev packages) without building
#   build  configure and build into build-gpu/ (Release, CUDA arch 90, ninja -j16)
#   test   build, then run the whole ctest suite, gpu-labelled tests included
#   bench  build, then run the benchmarks in bench/ and their peers (see bench/README.md)
#   all    build, ctest, the Hugging Face interop check, the benchmarks, then Kineto traces of the e16 step and the
#          MoE blocks (build-gpu/results/trace/*.trace.{json.gz,md}); each step's log goes to
#          RESULTS_DIR (first argument, default build-gpu/results) and a failing step does not stop the next
# The sysroot comes from `bash scripts/make-device-sysroot.sh` on the Debian machine (git-ignored: copy it along with
# the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-test}
shift || true

BUILD_DIR=${GROVE_GPU_BUILD_DIR:-build-gpu}
SYSROOT=$PWD/.device-sysroot/usr
export LD_LIBRARY_PATH=$SYSROOT/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PKG_CONFIG_PATH=${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$SYSROOT/lib/x86_64-linux-gnu/pkgconfig
# NVLink multicast stays off (shared hosts); harmless on one GPU.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

torch_prefix() { python3 -c 'import torch;print(torch.utils.cmake_prefix_path)'; }

probe() {
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
  g++ --version | head -1; cmake --version | head -1; nvcc --version | tail -1
  for h in sqlite3.h xxhash.h zstd.h zlib.h yaml-cpp/yaml.h fmt/format.h CLI/CLI.hpp nlohmann/json.hpp \
           sentencepiece_processor.h gtest/gtest.h benchmark/benchmark.h; do
    found=$(ls /usr/include/$h /usr/local/include/$h "$SYSROOT/include/$h" 2>/dev/null | head -1 || true)
    echo "header $h: ${found:-MISSING}"
  done
  for pc in libxxhash libzstd zlib sentencepiece sqlite3 yaml-cpp; do
    echo "pkg-config $pc: $(pkg-config --modversion $pc 2>/dev/null || echo MISSING)"
  done
}

# The tests read the Debian corpora at their Debian paths; the GPU machine has none, so the copies the sysroot carries
# (scripts/make-device-sysroot.sh) are put there when missing. Nothing is overwritten.
install_corpora() {
  local from=$PWD/.device-sysroot/corpora
  [[ -d $from/usr/share ]] || { echo "no carried corpora ($from); corpus tests will skip"; return 0; }
  [[ -d /usr/share/games/fortunes/ru && -d /usr/share/doc/python3.11/html/_sources ]] && return 0
  cp -rn "$from/usr/share/." /usr/share/ && echo "corpora installed from $from"
}

build() {
  local tp; tp=$(torch_prefix)
  # nvcc for Grove's own kernels (model/expert_kernels.cu), also when /usr/local/cuda/bin is not on PATH.
  export CUDACXX=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$tp;$SYSROOT" -DCMAKE_CUDA_ARCHITECTURES=90 -DGROVE_FMT_HEADER_ONLY=ON "$@"
  cmake --build "$BUILD_DIR" -j16
}

# Kineto traces of three e16 training steps and of three passes of each MoE block row, and their breakdowns by
# phase, operator and kernel (bench/README.md).
trace_step() {
  local dir=$1
  "$BUILD_DIR/bench/train_step_bench" --cases e16 --warmup 2 --iters 3 --trace "$dir"
  "$BUILD_DIR/bench/moe_block_bench" --warmup 2 --iters 3 --launch eager --trace "$dir"
  for f in "$dir"/*.trace.json; do
    python3 bench/trace_summary.py "$f" --top 40 > "${f%.json}.md"
    head -n 12 "${f%.json}.md"
    gzip -f "$f"
  done
}

case "$action" in
  probe) probe ;;
  build) build "$@" ;;
  test)
    build
    install_corpora
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j8 "$@"
    ;;
  bench)
    build
    if [[ -x bench/run-all.sh ]]; then bench/run-all.sh "$BUILD_DIR" "$@"; else echo "no benchmarks yet"; fi
    ;;
  all)
    results=${1:-$BUILD_DIR/results}
    mkdir -p "$results"
    status=0
    step() {  # step NAME COMMAND...: run, log to RESULTS_DIR/NAME.log, remember a failure and go on
      local name=$1; shift
      echo "== $name"
      if "$@" >"$results/$name.log" 2>&1; then echo "== $name: ok"; else echo "== $name: FAILED"; status=1; fi
      tail -n 25 "$results/$name.log"
    }
    step probe probe
    step build build || true
    if [[ -x $BUILD_DIR/grove ]]; then
      install_corpora
      step ctest ctest --test-dir "$BUILD_DIR" --output-on-failure -j8
      step interop bash tests/interop/run.sh "$BUILD_DIR"
      step bench bench/run-all.sh "$BUILD_DIR" "$results/bench"
      step trace trace_step "$results/trace"
    fi
    exit $status
    ;;
  *) echo "usage: scripts/gpu.sh probe|build|test|bench|all" >&2; exit 2 ;;
esac
