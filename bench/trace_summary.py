#!/usr/bin/env python3
"""Breaks a Kineto Chrome trace of training steps (train_step_bench --trace) down into where the GPU time goes.

    bench/trace_summary.py TRACE.json [--top N]

Prints, per step (the trace's steps averaged):
  - each phase (grove::forward_and_loss, grove::backward, grove::optimizer): wall time, GPU kernel time of the
    kernels its operators launched, and its share of all kernel time (kernels on other streams overlap, so shares
    are of the sum of kernel durations, not of the busy time);
  - GPU busy time (when any kernel ran) against the step's wall time (what remains is the GPU waiting for the host);
  - the top-level operators by GPU kernel time (the outermost ATen operator or autograd node that launched them);
  - the launching operators (the innermost one around each launch) within their top-level operator;
  - the kernels by name.
Kernels are tied to their launch through the trace's correlation ids, and a launch to a phase and an operator by
the time it happened on its host thread.
"""
import argparse
import bisect
import collections
import json
import sys

PHASES = ("grove::forward_and_loss", "grove::backward", "grove::optimizer")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)["traceEvents"]
    except (OSError, ValueError, KeyError) as error:
        sys.exit(f"trace_summary: cannot read a Chrome trace from '{path}': {error}")


class Intervals:
    """Non-overlapping outermost intervals (per host thread) for 'which one contains time t'."""

    def __init__(self, events):
        self.by_tid = collections.defaultdict(list)
        for e in sorted(events, key=lambda e: (e["ts"], -e["dur"])):
            spans = self.by_tid[e["tid"]]
            if spans and e["ts"] < spans[-1][1]:
                continue  # nested in the previous outermost one
            spans.append((e["ts"], e["ts"] + e["dur"], e["name"]))
        self.starts = {tid: [s[0] for s in spans] for tid, spans in self.by_tid.items()}

    def find(self, tid, t):
        spans = self.by_tid.get(tid)
        if not spans:
            return None
        i = bisect.bisect_right(self.starts[tid], t) - 1
        if i >= 0 and spans[i][0] <= t <= spans[i][1]:
            return spans[i][2]
        return None


def find_any(intervals, t):
    for tid in intervals.by_tid:
        name = intervals.find(tid, t)
        if name is not None:
            return name
    return None


def busy_time(kernels):
    """Microseconds during which at least one kernel ran."""
    total, end = 0.0, None
    for k in sorted(kernels, key=lambda k: k["ts"]):
        start, stop = k["ts"], k["ts"] + k["dur"]
        if end is None or start >= end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def short(name, width=90):
    return name if len(name) <= width else name[: width - 1] + "…"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--top", type=int, default=25, help="rows in the operator and kernel tables")
    args = parser.parse_args()

    events = [e for e in load(args.trace) if e.get("ph") == "X" and "dur" in e]
    steps = [e for e in events if e.get("name") == "grove::step" and e.get("cat") == "user_annotation"]
    if not steps:
        sys.exit(f"trace_summary: '{args.trace}' has no grove::step annotations (train_step_bench --trace writes them)")
    n_steps = len(steps)
    phases = [e for e in events if e.get("cat") == "user_annotation" and e.get("name") in PHASES]
    operators = Intervals([e for e in events if e.get("cat") == "cpu_op"])
    phase_spans = Intervals(phases)
    # Kernels are launched through the runtime (cudaLaunchKernel) or, by CUTLASS and cuBLASLt, the driver
    # (cuLaunchKernelEx).
    launches = {e["args"]["correlation"]: e for e in events
                if e.get("cat") in ("cuda_runtime", "cuda_driver") and "correlation" in e.get("args", {})}
    # The innermost operator around a launch carries the same External id as the kernel.
    op_by_external_id = {e["args"]["External id"]: e["name"] for e in events
                         if e.get("cat") == "cpu_op" and "External id" in e.get("args", {})}
    kernels = [e for e in events if e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]

    phase_gpu = collections.Counter()
    op_gpu = collections.Counter()
    op_calls = collections.Counter()
    inner_gpu = collections.Counter()
    inner_calls = collections.Counter()
    kernel_gpu = collections.Counter()
    kernel_calls = collections.Counter()
    for k in kernels:
        launch = launches.get(k.get("args", {}).get("correlation"))
        phase = op = None
        if launch is not None:
            phase = find_any(phase_spans, launch["ts"])
            op = operators.find(launch["tid"], launch["ts"])
        phase_gpu[phase or "(outside the phases)"] += k["dur"]
        op_gpu[op or "(no operator)"] += k["dur"]
        op_calls[op or "(no operator)"] += 1
        inner = op_by_external_id.get(k.get("args", {}).get("External id"), "(no operator)")
        within = f"{inner} in {op}" if op and inner != op else inner
        inner_gpu[within] += k["dur"]
        inner_calls[within] += 1
        name = k["name"] if k.get("cat") == "kernel" else k.get("cat")
        kernel_gpu[name] += k["dur"]
        kernel_calls[name] += 1

    if not kernels:
        sys.exit(f"trace_summary: '{args.trace}' has no GPU kernels (was it recorded on a CUDA build?)")
    step_wall = sum(e["dur"] for e in steps) / n_steps / 1e3
    busy = busy_time(kernels) / n_steps / 1e3  # the union of kernel intervals: overlapping streams count once
    kernel_ms = sum(k["dur"] for k in kernels) / n_steps / 1e3  # the sum: what the shares below divide
    print(f"{args.trace}: {n_steps} steps, {len(kernels) // n_steps} kernels per step")
    print(f"step wall {step_wall:.2f} ms, GPU busy {busy:.2f} ms ({100 * busy / step_wall:.1f} %), "
          f"GPU idle {step_wall - busy:.2f} ms\n")

    print("| phase | wall ms | GPU ms | share of kernel time |")
    print("|---|---:|---:|---:|")
    for name in PHASES + ("(outside the phases)",):
        wall = sum(e["dur"] for e in phases if e["name"] == name) / n_steps / 1e3
        gpu = phase_gpu[name] / n_steps / 1e3
        if wall or gpu:
            print(f"| {name} | {wall:.2f} | {gpu:.2f} | {100 * gpu / kernel_ms:.1f} % |")

    print(f"\n| top-level operator | calls | GPU ms | share |")
    print("|---|---:|---:|---:|")
    for name, us in op_gpu.most_common(args.top):
        print(f"| {short(name)} | {op_calls[name] // n_steps} | {us / n_steps / 1e3:.2f} | {100 * us / n_steps / 1e3 / kernel_ms:.1f} % |")

    print(f"\n| launching operator (in its top-level operator) | calls | GPU ms | share |")
    print("|---|---:|---:|---:|")
    for name, us in inner_gpu.most_common(args.top):
        print(f"| {short(name, 120)} | {inner_calls[name] // n_steps} | {us / n_steps / 1e3:.2f} | {100 * us / n_steps / 1e3 / kernel_ms:.1f} % |")

    print(f"\n| kernel | calls | GPU ms | share |")
    print("|---|---:|---:|---:|")
    for name, us in kernel_gpu.most_common(args.top):
        print(f"| {short(name)} | {kernel_calls[name] // n_steps} | {us / n_steps / 1e3:.2f} | {100 * us / n_steps / 1e3 / kernel_ms:.1f} % |")


if __name__ == "__main__":
    main()
