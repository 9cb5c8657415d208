#!/usr/bin/env bash
# Interoperability check with Hugging Face transformers (on the GPU machine, where transformers is installed):
# builds the export driver in BUILD_DIR (a configured build folder), exports two small grown Grove models
# (GQA + untied, MHA + tied + top-1) and compares transformers' MixtralForCausalLM logits with Grove's in fp32.
# Usage: bash tests/interop/run.sh BUILD_DIR     Exit status 0 only when every variant passes.
set -euo pipefail
build=${1:?usage: bash tests/interop/run.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
sysroot=$root/.device-sysroot/usr/lib/x86_64-linux-gnu
[[ -d $sysroot ]] && export LD_LIBRARY_PATH=$sysroot:${LD_LIBRARY_PATH:-}

cmake --build "$build" --target grove_interop_export grove_test_spm >/dev/null
driver=$build/tests/interop/grove_interop_export
corpus=$(ls "$root"/README.md "$root"/CONTRIBUTING.md "$root"/docs/*.md | paste -sd, -)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# SentencePiece trains in its own process (it cannot share one with LibTorch: tests/model/spm_tool.cpp).
"$build/tests/model/grove_test_spm" train "$corpus" "$work/tokenizer" 512

status=0
for variant in gqa tied; do
  echo "== $variant"
  "$driver" --variant "$variant" --tokenizer "$work/tokenizer.model" --out "$work/$variant"
  python3 "$root/tests/interop/check_hf_mixtral.py" "$work/$variant" || status=1
done
if [[ $status -eq 0 ]]; then echo "interop: PASSED"; else echo "interop: FAILED"; fi
exit $status
