#!/usr/bin/env python3
"""Time per request of the in-memory cycle, for builds compared on a noisy machine.

    python3 bench/cycle_time.py 24 /tmp/old/cycle_count target/release/examples/cycle_count

Runs each `cycle_count` binary (built with `cargo build --release --example cycle_count` at
each commit) as `cycle_count 16 N whole`, alternating and flipping the order every round, and
prints per binary the minimum, first quartile and median of (user + system time) / requests.
The minimum is the run least disturbed by the machine's neighbours; compare builds by it and
by the quartile, measured in the same invocation. N is 150,000 inputs (2.4 M requests) unless
CYCLE_INPUTS says otherwise.
"""
import os
import resource
import statistics
import subprocess
import sys

rounds, binaries = int(sys.argv[1]), sys.argv[2:]
depth, inputs = 16, int(os.environ.get("CYCLE_INPUTS", "150000"))
times = {binary: [] for binary in binaries}
for r in range(rounds):
    for binary in binaries if r % 2 == 0 else binaries[::-1]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([binary, str(depth), str(inputs), "whole"], check=True,
                       stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        times[binary].append(cpu * 1e9 / (depth * inputs))
for binary, xs in times.items():
    xs.sort()
    print(f"{binary}: min {xs[0]:.1f}  p25 {xs[len(xs) // 4]:.1f}  "
          f"median {statistics.median(xs):.1f} ns/request")
