#!/usr/bin/env python3
"""How fast the MoE block's seven expert GEMMs can run on this GPU, each on its own.

Times every grouped GEMM of the MoE block's forward + backward (model/expert_dispatch.cpp) exactly as Grove calls
it, through torch._grouped_mm with Grove's operand layouts and with expert row counts from a seeded top-k routing,
and beside each one a plain torch.mm with the same FLOPs (the rows of all experts as one matrix). Also the bf16
8192^3 matmul, the card's ceiling (docs/GPU.md). The difference between the grouped and the dense column is
what grouping costs in the GEMM library itself, which no change in Grove's own kernels can recover.

    python3 bench/grouped_gemm_ceiling.py [--shapes olmoe,mixtral-small] [--tokens 16384] [--iters 10] [--tsv FILE]
    python3 bench/grouped_gemm_ceiling.py --sustain SECONDS [--shapes ...]   (the seven as one graph, sustained)

Needs CUDA and torch >= 2.8 (torch._grouped_mm). Run by bench/run-all.sh; see docs/PERFORMANCE.md.
"""
import argparse
import statistics
import sys
import time

SHAPES = {  # name: (d, f, experts, top_k), as bench/moe_block_bench.cpp
    "olmoe": (2048, 1024, 64, 8),
    "mixtral-small": (1024, 3584, 8, 2),
}


def block_gemms(d, f, tokens, top_k):
    """The block's expert GEMMs as (name, kind, M, K, N): kind 'rows' groups the rows of an [M, K] x [K, N] product
    by expert; 'weight' is a weight gradient, [N, M] x [M, K] per expert with the M rows grouped. M = tokens * top_k."""
    m = tokens * top_k
    return [
        ("forward h13 = a W13^T", "rows", m, d, 2 * f),
        ("forward y = u W2^T", "rows", m, f, d),
        ("backward du = dy W2", "rows", m, d, f),
        ("backward da = dh13 W13", "rows", m, 2 * f, d),
        ("backward dW1 = dh1^T a", "weight", m, d, f),
        ("backward dW3 = dh3^T a", "weight", m, d, f),
        ("backward dW2 = dy^T u", "weight", m, f, d),
    ]


def flops(m, k, n):
    return 2.0 * m * k * n


def timed_ms(torch, fn):
    """One call of `fn` (a launch, or a graph's replay), timed with CUDA events and waited for."""
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    begin.record()
    fn()
    end.record()
    end.synchronize()
    return begin.elapsed_time(end)


def median_ms(torch, fn, warmup, iters):
    for _ in range(warmup):
        fn()
    return statistics.median(timed_ms(torch, fn) for _ in range(iters))


def expert_ends(torch, tokens, experts, top_k, seed):
    """Cumulative row ends per expert (int32) of a seeded top-k routing, as the router's counts give them."""
    generator = torch.Generator(device="cuda").manual_seed(seed)
    logits = torch.randn(tokens, experts, device="cuda", generator=generator)
    counts = torch.bincount(logits.topk(top_k, dim=1).indices.reshape(-1), minlength=experts)
    return counts.cumsum(0).to(torch.int32)


def shape_gemms(torch, name, tokens):
    """The shape's seven GEMMs as (gemm, M, K, N, grouped, dense): closures over random operands."""
    d, f, experts, top_k = SHAPES[name]
    ends = expert_ends(torch, tokens, experts, top_k, seed=7)
    bf16 = dict(device="cuda", dtype=torch.bfloat16)
    gemms = []
    for gemm, kind, m, k, n in block_gemms(d, f, tokens, top_k):
        if kind == "rows":
            # Grove: at::_grouped_mm(x [M, K], W.transpose(1, 2)) with W stacked [E, N, K] (or W itself, [E, K, N]).
            x = torch.randn(m, k, **bf16)
            w = torch.randn(experts, n, k, **bf16).transpose(1, 2) if gemm.startswith("forward") else \
                torch.randn(experts, k, n, **bf16)
            grouped = lambda x=x, w=w: torch._grouped_mm(x, w, offs=ends)
            dense_w = torch.randn(k, n, **bf16)
            dense = lambda x=x, w=dense_w: torch.mm(x, w)
        else:
            # Grove: at::_grouped_mm(g.t(), x.contiguous()) with g [M, N] (dh1 and dh3 strided halves of dh13).
            g = torch.randn(m, 2 * n, **bf16)[:, :n] if "dW1" in gemm or "dW3" in gemm else torch.randn(m, n, **bf16)
            x = torch.randn(m, k, **bf16)
            grouped = lambda g=g, x=x: torch._grouped_mm(g.t(), x, offs=ends)
            dense = lambda g=g, x=x: torch.mm(g.t(), x)
        gemms.append((gemm, m, k, n, grouped, dense))
    return gemms


def time_shape(torch, name, tokens, warmup, iters):
    rows = []
    for gemm, m, k, n, grouped, dense in shape_gemms(torch, name, tokens):
        grouped_ms = median_ms(torch, grouped, warmup, iters)
        dense_ms = median_ms(torch, dense, warmup, iters)
        rows.append((name, gemm, m, k, n, grouped_ms, dense_ms))
    return rows


