#!/usr/bin/env python3
"""Summarises the GPU's SM clock, power draw and clock-limiting reasons per benchmark phase of one bench/run-all.sh
run, as Markdown: whether the two sides of a ratio were timed at the same clock.

usage: gpu_clocks.py RESULTS_DIR   (reads clocks.csv, nvidia-smi's log every 200 ms, and phases.tsv, each phase's
                                    start and end, both written there by run-all.sh)

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
IDLE = 0x1  # nothing running: the clock drops to its floor (345 MHz on an H200); left out of the statistics


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
    --format=csv,nounits: one dict per sample. Rows nvidia-smi could not fill ([N/A], a cut-off last line) are
    skipped; anything else malformed is an error naming the line."""
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
        if len(row) != 7 or any("N/A" in cell or not cell.strip() for cell in row):
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
    lines = ["| phase | seconds | busy samples (idle) | SM clock MHz, median (min–max) | power W, median (max) | "
             "at the power cap | other limits |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for name, start, end in phases:
        during = [s for s in samples if start <= s["time"] <= end]
        inside = [s for s in during if not s["reasons"] & IDLE]
        seconds = (end - start).total_seconds()
        counted = f"{len(inside)} ({len(during) - len(inside)})"
        if not inside:
            lines.append(f"| {name} | {seconds:.1f} | {counted} | — | — | — | — |")
            continue
        clocks = [s["sm_mhz"] for s in inside]
        power = [s["power_w"] for s in inside]
        capped = sum(1 for s in inside if s["reasons"] & POWER_CAP)
        others = sorted({label for s in inside for bit, label in REASONS.items() if bit != POWER_CAP
                         and s["reasons"] & bit})
        lines.append(f"| {name} | {seconds:.1f} | {counted} | {statistics.median(clocks):.0f} "
                     f"({min(clocks):.0f}–{max(clocks):.0f}) | {statistics.median(power):.0f} ({max(power):.0f}) | "
                     f"{share(capped, len(inside))} | {', '.join(others) or 'none'} |")
    limit = statistics.median(s["limit_w"] for s in samples)
    lines.append("")
    lines.append(f"Power limit {limit:.0f} W. Samples while the GPU was idle (clocks_event_reasons bit 0x1: loading, "
                 "compiling, between passes) are counted apart and left out of the clock and power columns. \"At "
                 "the power cap\": the share of busy samples whose clock the driver was holding down for power (bit "
                 "0x4); one phase's times compare with another's at the same clock only when both shares are alike.")
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    results = sys.argv[1]
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
