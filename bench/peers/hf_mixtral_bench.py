#!/usr/bin/env python3
"""The peer Grove's GPU targets are judged against: Hugging Face transformers' Mixtral in PyTorch, on the shapes of
bench/train_step_bench and bench/moe_block_bench, on the same GPU in the same run (bench/run-all.sh).

Training step: MixtralForCausalLM, d 768, 12 layers, 12 heads, expert FFN 2048, top-2, vocab 32000, batch 16 x 1024,
16 and 64 experts; fp32 master weights under bf16 autocast, SDPA attention, cross-entropy + the router's
load-balancing loss (output_router_logits), clip_grad_norm_, torch.optim.AdamW(fused=True) — each experts backend
transformers offers for training ("eager": a loop over the experts hit; "grouped_mm": torch._grouped_mm).
MoE block: the model's sparse MoE block alone, forward + backward on 16,384 tokens, parameters and activations in
bf16 (its fastest setting), for the OLMoE shape (d 2048, f 1024, 64 experts, top-8) and Mixtral-small
(d 1024, f 3584, 8 experts, top-2).
Timing: CUDA events around each step, median after warm-up; peak memory from torch.cuda.max_memory_allocated().
FLOPs are counted as bench/flop_count.h counts them (bench/README.md). Writes a TSV for bench/side_by_side.py.

usage: hf_mixtral_bench.py [--tsv FILE] [--experts 16,64] [--backends eager,grouped_mm] [--steps 8] [--warmup 3]
                           [--blocks olmoe,mixtral-small] [--skip-step] [--skip-block]
"""
import argparse
import gc
import statistics
import sys
import traceback

import torch
import torch.nn.functional as F
import transformers
from transformers import MixtralConfig, MixtralForCausalLM

MATMUL_CEILING_TFLOPS = 741.0
STEP = dict(vocab=32000, d=768, layers=12, heads=12, f=2048, top_k=2, batch=16, seq=1024)
BLOCKS = {"olmoe": dict(d=2048, f=1024, experts=64, top_k=8), "mixtral-small": dict(d=1024, f=3584, experts=8, top_k=2)}
BLOCK_TOKENS = 16384


def training_flops_per_token(experts):
    s = STEP
    head_dim = s["d"] // s["heads"]
    attention = 4 * s["heads"] * head_dim * s["d"]
    per_layer = attention + experts * s["d"] + s["top_k"] * 3 * s["d"] * s["f"]
    matmul_params = s["layers"] * per_layer + s["vocab"] * s["d"]
    return 6.0 * matmul_params + 6.0 * s["layers"] * s["seq"] * s["d"]


def set_experts_backend(module_or_model, config, backend):
    """Selects transformers' experts implementation; returns the one the model reports afterwards."""
    if hasattr(module_or_model, "set_experts_implementation"):
        module_or_model.set_experts_implementation(backend)
    else:
        config._experts_implementation = backend
    return getattr(config, "_experts_implementation", "unknown")


def step_config(experts):
    s = STEP
    return MixtralConfig(vocab_size=s["vocab"], hidden_size=s["d"], intermediate_size=s["f"],
                         num_hidden_layers=s["layers"], num_attention_heads=s["heads"], num_key_value_heads=s["heads"],
                         num_local_experts=experts, num_experts_per_tok=s["top_k"], max_position_embeddings=s["seq"],
                         sliding_window=None, router_aux_loss_coef=0.01, output_router_logits=True,
                         router_jitter_noise=0.0, tie_word_embeddings=False, attn_implementation="sdpa")


def time_steps(step, warmup, steps):
    samples = []
    for i in range(warmup + steps):
        if i == warmup:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step(i)
        stop.record()
        stop.synchronize()
        if i >= warmup:
            samples.append(start.elapsed_time(stop))
    return statistics.median(samples), min(samples), torch.cuda.max_memory_allocated() / 2**30


def bench_step(experts, backend, warmup, steps):
    s = STEP
    torch.manual_seed(0)
    with torch.device("cuda"):
        config = step_config(experts)
        model = MixtralForCausalLM(config)
    actual = set_experts_backend(model, model.config, backend)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01,
                                  fused=True)
    generator = torch.Generator(device="cuda").manual_seed(23)
    batches = [torch.randint(s["vocab"], (s["batch"], s["seq"] + 1), device="cuda", generator=generator)
               for _ in range(4)]

    def step(i):
        tokens = batches[i % len(batches)]
        inputs, targets = tokens[:, :-1], tokens[:, 1:]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = model(input_ids=inputs, output_router_logits=True, use_cache=False)
            loss = F.cross_entropy(out.logits.float().reshape(-1, s["vocab"]), targets.reshape(-1))
            loss = loss + config.router_aux_loss_coef * out.aux_loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    median_ms, min_ms, peak_gib = time_steps(step, warmup, steps)
    tokens_per_s = s["batch"] * s["seq"] / (median_ms / 1e3)
    tflops = training_flops_per_token(experts) * tokens_per_s / 1e12
    del model, optimizer, batches
    return dict(kind="step", name=f"e{experts}", backend=backend, actual=actual, median_ms=median_ms, min_ms=min_ms,
                tokens_per_s=tokens_per_s, tflops=tflops, mfu=tflops / MATMUL_CEILING_TFLOPS, peak_gib=peak_gib)


