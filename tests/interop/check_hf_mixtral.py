#!/usr/bin/env python3
"""Loads a Grove export with transformers' MixtralForCausalLM and compares its logits with Grove's.

Usage: check_hf_mixtral.py DIR   (DIR as written by grove_interop_export: DIR/hf/ and DIR/reference.safetensors)
Prints the numbers; exits 1 when a tensor was missing or unexpected on load, or when the maximum relative
difference max|hf - grove| / max|grove| exceeds 1e-4 (fp32, CPU, eager attention).
"""
import json
import sys

import torch
from safetensors.torch import load_file
import transformers
from transformers import MixtralForCausalLM

TOLERANCE = 1e-4


def load(folder):
    kwargs = dict(attn_implementation="eager", output_loading_info=True)
    try:
        return MixtralForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs)
    except TypeError:  # transformers < 4.56 spells it torch_dtype
        return MixtralForCausalLM.from_pretrained(folder, torch_dtype=torch.float32, **kwargs)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    reference = load_file(f"{root}/reference.safetensors")
    tokens, expected = reference["tokens"], reference["logits"]
    model, info = load(f"{root}/hf")
    model.eval()
    problems = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    with open(f"{root}/hf/config.json") as f:
        config = json.load(f)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; "
          f"{config['num_hidden_layers']} layers x {config['num_local_experts']} experts, "
          f"top-{config['num_experts_per_tok']}, kv heads {config['num_key_value_heads']}, "
          f"tied {config['tie_word_embeddings']}")
    if problems:
        print(f"FAIL: loading reported {problems}")
        return 1
    with torch.no_grad():
        logits = model(input_ids=tokens).logits.float()
    if logits.shape != expected.shape:
        print(f"FAIL: logits shape {tuple(logits.shape)} != Grove's {tuple(expected.shape)}")
        return 1
    max_abs = (logits - expected).abs().max().item()
    scale = expected.abs().max().item()
    relative = max_abs / scale
    agree = (logits.argmax(-1) == expected.argmax(-1)).float().mean().item()
    print(f"logits {tuple(expected.shape)}: max |hf - grove| = {max_abs:.3e}, max |grove| = {scale:.3e}, "
          f"max relative difference = {relative:.3e} (limit {TOLERANCE:.0e}); argmax agreement {agree:.4f}")
    try:  # the tokenizer files should load too (needs sentencepiece/protobuf in the Python environment)
        tokenizer = transformers.AutoTokenizer.from_pretrained(f"{root}/hf")
        print(f"tokenizer: {type(tokenizer).__name__}, {len(tokenizer)} tokens, "
              f"'Hello world' -> {tokenizer('Hello world')['input_ids']}")
    except Exception as error:  # informative only; logits are the acceptance criterion
        print(f"tokenizer: not loaded ({type(error).__name__}: {error})")
    if not relative <= TOLERANCE:
        print("FAIL: logits differ beyond the tolerance")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
