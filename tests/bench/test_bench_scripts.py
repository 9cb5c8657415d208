#!/usr/bin/env python3
"""The benchmark scripts' arithmetic (label unit): bench/side_by_side.py on the TSVs of three real H200 runs
(h200-2026-11-29-352ccd3/, from before the block's params and launch columns; h200-2026-11-29-37b8f56/, with
them; h200-2026-11-29-aad2ea9/, with the AdamW and growth-phase cases; h200-2026-11-30-b349ba3/, with the widened
expert gradients), bench/trace_summary.py on a small hand-built
Kineto trace whose answers are known (phases, outermost and launching operators, driver launches, and GPU busy time
with overlapping kernels), bench/gpu_clocks.py on a hand-built nvidia-smi log, and bench/grouped_gemm_ceiling.py's
FLOP accounting and table."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "bench")


def run(script, *args):
    result = subprocess.run([sys.executable, os.path.join(BENCH, script), *args], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


class SideBySide(unittest.TestCase):
    def test_ratios_and_verdicts_of_a_real_run(self):
        code, out, err = run("side_by_side.py", os.path.join(HERE, "h200-2026-11-29-352ccd3"))
        self.assertEqual(code, 0, err)
        # 252170 / 41716 tokens/s; MFU 0.3588; 152716 / 252170; 23.92 / 12.545 and 9.60 / 5.192; 52.13 / 74.73
        self.assertIn("vs HF's best backend: 6.04× (target ≥ 5×): **met**", out)
        self.assertIn("35.9% (target ≥ 35%): **met**", out)
        self.assertIn("64 experts over 16: 0.606 (target ≥ 0.95): **not met**", out)
        # That run's block rows predate the params column: fp32 masters under autocast.
        self.assertIn("MoE block olmoe, fp32 master parameters under autocast, launched eagerly (as the peer), vs "
                      "HF's best backend: 1.91× (target ≥ 2.5×): **not met**", out)
        self.assertIn("MoE block mixtral-small, fp32 master parameters under autocast, launched eagerly (as the peer), "
                      "vs HF's best backend: 1.85× (target ≥ 2.5×): **not met**", out)
        self.assertNotIn("bf16 parameters (as the peer's)", out)
        self.assertNotIn("replayed as a CUDA graph", out)
        self.assertIn("over all-trainable (same 16 + 8 model): 0.698 (target ≤ 0.75): **met**", out)
        self.assertIn("all-trainable 8.00, frozen phase 8.00", out)
        self.assertIn("e16 step 64.97 ms with them, 100.25 ms with the ATen formulation (1.54×)", out)

    def test_block_rows_by_precision_and_launch(self):
        code, out, err = run("side_by_side.py", os.path.join(HERE, "h200-2026-11-29-37b8f56"))
        self.assertEqual(code, 0, err)
        # HF best: olmoe grouped_mm 23.57 ms, mixtral-small grouped_mm 9.54 ms (eager 114.28 and 16.67)
        self.assertIn("| olmoe (d 2048, f 1024, 64 experts, top-8) | bf16 | eager | 10.81 | 457.8 | 5.19 | 114.28 | "
                      "23.57 | 2.18× |", out)
        self.assertIn("MoE block olmoe, bf16 parameters (as the peer's), replayed as a CUDA graph, vs HF's best "
                      "backend: 2.29× (target ≥ 2.5×): **not met**", out)
        self.assertIn("MoE block mixtral-small, bf16 parameters (as the peer's), launched eagerly (as the peer), vs "
                      "HF's best backend: 1.94× (target ≥ 2.5×): **not met**", out)
        self.assertIn("MoE block mixtral-small, fp32 master parameters under autocast, replayed as a CUDA graph, vs "
                      "HF's best backend: 2.18× (target ≥ 2.5×): **not met**", out)
        # Eight block rows: 2 shapes x 2 precisions x 2 launches, in that order.
        rows = [line for line in out.splitlines() if line.startswith("| olmoe") or line.startswith("| mixtral-small")]
        self.assertEqual([r.split(" | ")[1:3] for r in rows],
                         [["bf16", "eager"], ["bf16", "graph"], ["fp32", "eager"], ["fp32", "graph"]] * 2)
        self.assertIn("0.617 (target ≥ 0.95): **not met**", out)

    def test_adamw_kernel_and_growth_phase_cases(self):
        code, out, err = run("side_by_side.py", os.path.join(HERE, "h200-2026-11-29-aad2ea9"))
        self.assertEqual(code, 0, err)
        # e64 101.527 - 68.211 = 33.32 ms of optimizer; e64-aten-adamw 108.31 - its forward + backward
        self.assertIn("What Grove's one-launch AdamW kernel buys over ATen's _fused_adamw_ at 64 experts", out)
        self.assertIn("e64 step 101.53 vs 108.31 ms; optimizer (step less forward + backward) 33.32 vs", out)
        # 318487 / 321180 tokens/s
        self.assertIn("tokens/s at 64 experts over 16: 0.992 (51.01 vs 51.44 ms). Not the target's configuration", out)
        self.assertIn("64 experts over 16: 0.628 (target ≥ 0.95): **not met**", out)
        self.assertIn("over all-trainable (same 16 + 8 model): 0.697 (target ≤ 0.75): **met**", out)
        self.assertIn("switches off, Grove's AdamW included; docs/MODEL.md lists them) (same run)", out)
        self.assertIn("| e64-growth (64 experts, 8 trainable) | 318,487 | 51.44 | — |", out)

    def test_what_bf16_expert_gradients_buy_against_widened_ones(self):
        code, out, err = run("side_by_side.py", os.path.join(HERE, "h200-2026-11-30-b349ba3"))
        self.assertEqual(code, 0, err)
        # e64 over e16 tokens/s: 197802 / 301937 with bf16 gradients, 179213 / 292622 widened
        self.assertIn("(model::ExpertGradients, same run): e16 step 54.26 vs 55.99 ms, e64 82.83 vs 91.42 ms; growth "
                      "ratio (e64 over e16 tokens/s) 0.655 vs 0.612.", out)
        self.assertIn("| e64-widened (64 experts, 64 trainable) | 179,213 | 91.42 | 25.6% | 68.31 | 27.58 | — |", out)
        self.assertIn("64 experts over 16: 0.655 (target ≥ 0.95): **not met**; forward + backward alone: 0.849", out)
        # A run without the widened cases prints no such line.
        code, out, err = run("side_by_side.py", os.path.join(HERE, "h200-2026-11-30-e9fe528"))
        self.assertEqual(code, 0, err)
        self.assertNotIn("ExpertGradients", out)

    def test_the_graph_replayed_step_against_the_eager_one(self):
        # e16 and e16-graph as printed by train_step_bench in the ffe5b82 run (no TSV was kept of that run), with the
        # peer's rows of the 37b8f56 run: the graph line and the graph target line.
        header = ("case\texperts\ttrainable_experts\tmedian_ms\tmin_ms\tfwd_bwd_ms\ttokens_per_s\ttflops\tmfu\t"
                  "peak_gib\toptimizer_gib\ttrainable_params\tparams\tloss\n")
        rows = ("e16\t16\t16\t64.96\t64.46\t54.21\t252214\t265.9\t0.3588\t23.36\t7.33\t983599872\t983599872\t9.6532\n"
                "e16-graph\t16\t16\t62.20\t61.74\t51.69\t263418\t277.7\t0.3748\t21.54\t7.33\t983599872\t983599872"
                "\t9.6508\n")
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "grove_step.tsv"), "w") as f:
                f.write(header + rows)
            with open(os.path.join(HERE, "h200-2026-11-29-37b8f56", "hf.tsv")) as src, \
                    open(os.path.join(folder, "hf.tsv"), "w") as dst:
                dst.write(src.read())
            code, out, err = run("side_by_side.py", folder)
        self.assertEqual(code, 0, err)
        self.assertIn("e16 step 62.20 ms replayed, 64.96 ms launched eagerly (1.04×); peak 21.54 vs 23.36 GiB", out)
        self.assertIn("replayed as a CUDA graph (the trainer's default on CUDA): 6.39× HF's best, MFU 37.5%", out)
        self.assertIn("| e16-graph (16 experts, 16 trainable) | 263,418 | 62.20 | 37.5% |", out)

    def test_a_missing_folder_gives_no_rows_rather_than_made_up_ones(self):
        with tempfile.TemporaryDirectory() as empty:
            code, out, _ = run("side_by_side.py", empty)
        self.assertEqual(code, 0)
        self.assertNotIn("**met**", out)
        self.assertNotIn("e16 (", out)


def event(cat, name, ts, dur, tid=1, **args):
    return {"ph": "X", "cat": cat, "name": name, "pid": 1, "tid": tid, "ts": ts, "dur": dur, "args": args}


class TraceSummary(unittest.TestCase):
    def trace(self):
        # One step of 100 us: forward [0, 40) with an outer op wrapping an inner launching op, backward [40, 80) on
        # the autograd thread (tid 2), optimizer [80, 100). Kernels: 10 us (forward, runtime launch), 20 us
        # (backward, driver launch) overlapping a 10 us one on another stream for 5 us, 5 us (optimizer).
        return {"traceEvents": [
            event("user_annotation", "grove::step", 0, 100),
            event("user_annotation", "grove::forward_and_loss", 0, 40),
            event("user_annotation", "grove::backward", 40, 40),
            event("user_annotation", "grove::optimizer", 80, 20),
            event("cpu_op", "aten::linear", 1, 30, **{"External id": 1}),
            event("cpu_op", "aten::mm", 2, 10, **{"External id": 2}),
            event("cuda_runtime", "cudaLaunchKernel", 3, 2, correlation=10, **{"External id": 2}),
            event("kernel", "gemm_forward", 10, 10, tid=7, correlation=10, **{"External id": 2}),
            event("cpu_op", "autograd::engine::evaluate_function: MmBackward0", 41, 20, tid=2, **{"External id": 3}),
            event("cpu_op", "aten::_grouped_mm", 42, 10, tid=2, **{"External id": 4}),
            event("cuda_driver", "cuLaunchKernelEx", 43, 2, tid=2, correlation=11, **{"External id": 4}),
            event("kernel", "cutlass_grouped", 45, 20, tid=7, correlation=11, **{"External id": 4}),
            event("cuda_runtime", "cudaLaunchKernel", 50, 1, tid=2, correlation=12, **{"External id": 3}),
            event("kernel", "elementwise", 60, 10, tid=8, correlation=12, **{"External id": 3}),
            event("cpu_op", "aten::_fused_adamw_", 81, 5, **{"External id": 5}),
            event("cuda_runtime", "cudaLaunchKernel", 82, 1, correlation=13, **{"External id": 5}),
            event("kernel", "adamw", 90, 5, tid=7, correlation=13, **{"External id": 5}),
        ]}

    def summary(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "t.trace.json")
            with open(path, "w") as f:
                json.dump(self.trace(), f)
            code, out, err = run("trace_summary.py", path)
        self.assertEqual(code, 0, err)
        return out

    def test_busy_time_counts_overlapping_kernels_once(self):
        out = self.summary()
        # kernels cover [10,20), [45,65) and [60,70) overlapping, [90,95): 10 + 25 + 5 = 40 us
        self.assertIn("step wall 0.10 ms, GPU busy 0.04 ms (40.0 %), GPU idle 0.06 ms", out)

    def test_kernels_land_in_their_phase_and_operators(self):
        out = self.summary()
        # 45 us of kernels: 10 forward, 20 + 10 backward (one launched through the driver), 5 optimizer
        self.assertIn("| grove::forward_and_loss | 0.04 | 0.01 | 22.2 % |", out)
        self.assertIn("| grove::backward | 0.04 | 0.03 | 66.7 % |", out)
        self.assertIn("| grove::optimizer | 0.02 | 0.01 | 11.1 % |", out)
        self.assertIn("| aten::linear | 1 | 0.01 |", out)  # outermost operator of the forward launch
        self.assertIn("| aten::mm in aten::linear | 1 | 0.01 |", out)  # the launching one inside it
        self.assertIn("| aten::_grouped_mm in autograd::engine::evaluate_function: MmBackward0 | 1 | 0.02 |", out)

    def test_a_trace_without_steps_is_refused_by_name(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "empty.json")
            with open(path, "w") as f:
                json.dump({"traceEvents": []}, f)
            code, _, err = run("trace_summary.py", path)
        self.assertNotEqual(code, 0)
        self.assertIn("empty.json", err)
        self.assertIn("grove::step", err)


class GpuClocks(unittest.TestCase):
    """bench/gpu_clocks.py on a hand-built nvidia-smi log: which samples fall in which phase, and the shares."""
    HEADER = ("timestamp, clocks.current.sm [MHz], clocks.current.memory [MHz], power.draw [W], power.limit [W], "
              "temperature.gpu, clocks_event_reasons.active\n")
    SAMPLES = ("2026/11/30 06:14:29.925, 1980, 3201, 120.50, 700.00, 38, 0x0000000000000001\n"
               "2026/11/30 06:14:30.050, 345, 3201, 79.00, 700.00, 37, 0x0000000000000001\n"
               "2026/11/30 06:14:30.125, 1980, 3201, 400.00, 700.00, 40, 0x0000000000000000\n"
               "2026/11/30 06:14:30.325, 1650, 3201, 690.00, 700.00, 53, 0x0000000000000004\n"
               "2026/11/30 06:14:30.450, [N/A], 3201, 698.00, 700.00, 55, 0x0000000000000004\n"
               "2026/11/30 06:14:30.525, 1530, 3201, 698.00, 700.00, 55, 0x000000000000000C\n"
               "2026/11/30 06:14:30.850, 1980, 3201, 120.00, 700.00, 45, 0x0000000000000000\n"
               "2026/11/30 06:14:30.875, 1800, 3201, 300.00, 700.00, 45, 0x0000000000000004\n"
               "2026/11/30 06:14:30.900, 1980, 3201, [Not Supported], 700.00, 45, 0x0000000000000000\n"
               "2026/11/30 06:14:30.925, 1900, 3201, 500.00, 700.00, 50, 0x0000000000000000\n"
               "2026/11/30 06:14:31\n")  # the line nvidia-smi was writing when it was stopped
    PHASES = ("phase\tstart\tend\n"
              "grove_block\t2026/11/30 06:14:30.000\t2026/11/30 06:14:30.600\n"
              "hf_block\t2026/11/30 06:14:30.800\t2026/11/30 06:14:31.000\n"
              "gemm_ceiling\t2026/11/30 06:14:35.000\t2026/11/30 06:14:36.000\n")

    def summarise(self, clocks, phases):
        with tempfile.TemporaryDirectory() as folder:
            for name, text in (("clocks.csv", clocks), ("phases.tsv", phases)):
                if text is not None:
                    with open(os.path.join(folder, name), "w") as f:
                        f.write(text)
            return run("gpu_clocks.py", folder)

    def test_each_phase_gets_the_samples_inside_it(self):
        code, out, err = self.summarise(self.HEADER + self.SAMPLES, self.PHASES)
        self.assertEqual(code, 0, err)
        # grove_block: 1980 at 400 W (no limit), 1650 (power cap), 1530 (power cap + hardware slowdown), all at or
        # above half the 700 W limit, and one idle sample counted apart; the [N/A] sample inside it, the cut-off last
        # line and the sample before the phase are not counted. hf_block: a busy sample at 120 W (setup) is left out
        # of the clock and power columns, one at 300 W held at the cap (an averaged power reading) is in, and one
        # whose power was [Not Supported] is skipped.
        self.assertIn("| grove_block | 0.6 | 1 / 3 / 3 | 1650 (1530) | 690 (698) | 67 % | hardware slowdown |", out)
        self.assertIn("| hf_block | 0.2 | 0 / 3 / 2 | 1850 (1800) | 400 (500) | 50 % | none |", out)
        self.assertIn("| gemm_ceiling | 1.0 | 0 / 0 / 0 | — | — | — | none |", out)
        self.assertIn("Power limit 700 W.", out)

    def test_the_sustained_block_runs_on_the_h200(self):
        # bench/sustained-block.sh's logs on the H200 (fixture h200-2026-11-30-86c498f/sustained-*): Grove's bf16
        # block held at the power cap below the top clock, the peer's block at the top clock.
        folder = os.path.join(HERE, "h200-2026-11-30-86c498f")
        code, out, err = run("gpu_clocks.py", os.path.join(folder, "sustained-0088732"))
        self.assertEqual(code, 0, err)
        self.assertIn("| grove-olmoe-1 | 13.8 | 19 / 49 / 24 | 1620 (1245) | 730 (783) | 100 % | none |", out)
        self.assertIn("| hf-olmoe-1 | 21.7 | 72 / 36 / 24 | 1980 (1965) | 671 (727) | 29 % | none |", out)
        self.assertIn("| hf-mixtral-small-2 | 14.8 | 52 / 22 / 9 | 1980 (1980) | 643 (681) | 0 % | none |", out)
        code, out, err = run("gpu_clocks.py", os.path.join(folder, "sustained-43cfcf5"))
        self.assertEqual(code, 0, err)
        self.assertIn("| grove-mixtral-small-2 | 4.8 | 6 / 18 / 13 | 1725 (1560) | 731 (752) | 85 % | none |", out)
        self.assertIn("| gemms-mixtral-small | 7.8 | 16 / 24 / 22 | 1560 (1335) | 702 (735) | 100 % | none |", out)

    def test_a_log_without_samples_says_so(self):
        code, out, err = self.summarise(self.HEADER, self.PHASES)
        self.assertEqual(code, 0, err)
        self.assertIn("holds no samples", out)

    def test_a_run_without_a_clock_log_says_so(self):
        code, out, _ = self.summarise(None, None)
        self.assertEqual(code, 0)
        self.assertIn("no clock log", out)
        self.assertNotIn("| phase |", out)

    def test_a_malformed_line_is_refused_with_its_file_and_line(self):
        bad_phases = self.PHASES.replace("2026/11/30 06:14:30.800", "06:14:30")
        code, _, err = self.summarise(self.HEADER + self.SAMPLES, bad_phases)
        self.assertEqual(code, 1)
        self.assertIn("phases.tsv:3: expected a time like 2026/11/30 06:14:29.925, got '06:14:30'", err)
        bad_clock = self.SAMPLES.replace("1650, 3201", "fast, 3201")
        code, _, err = self.summarise(self.HEADER + bad_clock, self.PHASES)
        self.assertEqual(code, 1)
        self.assertIn("clocks.csv:5: expected the SM clock as a number, got 'fast'", err)
        code, _, err = self.summarise("timestamp, clocks.sm\n", self.PHASES)
        self.assertEqual(code, 1)
        self.assertIn("clocks.csv:1: expected nvidia-smi's header of seven columns", err)



class GroupedGemmCeiling(unittest.TestCase):
    """bench/grouped_gemm_ceiling.py's accounting, without torch or a GPU."""

    def setUp(self):
        sys.path.insert(0, BENCH)
        import grouped_gemm_ceiling
        self.script = grouped_gemm_ceiling

    def tearDown(self):
        sys.path.remove(BENCH)

    def test_the_seven_gemms_are_the_block_flop_count(self):
        # The block's expert FLOPs are 18 * tokens * top_k * d * f (bench/flop_count.h, docs/PERFORMANCE.md).
        for name, (d, f, _, top_k) in self.script.SHAPES.items():
            gemms = self.script.block_gemms(d, f, 16384, top_k)
            self.assertEqual(len(gemms), 7, name)
            total = sum(self.script.flops(m, k, n) for _, _, m, k, n in gemms)
            self.assertEqual(total, 18.0 * 16384 * top_k * d * f, name)
            self.assertEqual({kind for _, kind, *_ in gemms}, {"rows", "weight"})

    def test_table_gives_rates_and_totals(self):
        rows = [("olmoe", "forward h13 = a W13^T", 1000, 2000, 500, 2.0, 1.0),
                ("olmoe", "backward dW2 = dy^T u", 1000, 500, 2000, 1.0, 1.0)]
        out = self.script.table(rows, 700.0)
        self.assertIn("bf16 8192^3 torch.mm: 700.0 TFLOP/s", out)
        # 2 * 1000 * 2000 * 500 = 2e9 FLOPs: 1.0 TFLOP/s in 2 ms grouped, 2.0 in 1 ms dense, grouped at half.
        self.assertIn("| olmoe | forward h13 = a W13^T | 1000 x 2000 x 500 | 2.000 | 1.0 | 1.000 | 2.0 | 0.50 |", out)
        self.assertIn("| olmoe | all seven | 0.00 TFLOP | 3.000 | 1.3 | 2.000 | 2.0 | 0.67 |", out)

    def test_sustained_table_gives_rates_and_the_slowdown(self):
        # 2e12 FLOPs in 2.5 ms cool and 3.0 ms sustained: 800 and 666.7 TFLOP/s, 1.2 times slower.
        out = self.script.sustain_table([("olmoe", 2e12, 1500, 2.5, 3.0)], 5.0)
        self.assertIn("replayed for 5 s", out)
        self.assertIn("| olmoe | 1500 | 2.500 | 800.0 | 3.000 | 666.7 | 1.200 |", out)

    def test_a_sustain_shorter_than_a_second_is_refused(self):
        code, _, err = run("grouped_gemm_ceiling.py", "--sustain", "0.5")
        self.assertNotEqual(code, 0)
        self.assertIn("--sustain: expected at least 1 second, got 0.5", err)

    def test_an_unknown_shape_is_refused_by_name(self):
        code, _, err = run("grouped_gemm_ceiling.py", "--shapes", "olmoe,tiny")
        self.assertNotEqual(code, 0)
        self.assertIn("unknown tiny", err)

if __name__ == "__main__":
    unittest.main()
