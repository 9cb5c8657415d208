#!/usr/bin/env python3
"""Would a second CUDA stream shorten the MoE block's expert backward? A measurement behind a design choice
(docs/PERFORMANCE.md), not part of run-all.sh.

The expert backward (model/expert_dispatch.cpp, GroupedExperts::backward) runs, on one stream:
  du = dy W2 (GEMM), SwiGLU backward (memory-bound), dW2 = dy^T u (GEMM), da = dh13 W13 (GEMM), the combine of da
  (memory-bound), dW1 and dW3 (GEMMs).
dW2 does not depend on the SwiGLU backward, and dW1/dW3 do not depend on the combine, so each memory-bound kernel
could run on a second stream beside a GEMM. This times both schedules, captured as CUDA graphs, with torch ops of the
same sizes (the SwiGLU backward as one broadcast multiply reading h13 and du and writing dh13, the combine as a sum
over each token's k rows), then the overlapped one again with an SM carve-out for the GEMMs (torch's experimental
_set_sm_carveout_experimental), which leaves SMs free for the second stream.

usage: stream_overlap_probe.py [--shapes olmoe,mixtral-small] [--iters 30] [--repeats 3] [--carveouts 0,8,16,32]
Needs CUDA and torch >= 2.8 (torch._grouped_mm).
"""
import argparse
import sys

# The block's shapes (d, f, experts, top-k), routing and graph timing, shared with the GEMM ceiling script (bench/,
# this script's own folder; it imports torch only when run, so --help needs no torch here either).
from grouped_gemm_ceiling import SHAPES, captured_graph, expert_ends, timed_ms

TOKENS = 16384


def backward_parts(shape, seed):
    """The seven parts of the expert backward as closures over operands of the shape's sizes."""
    d, f, experts, top_k = SHAPES[shape]
    rows = TOKENS * top_k
    generator = torch.Generator(device="cuda").manual_seed(seed)
    bf16 = dict(device="cuda", dtype=torch.bfloat16)

    def normal(*size, scale=1.0):
        return (torch.randn(*size, device="cuda", generator=generator) * scale).to(torch.bfloat16)

    ends = expert_ends(torch, TOKENS, experts, top_k, seed)
    dy, u, h13, a = normal(rows, d), normal(rows, f), normal(rows, 2 * f), normal(rows, d)
    w2, w13 = normal(experts, d, f, scale=0.02), normal(experts, 2 * f, d, scale=0.02)
    dh13 = torch.empty(rows, 2 * f, **bf16)
    out = {}
    mm = lambda x, w: torch._grouped_mm(x, w, offs=ends)

    def du():
        out["du"] = mm(dy, w2)

    def swiglu_backward():
        torch.mul(h13.view(rows, 2, f), out["du"].unsqueeze(1), out=dh13.view(rows, 2, f))

    def dw2():
        out["dw2"] = mm(dy.t(), u)

    def da():
        out["da"] = mm(dh13, w13)

    def combine():
        out["dx"] = out["da"].view(TOKENS, top_k, d).sum(1)

    def dw1():
        out["dw1"] = mm(dh13[:, :f].t(), a)

    def dw3():
        out["dw3"] = mm(dh13[:, f:].t(), a)

    du()
    da()
    return dict(du=du, swiglu_backward=swiglu_backward, dw2=dw2, da=da, combine=combine, dw1=dw1, dw3=dw3)


def one_stream(parts):
    def run():
        for name in ("du", "swiglu_backward", "dw2", "da", "combine", "dw1", "dw3"):
            parts[name]()
    return run


def two_streams(parts, side):
    """The memory-bound kernels on `side`, each beside the GEMM that does not need its result."""
    def run():
        main = torch.cuda.current_stream()
        parts["du"]()
        side.wait_stream(main)
        with torch.cuda.stream(side):
            parts["swiglu_backward"]()
        parts["dw2"]()
        main.wait_stream(side)
        parts["da"]()
        side.wait_stream(main)
        with torch.cuda.stream(side):
            parts["combine"]()
        parts["dw1"]()
        parts["dw3"]()
        main.wait_stream(side)
    return run


def graph_median_ms(work, iters):
    """Median (and fastest) replay of `work` captured as a CUDA graph after three eager warm-ups."""
    graph = captured_graph(torch, work)
    for _ in range(3):
        graph.replay()
    samples = sorted(timed_ms(torch, graph.replay) for _ in range(iters))
    return samples[len(samples) // 2], samples[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3, help="alternations of the two schedules per shape")
    parser.add_argument("--carveouts", default="0,8,16,32", help="SMs kept from the GEMMs in the last table")
    args = parser.parse_args()
    if args.iters < 1 or args.repeats < 1:
        parser.error(f"--iters and --repeats must be at least 1, got {args.iters} and {args.repeats}")
    shapes = args.shapes.split(",")
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown {', '.join(unknown)} in --shapes (known: {', '.join(SHAPES)})")
    try:
        carveouts = [int(c) for c in args.carveouts.split(",")]
    except ValueError:
        parser.error(f"--carveouts: expected comma-separated whole numbers, got {args.carveouts!r}")
    global torch  # imported here, so that --help and argument errors need no torch
    import torch
    if not torch.cuda.is_available() or not hasattr(torch, "_grouped_mm"):
        print("stream_overlap_probe: needs CUDA and torch >= 2.8 (torch._grouped_mm)", file=sys.stderr)
        return 2
    set_carveout = getattr(torch._C, "_set_sm_carveout_experimental", None)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, {TOKENS} tokens, graph replays, "
          f"median of {args.iters}\n")
    print("| shape | repeat | one stream ms | two streams ms | saved ms |")
    print("|---|---:|---:|---:|---:|")
    side = torch.cuda.Stream()
    carve_rows = []
    for shape in shapes:
        parts = backward_parts(shape, seed=1)
        for repeat in range(args.repeats):
            serial, _ = graph_median_ms(one_stream(parts), args.iters)
            overlapped, _ = graph_median_ms(two_streams(parts, side), args.iters)
            print(f"| {shape} | {repeat + 1} | {serial:.3f} | {overlapped:.3f} | {serial - overlapped:+.3f} |")
        if set_carveout is None:
            continue
        for sms in carveouts:
            set_carveout(sms)
            alone, _ = graph_median_ms(parts["dw2"], args.iters)
            overlapped, _ = graph_median_ms(two_streams(parts, side), args.iters)
            carve_rows.append(f"| {shape} | {sms} | {alone:.3f} | {overlapped:.3f} |")
        set_carveout(0)
        del parts
        torch.cuda.empty_cache()
    print()
    if set_carveout is None:
        print("this torch has no torch._C._set_sm_carveout_experimental; no carve-out table")
        return 0
    print("| shape | SMs kept from the GEMMs | dW2 alone ms | two streams ms |")
    print("|---|---:|---:|---:|")
    print("\n".join(carve_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