def find_moe_block(layer):
    for name in ("mlp", "block_sparse_moe"):
        block = getattr(layer, name, None)
        if block is not None and hasattr(block, "experts"):
            return block
    raise RuntimeError("no sparse MoE block found in the Mixtral decoder layer")


def bench_block(name, backend, warmup, steps):
    shape = BLOCKS[name]
    torch.manual_seed(0)
    with torch.device("cuda"):
        config = MixtralConfig(vocab_size=128, hidden_size=shape["d"], intermediate_size=shape["f"],
                               num_hidden_layers=1, num_attention_heads=16, num_key_value_heads=16,
                               num_local_experts=shape["experts"], num_experts_per_tok=shape["top_k"],
                               router_jitter_noise=0.0)
        model = MixtralForCausalLM(config)
    actual = set_experts_backend(model, model.config, backend)
    block = find_moe_block(model.model.layers[0]).to(torch.bfloat16)
    block.train()
    with torch.no_grad():
        for pname, p in block.named_parameters():
            p.normal_(0.0, 0.5 if pname.startswith("gate") else 0.02)
    generator = torch.Generator(device="cuda").manual_seed(1)
    x = torch.randn(1, BLOCK_TOKENS, shape["d"], device="cuda", dtype=torch.bfloat16, generator=generator)
    x.requires_grad_(True)
    upstream = torch.randn(1, BLOCK_TOKENS, shape["d"], device="cuda", generator=generator)

    def step(_):
        block.zero_grad(set_to_none=True)
        x.grad = None
        y = block(x)
        if isinstance(y, tuple):
            y = y[0]
        (y.float() * upstream).sum().backward()

    median_ms, min_ms, peak_gib = time_steps(step, warmup, steps)
    flops = 18.0 * BLOCK_TOKENS * shape["top_k"] * shape["d"] * shape["f"]
    tflops = flops / (median_ms / 1e3) / 1e12
    del model, block, x
    return dict(kind="block", name=name, backend=backend, actual=actual, median_ms=median_ms, min_ms=min_ms,
                tokens_per_s=BLOCK_TOKENS / (median_ms / 1e3), tflops=tflops, mfu=tflops / MATMUL_CEILING_TFLOPS,
                peak_gib=peak_gib)


def release():
    gc.collect()
    torch.cuda.empty_cache()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsv", help="write the rows as tab-separated values to this file")
    parser.add_argument("--experts", default="16,64")
    parser.add_argument("--backends", default="eager,grouped_mm")
    parser.add_argument("--blocks", default="olmoe,mixtral-small")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--skip-step", action="store_true")
    parser.add_argument("--skip-block", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("hf_mixtral_bench: needs a CUDA device", file=sys.stderr)
        return 2
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.cuda.get_device_name()}")
    jobs = []
    if not args.skip_step:
        jobs += [(bench_step, int(e), b, args.warmup, args.steps) for e in args.experts.split(",")
                 for b in args.backends.split(",")]
    if not args.skip_block:
        jobs += [(bench_block, n, b, args.warmup, max(args.steps, 10)) for n in args.blocks.split(",")
                 for b in args.backends.split(",")]
    rows = []
    header = f"{'kind':<6} {'case':<14} {'backend':<11} {'median ms':>10} {'tokens/s':>11} {'TFLOP/s':>8} {'MFU':>6} {'peak GiB':>9}"
    print(header)
    for function, what, backend, warmup, steps in jobs:
        try:
            row = function(what, backend, warmup, steps)
            row["status"] = "ok" if row["actual"] in (backend, "unknown") else f"backend reported {row['actual']}"
        except Exception as error:  # a peer configuration that fails (OOM, missing kernel) is reported, not fatal
            traceback.print_exc()
            kind = "step" if function is bench_step else "block"
            name = f"e{what}" if kind == "step" else what
            row = dict(kind=kind, name=name, backend=backend, actual="", median_ms=float("nan"), min_ms=float("nan"),
                       tokens_per_s=float("nan"), tflops=float("nan"), mfu=float("nan"), peak_gib=float("nan"),
                       status=f"error: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
        release()
        rows.append(row)
        print(f"{row['kind']:<6} {row['name']:<14} {row['backend']:<11} {row['median_ms']:>10.2f} "
              f"{row['tokens_per_s']:>11.0f} {row['tflops']:>8.1f} {100 * row['mfu']:>5.1f}% {row['peak_gib']:>9.2f}"
              f"  {row['status']}", flush=True)
    if args.tsv:
        with open(args.tsv, "w") as out:
            out.write("kind\tcase\tbackend\tmedian_ms\tmin_ms\ttokens_per_s\ttflops\tmfu\tpeak_gib\tstatus\n")
            for r in rows:
                out.write(f"{r['kind']}\t{r['name']}\t{r['backend']}\t{r['median_ms']:.3f}\t{r['min_ms']:.3f}\t"
                          f"{r['tokens_per_s']:.0f}\t{r['tflops']:.1f}\t{r['mfu']:.4f}\t{r['peak_gib']:.2f}\t"
                          f"{r['status']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
