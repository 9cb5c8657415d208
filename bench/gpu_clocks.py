#!/usr/bin/env python3
"""Summarises the GPU's SM clock, power draw and clock-limiting reasons per benchmark phase of one bench/run-all.sh
run, as Markdown: whether the two sides of a ratio were timed at the same clock.

usage: gpu_clocks.py RESULTS_DIR   (reads clocks.csv, nvidia-smi's log every 200 ms, and phases.tsv, each phase's
                                    start and end, both written there by run-all.sh or sustained-block.sh; both
                                    in UTC)

Why: an H200 under a sustained GEMM load reaches its power limit (700 W) and lowers its SM clock; a program that
keeps the tensor cores busier is then timed at a lower clock than a slower one (docs/PERFORMANCE.md).
"""
import csv
import datetime
import os
import statistics
import sys

TIME_FORMAT = "%Y/%m/%d %H:%M:%S.%f"
# nvidia-smi's clocks_event_reasons bits (nvml.h, nvmlClocksEventReason*)
REASONS = {0x4: "software power cap", 0x8: "hardware slowdown", 0x20: "software thermal", 0x40: "hardware thermal",
           0x80: "hardware power brake"}
POWER_CAP = 0x4
IDLE = 0x1  # nothing running: the clock drops to its floor (345 MHz on an H200)
LOAD_SHARE = 0.5  # a sample is under load from this share of the power limit on


class BadInput(Exception):
    pass


def parse_time(text, where):
    try:
        return datetime.datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise BadInput(f"{where}: expected a time like 2026/11/30 06:14:29.925, got {text.strip()!r}") from None


def number(text, where, what):
    try:
        return float(text.strip())
    except ValueError:
        raise BadInput(f"{where}: expected {what} as a number, got {text.strip()!r}") from None


def read_samples(path):
    """nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,power.limit,temperature.gpu,REASONS
    --format=csv,nounits: one dict per sample. Rows nvidia-smi could not fill ([N/A], [Not Supported], a cut-off
    last line) are skipped; anything else malformed is an error naming the line."""
    samples = []
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return samples
    header = [h.strip() for h in rows[0]]
    if len(header) != 7 or header[0] != "timestamp":
        raise BadInput(f"{path}:1: expected nvidia-smi's header of seven columns (timestamp, SM clock, memory clock, "
                       f"power draw, power limit, temperature, clock-limiting reasons), got {', '.join(header)}")
    for number_of_line, row in enumerate(rows[1:], start=2):
        where = f"{path}:{number_of_line}"
        if len(row) != 7 or any(not cell.strip() or cell.strip().startswith("[") for cell in row):
            continue
        samples.append(dict(time=parse_time(row[0], where), sm_mhz=number(row[1], where, "the SM clock"),
                            power_w=number(row[3], where, "the power draw"),
                            limit_w=number(row[4], where, "the power limit"),
                            reasons=int(row[6].strip(), 16) if row[6].strip().startswith("0x")
                            else int(number(row[6], where, "the reasons bit mask"))))
    return samples


def read_phases(path):
    phases = []
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or rows[0] != ["phase", "start", "end"]:
        raise BadInput(f"{path}:1: expected the header phase, start, end (tab-separated)")
    for number_of_line, row in enumerate(rows[1:], start=2):
        where = f"{path}:{number_of_line}"
        if len(row) != 3:
            raise BadInput(f"{where}: expected three tab-separated fields, got {len(row)}")
        start, end = parse_time(row[1], where), parse_time(row[2], where)
        if end < start:
            raise BadInput(f"{where}: phase {row[0]} ends before it starts")
        phases.append((row[0], start, end))
    return phases


def share(count, total):
    return f"{100.0 * count / total:.0f} %"


def summary(phases, samples):
    """One row per phase. A phase also spends time setting up (building a model, checking, loading a library) with
    the GPU barely working; its clock then says nothing about the timed passes, so the clock and power columns count
    only the samples under load: not idle, and drawing at least LOAD_SHARE of the power limit or held at the power
    cap (the cap's bit is instantaneous where a driver's power reading is a one-second average)."""
    limit = statistics.median(s["limit_w"] for s in samples)
    lines = ["| phase | seconds | samples: idle / busy / under load | SM clock MHz under load, median (min) | "
             "power W under load, median (max) | under load at the power cap | other limits |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for name, start, end in phases:
        during = [s for s in samples if start <= s["time"] <= end]
        busy = [s for s in during if not s["reasons"] & IDLE]
        loaded = [s for s in busy if s["power_w"] >= LOAD_SHARE * s["limit_w"] or s["reasons"] & POWER_CAP]
        seconds = (end - start).total_seconds()
        counted = f"{len(during) - len(busy)} / {len(busy)} / {len(loaded)}"
        others = sorted({label for s in busy for bit, label in REASONS.items() if bit != POWER_CAP
                         and s["reasons"] & bit})
        if not loaded:
            lines.append(f"| {name} | {seconds:.1f} | {counted} | — | — | — | {', '.join(others) or 'none'} |")
            continue
        clocks = [s["sm_mhz"] for s in loaded]
        power = [s["power_w"] for s in loaded]
        capped = sum(1 for s in loaded if s["reasons"] & POWER_CAP)
        lines.append(f"| {name} | {seconds:.1f} | {counted} | {statistics.median(clocks):.0f} ({min(clocks):.0f}) | "
                     f"{statistics.median(power):.0f} ({max(power):.0f}) | {share(capped, len(loaded))} | "
                     f"{', '.join(others) or 'none'} |")
    lines.append("")
    lines.append(f"Power limit {limit:.0f} W. Idle: clocks_event_reasons bit 0x1 set. Under load: busy and drawing at "
                 f"least {100 * LOAD_SHARE:.0f} % of the limit ({LOAD_SHARE * limit:.0f} W) or held at the power cap, "
                 "which is when a phase's timed passes run; the setup around them is left out of the clock and power "
                 "columns. \"At the power cap\": the share of those samples whose clock the driver was holding down "
                 "for power (bit 0x4). \"Other limits\": any other clock-limiting reason in any busy sample. Two "
                 "phases' times compare at the same clock only when their clocks under load are alike.")
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr if len(sys.argv) != 2 else sys.stdout)
        return 2 if len(sys.argv) != 2 else 0
    results = sys.argv[1]
    if not os.path.isdir(results):
        print(f"gpu_clocks: {results}: no such folder (expected a RESULTS_DIR of run-all.sh)", file=sys.stderr)
        return 2
    clocks_path, phases_path = os.path.join(results, "clocks.csv"), os.path.join(results, "phases.tsv")
    if not os.path.exists(clocks_path) or not os.path.exists(phases_path):
        print(f"gpu_clocks: no clock log in {results} (clocks.csv and phases.tsv; run-all.sh writes them where "
              "nvidia-smi exists)")
        return 0
    try:
        samples = read_samples(clocks_path)
        phases = read_phases(phases_path)
    except BadInput as error:
        print(f"gpu_clocks: {error}", file=sys.stderr)
        return 1
    if not samples:
        print(f"gpu_clocks: {clocks_path} holds no samples")
        return 0
    print("## GPU clock and power during each phase\n")
    print(summary(phases, samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