def captured_graph(torch, work):
    """`work` captured once as a CUDA graph, after three eager runs on a side stream (so that its allocations and the
    GEMM library's workspaces exist before the capture)."""
    warm = torch.cuda.Stream()
    warm.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(warm):
        for _ in range(3):
            work()
    torch.cuda.current_stream().wait_stream(warm)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        work()
    return graph


def sustain_shape(torch, name, tokens, seconds):
    """The seven grouped GEMMs back to back as one CUDA graph, replayed for `seconds`: the median of the first ten
    replays (a cool GPU) and of the last second's. What no implementation of the block using these GEMMs can beat
    once the GPU sits at its power cap (docs/PERFORMANCE.md)."""
    gemms = shape_gemms(torch, name, tokens)
    work = sum(flops(m, k, n) for _, m, k, n, _, _ in gemms)

    def seven():
        for *_, grouped, _ in gemms:
            grouped()
    graph = captured_graph(torch, seven)
    samples = []  # (host seconds since the start, ms)
    start_s = time.monotonic()
    while not samples or samples[-1][0] < seconds:
        ms = timed_ms(torch, graph.replay)
        samples.append((time.monotonic() - start_s, ms))
    first = statistics.median(ms for _, ms in samples[:10])
    last = statistics.median(ms for t, ms in samples if t >= samples[-1][0] - 1.0)
    return name, work, len(samples), first, last


def sustain_table(rows, seconds):
    lines = [f"The seven grouped GEMMs as one CUDA graph, replayed for {seconds:g} s", "",
             "| shape | replays | first ten, median ms | TFLOP/s | last second, median ms | TFLOP/s | last / first |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, work, count, first, last in rows:
        lines.append(f"| {name} | {count} | {first:.3f} | {work / first / 1e9:.1f} | {last:.3f} | "
                     f"{work / last / 1e9:.1f} | {last / first:.3f} |")
    return "\n".join(lines)


def table(rows, ceiling_tflops):
    lines = [f"bf16 8192^3 torch.mm: {ceiling_tflops:.1f} TFLOP/s", "",
             "| shape | GEMM | M x K x N | grouped ms | grouped TFLOP/s | dense ms | dense TFLOP/s | grouped / dense |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for shape in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == shape]
        for _, gemm, m, k, n, g_ms, d_ms in mine:
            work = flops(m, k, n)
            lines.append(f"| {shape} | {gemm} | {m} x {k} x {n} | {g_ms:.3f} | {work / g_ms / 1e9:.1f} | {d_ms:.3f} | "
                         f"{work / d_ms / 1e9:.1f} | {d_ms / g_ms:.2f} |")
        g_total = sum(r[5] for r in mine)
        d_total = sum(r[6] for r in mine)
        work = sum(flops(r[2], r[3], r[4]) for r in mine)
        lines.append(f"| {shape} | all seven | {work / 1e12:.2f} TFLOP | {g_total:.3f} | {work / g_total / 1e9:.1f} | "
                     f"{d_total:.3f} | {work / d_total / 1e9:.1f} | {d_total / g_total:.2f} |")
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="olmoe,mixtral-small")
    parser.add_argument("--tokens", type=int, default=16384)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--tsv", help="also write the rows here")
    parser.add_argument("--sustain", type=float, metavar="SECONDS",
                        help="instead of the per-GEMM table: replay the seven GEMMs as one CUDA graph for SECONDS per "
                             "shape and compare the first ten replays with the last second's (the GPU's power cap); "
                             "--iters, --warmup and --tsv do not apply")
    args = parser.parse_args(argv)
    if args.sustain is not None and not args.sustain >= 1.0:
        parser.error(f"--sustain: expected at least 1 second, got {args.sustain}")
    if args.sustain is not None and args.tsv:
        parser.error("--tsv writes the per-GEMM table, which --sustain does not time; give one or the other")
    shapes = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"--shapes: unknown {', '.join(unknown)} (expected some of {', '.join(SHAPES)})")

    import torch  # only here: the FLOP accounting above is tested without torch
    if not torch.cuda.is_available() or not hasattr(torch, "_grouped_mm"):
        print("grouped_gemm_ceiling: needs CUDA and torch >= 2.8 (torch._grouped_mm)", file=sys.stderr)
        return 2
    if args.sustain is not None:
        rows = [sustain_shape(torch, shape, args.tokens, args.sustain) for shape in shapes]
        print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, {args.tokens} tokens")
        print(sustain_table(rows, args.sustain))
        return 0
    big = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    ceiling = flops(8192, 8192, 8192) / median_ms(torch, lambda: torch.mm(big, big), args.warmup, args.iters) / 1e9
    del big
    rows = []
    for shape in shapes:
        rows += time_shape(torch, shape, args.tokens, args.warmup, args.iters)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, {args.tokens} tokens, median of {args.iters}")
    print(table(rows, ceiling))
    if args.tsv:
        with open(args.tsv, "w") as out:
            out.write("shape\tgemm\tm\tk\tn\tgrouped_ms\tdense_ms\n")
            for r in rows:
                out.write("\t".join(str(v) for v in r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
