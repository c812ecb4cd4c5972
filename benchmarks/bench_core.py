"""Benchmark of the core: scalar and vectorised evaluation of warmup + cosine.

Prints a table with medians and ratios; contenders are interleaved (A B A B ...) in one run so
machine noise hits them alike. Goals (issue #2): scalar rampup <= 1.3x a minimal hand-written
closed-form function; 10**7 steps vectorised in < 0.3 s.

    .venv/bin/python benchmarks/bench_core.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import numpy as np

import rampup

WARMUP, TOTAL, END = 1_000, 100_000, 0.01


def hand_written(t: int) -> float:
    """nanoGPT-style warmup + cosine, the minimal closed form (the seeds' get_lr_with_warmup)."""
    if t < WARMUP:
        return (t + 1) / WARMUP
    if t >= TOTAL:
        return END
    progress = (t - WARMUP) / (TOTAL - WARMUP)
    return END + (1.0 - END) * 0.5 * (1.0 + math.cos(math.pi * progress))


def hand_written_numpy(t: np.ndarray, total: int) -> np.ndarray:
    """The same closed form, vectorised by hand with numpy."""
    warm = (t + 1) / WARMUP
    progress = np.clip((t - WARMUP) / (total - WARMUP), 0.0, 1.0)
    cos = END + (1.0 - END) * 0.5 * (1.0 + np.cos(np.pi * progress))
    return np.where(t < WARMUP, warm, cos)


def time_scalar(fn: Callable[[int], float], steps: range) -> float:
    """Seconds per call of ``fn`` over ``steps`` (loop overhead included for both contenders)."""
    start = time.perf_counter()
    for t in steps:
        fn(t)
    return (time.perf_counter() - start) / len(steps)


def time_call(fn: Callable[[], object]) -> float:
    """Seconds for one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    rounds = 5 if args.quick else 15
    spec = f"linear({WARMUP}) >> cosine(to={END})"
    sched = rampup.parse(spec).bind(total_steps=TOTAL)
    for t in (0, WARMUP - 1, WARMUP, TOTAL // 2, TOTAL - 1, TOTAL):  # same curve, or no contest
        if not math.isclose(sched(t), hand_written(t), rel_tol=1e-12):
            raise SystemExit(f"contenders disagree at step {t}: {sched(t)} vs {hand_written(t)}")
    steps = range(0, TOTAL, 1)
    fn = sched.as_function()
    scalar: dict[str, list[float]] = {
        "hand-written": [],
        "rampup s(t)": [],
        "rampup as_function()": [],
    }
    for _ in range(rounds):
        scalar["hand-written"].append(time_scalar(hand_written, steps))
        scalar["rampup s(t)"].append(time_scalar(sched, steps))
        scalar["rampup as_function()"].append(time_scalar(fn, steps))
    n = 10**7
    big = np.arange(n, dtype=np.float64)
    # Every step inside the run, so the whole formula is evaluated at every one of them.
    long_run = rampup.parse(spec).bind(total_steps=n)
    vector: dict[str, list[float]] = {"hand-written numpy": [], "rampup .values()": []}
    for _ in range(max(3, rounds // 3)):
        vector["hand-written numpy"].append(time_call(lambda: hand_written_numpy(big, n)))
        vector["rampup .values()"].append(time_call(lambda: long_run.values(big)))

    base = statistics.median(scalar["hand-written"])
    print(f"Scalar evaluation of warmup+cosine, {len(steps):,} steps, median of {rounds} rounds")
    print(f"{'contender':<22}{'ns/step':>10}{'ratio':>8}")
    for name, samples in scalar.items():
        med = statistics.median(samples)
        print(f"{name:<22}{med * 1e9:>10.1f}{med / base:>8.2f}x")
    print("goal: rampup <= 1.30x hand-written\n")
    base_v = statistics.median(vector["hand-written numpy"])
    print(f"Vectorised evaluation of {n:,} steps")
    print(f"{'contender':<22}{'seconds':>10}{'ratio':>8}")
    for name, samples in vector.items():
        med = statistics.median(samples)
        print(f"{name:<22}{med:>10.3f}{med / base_v:>8.2f}x")
    print("goal: rampup < 0.300 s")


if __name__ == "__main__":
    main()
