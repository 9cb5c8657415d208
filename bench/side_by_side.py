#!/usr/bin/env python3
"""Prints Grove's and the Hugging Face peer's numbers from one bench/run-all.sh run side by side, as Markdown, with
each performance target as a ratio measured in that run (met or not, never hidden).

usage: side_by_side.py RESULTS_DIR   (reads grove_step.tsv, grove_block.tsv, hf.tsv written there by run-all.sh)
"""
import csv
import math
import os
import sys


BLOCK_SHAPES = ("olmoe", "mixtral-small")
# Grove's block rows by parameter precision; the peer's parameters are bf16, so the bf16 row is the like-for-like one.
BLOCK_PARAMS = {"bf16": "bf16 parameters (as the peer's)", "fp32": "fp32 master parameters under autocast"}
BLOCK_LAUNCH = {"eager": "launched eagerly (as the peer)", "graph": "replayed as a CUDA graph"}


def read(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(row, key):
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return float("nan")


def fmt(value, digits=1):
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def verdict(ok):
    return "**met**" if ok else "**not met**"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    results = sys.argv[1]
    step = {r["case"]: r for r in read(os.path.join(results, "grove_step.tsv"))}
    # Rows from before the params and launch columns were all fp32 masters under autocast, launched eagerly.
    block = {(r["shape"], r.get("params") or "fp32", r.get("launch") or "eager"): r
             for r in read(os.path.join(results, "grove_block.tsv"))}
    hf = read(os.path.join(results, "hf.tsv"))

    def block_rows():  # (shape, params, launch) present in this run, in a fixed order
        return [(s, p, l) for s in BLOCK_SHAPES for p in BLOCK_PARAMS for l in BLOCK_LAUNCH if (s, p, l) in block]
    hf_step = {(r["case"], r["backend"]): r for r in hf if r["kind"] == "step"}
    hf_block = {(r["case"], r["backend"]): r for r in hf if r["kind"] == "block"}
    backends = ["eager", "grouped_mm"]

    def hf_best(table, case, key, lower_is_better):
        values = [num(table[(case, b)], key) for b in backends if (case, b) in table]
        values = [v for v in values if not math.isnan(v)]
        if not values:
            return float("nan")
        return min(values) if lower_is_better else max(values)

    print("### Training step (d 768, 12 layers, 12 heads, f 2048, top-2, vocab 32000, batch 16 x 1024)\n")
    print("| case | Grove tokens/s | Grove ms | Grove MFU | Grove peak GiB | Grove optimizer GiB | "
          "HF eager tokens/s | HF grouped_mm tokens/s | HF peak GiB (best) | Grove / HF best |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in ("e16", "e16-graph", "e16-widened", "e64", "e64-aten-adamw", "e64-widened", "grown", "frozen",
                 "e16-growth", "e64-growth"):
        g = step.get(case)
        if g is None:
            continue
        hf_case = case if case in ("e16", "e64") else None  # the peer trains everything
        eager = hf_step.get((hf_case, "eager")) if hf_case else None
        grouped = hf_step.get((hf_case, "grouped_mm")) if hf_case else None
        best = hf_best(hf_step, hf_case, "tokens_per_s", False) if hf_case else float("nan")
        best_peak = hf_best(hf_step, hf_case, "peak_gib", True) if hf_case else float("nan")
        ratio = num(g, "tokens_per_s") / best if best and not math.isnan(best) else float("nan")
        mfu = num(g, "mfu")
        print(f"| {case} ({g['experts']} experts, {g['trainable_experts']} trainable) | {fmt(num(g, 'tokens_per_s'), 0)} "
              f"| {fmt(num(g, 'median_ms'), 2)} | {fmt(100 * mfu) + '%' if mfu > 0 else '—'} | {fmt(num(g, 'peak_gib'), 2)} "
              f"| {fmt(num(g, 'optimizer_gib'), 2)} | {fmt(num(eager, 'tokens_per_s'), 0) if eager else '—'} "
              f"| {fmt(num(grouped, 'tokens_per_s'), 0) if grouped else '—'} | {fmt(best_peak, 2)} | "
              f"{fmt(ratio, 2) + '×' if not math.isnan(ratio) else '—'} |")

    def e16_variant(faster, faster_label, slower, slower_label, what):  # one line: what a variant of e16 buys
        print(f"\n{what} (same run): e16 step {fmt(num(faster, 'median_ms'), 2)} ms {faster_label}, "
              f"{fmt(num(slower, 'median_ms'), 2)} ms {slower_label} "
              f"({fmt(num(slower, 'median_ms') / num(faster, 'median_ms'), 2)}×); peak "
              f"{fmt(num(faster, 'peak_gib'), 2)} vs {fmt(num(slower, 'peak_gib'), 2)} GiB.")

    graph, aten = step.get("e16-graph"), step.get("e16-aten")
    if graph and step.get("e16"):
        e16_variant(graph, "replayed", step["e16"], "launched eagerly",
                    "What replaying the step's forward + loss + backward as a CUDA graph buys (orch::CapturedStep, what "
                    "the trainer does with training.cuda_graphs)")
    if aten and step.get("e16"):
        # Runs with the e64-aten-adamw case have Grove's AdamW kernel, which the switch turns off too.
        adamw = ", Grove's AdamW included" if "e64-aten-adamw" in step else ""
        e16_variant(step["e16"], "with them", aten, "with the ATen formulation",
                    "What Grove's fused CUDA kernels buy (every kernel GROVE_FUSED_KERNELS=0 switches off"
                    f"{adamw}; docs/MODEL.md lists them)")
    aten_adamw = step.get("e64-aten-adamw")
    if aten_adamw and step.get("e64"):
        e64_row = step["e64"]
        optimizer_ms = [num(r, "median_ms") - num(r, "fwd_bwd_ms") for r in (e64_row, aten_adamw)]
        print(f"\nWhat Grove's one-launch AdamW kernel buys over ATen's _fused_adamw_ at 64 experts, where the optimizer "
              f"costs most (same run): e64 step {fmt(num(e64_row, 'median_ms'), 2)} vs "
              f"{fmt(num(aten_adamw, 'median_ms'), 2)} ms; optimizer (step less forward + backward) "
              f"{fmt(optimizer_ms[0], 2)} vs {fmt(optimizer_ms[1], 2)} ms.")

    widened = [(step.get(case), step.get(case + "-widened")) for case in ("e16", "e64")]
    if all(kept and wide for kept, wide in widened):
        (e16_kept, e16_wide), (e64_kept, e64_wide) = widened
        print(f"\nWhat leaving the expert weights' gradients in bf16 for the optimizer buys over widening them to fp32 "
              f"(model::ExpertGradients, same run): e16 step {fmt(num(e16_kept, 'median_ms'), 2)} vs "
              f"{fmt(num(e16_wide, 'median_ms'), 2)} ms, e64 {fmt(num(e64_kept, 'median_ms'), 2)} vs "
              f"{fmt(num(e64_wide, 'median_ms'), 2)} ms; growth ratio (e64 over e16 tokens/s) "
              f"{fmt(num(e64_kept, 'tokens_per_s') / num(e16_kept, 'tokens_per_s'), 3)} vs "
              f"{fmt(num(e64_wide, 'tokens_per_s') / num(e16_wide, 'tokens_per_s'), 3)}.")

    print("\n### MoE block forward + backward (16,384 tokens)\n")
    print("Grove's parameters: bf16 (as the peer's, like for like) or fp32 masters under bf16 autocast (as the training "
          "step runs; the weight casts are timed, and the weight gradients stay bf16 for the optimizer). Launch: eager "
          "(every kernel from the host, as the peer) or graph (captured once as a CUDA graph and replayed).\n")
    print("| shape | Grove parameters | launch | Grove ms | Grove TFLOP/s | Grove peak GiB | HF eager ms | "
          "HF grouped_mm ms | HF best / Grove |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape, params, launch in block_rows():
        g = block[(shape, params, launch)]
        best = hf_best(hf_block, shape, "median_ms", True)
        eager, grouped = hf_block.get((shape, "eager")), hf_block.get((shape, "grouped_mm"))
        print(f"| {shape} (d {g['d']}, f {g['f']}, {g['experts']} experts, top-{g['top_k']}) | {params} | {launch} "
              f"| {fmt(num(g, 'median_ms'), 2)} | {fmt(num(g, 'tflops'))} | {fmt(num(g, 'peak_gib'), 2)} "
              f"| {fmt(num(eager, 'median_ms'), 2) if eager else '—'} "
              f"| {fmt(num(grouped, 'median_ms'), 2) if grouped else '—'} | {fmt(best / num(g, 'median_ms'), 2)}× |")

    print("\n### Targets (ratios from this run)\n")
    e16, e64, grown, frozen = (step.get(c) for c in ("e16", "e64", "grown", "frozen"))
    if e16:
        best = hf_best(hf_step, "e16", "tokens_per_s", False)
        ratio = num(e16, "tokens_per_s") / best
        print(f"- Step, 16 experts, vs HF's best backend: {fmt(ratio, 2)}× (target ≥ 5×): {verdict(ratio >= 5)}")
        print(f"- Step, 16 experts, MFU against {741} TFLOP/s: {fmt(100 * num(e16, 'mfu'))}% (target ≥ 35%): "
              f"{verdict(num(e16, 'mfu') >= 0.35)}")
        if graph:
            ratio = num(graph, "tokens_per_s") / best
            print(f"- Step, 16 experts, replayed as a CUDA graph (the trainer's default on CUDA): {fmt(ratio, 2)}× HF's "
                  f"best, MFU {fmt(100 * num(graph, 'mfu'))}%")
    if e16 and e64:
        ratio = num(e64, "tokens_per_s") / num(e16, "tokens_per_s")
        print(f"- Growth, tokens/s at 64 experts over 16: {fmt(ratio, 3)} (target ≥ 0.95): {verdict(ratio >= 0.95)}; "
              f"forward + backward alone: {fmt(num(e16, 'fwd_bwd_ms') / num(e64, 'fwd_bwd_ms'), 3)} "
              f"({fmt(num(e16, 'fwd_bwd_ms'), 2)} vs {fmt(num(e64, 'fwd_bwd_ms'), 2)} ms)")
    growth16, growth64 = step.get("e16-growth"), step.get("e64-growth")
    if growth16 and growth64:
        ratio = num(growth64, "tokens_per_s") / num(growth16, "tokens_per_s")
        print(f"- Growth as Grove runs it (8 new experts and the gate train, the rest frozen), tokens/s at 64 experts "
              f"over 16: {fmt(ratio, 3)} ({fmt(num(growth16, 'median_ms'), 2)} vs "
              f"{fmt(num(growth64, 'median_ms'), 2)} ms). Not the target's configuration, which trains everything")
    for shape, params, launch in block_rows():
        g = block[(shape, params, launch)]
        ratio = hf_best(hf_block, shape, "median_ms", True) / num(g, "median_ms")
        print(f"- MoE block {shape}, {BLOCK_PARAMS[params]}, {BLOCK_LAUNCH[launch]}, vs HF's best backend: "
              f"{fmt(ratio, 2)}× (target ≥ 2.5×): {verdict(ratio >= 2.5)}")
    if grown and frozen:
        ratio = num(frozen, "median_ms") / num(grown, "median_ms")
        print(f"- Frozen phase step over all-trainable (same 16 + 8 model): {fmt(ratio, 3)} (target ≤ 0.75): "
              f"{verdict(ratio <= 0.75)}")
        per_param = [num(r, "optimizer_gib") * 2**30 / float(r["trainable_params"]) for r in (grown, frozen)]
        print(f"- Optimizer state bytes per trainable parameter: all-trainable {fmt(per_param[0], 2)}, "
              f"frozen phase {fmt(per_param[1], 2)} (proportional when equal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
