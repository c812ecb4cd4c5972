"""Benchmark of the core: scalar and vectorised evaluation of warmup + cosine.

Prints a table of the best (minimum) and median time per contender, each with its ratio to the
hand-written baseline. Contenders are interleaved (A B A B ...) in one run, so machine noise hits
them alike. The goal is judged on the best of many short rounds (timeit's advice): on a shared
machine it is the round least disturbed by other work, while the median moves with the load.
Goals (issue #2): scalar rampup <= 1.3x a minimal hand-written closed-form function; 10**7 steps
vectorised in < 0.3 s.

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
    rounds = 11 if args.quick else 41
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
    for _ in range(max(3, rounds // 8)):
        vector["hand-written numpy"].append(time_call(lambda: hand_written_numpy(big, n)))
        vector["rampup .values()"].append(time_call(lambda: long_run.values(big)))

    best = min(scalar["hand-written"])
    base = statistics.median(scalar["hand-written"])
    print(f"Scalar evaluation of warmup+cosine, {len(steps):,} steps, {rounds} rounds")
    print(f"{'contender':<22}{'best ns':>9}{'ratio':>8}{'median ns':>11}{'ratio':>8}")
    for name, samples in scalar.items():
        low, med = min(samples), statistics.median(samples)
        print(
            f"{name:<22}{low * 1e9:>9.1f}{low / best:>7.2f}x{med * 1e9:>11.1f}{med / base:>7.2f}x"
        )
    ratio = min(scalar["rampup s(t)"]) / best
    verdict = "met" if ratio <= 1.3 else "NOT met"
    print(f"goal: rampup s(t) <= 1.30x hand-written (best of {rounds}): {ratio:.2f}x, {verdict}\n")
    best_v, base_v = (
        min(vector["hand-written numpy"]),
        statistics.median(vector["hand-written numpy"]),
    )
    print(f"Vectorised evaluation of {n:,} steps, {len(vector['rampup .values()'])} rounds")
    print(f"{'contender':<22}{'best s':>9}{'ratio':>8}{'median s':>11}{'ratio':>8}")
    for name, samples in vector.items():
        low, med = min(samples), statistics.median(samples)
        print(f"{name:<22}{low:>9.3f}{low / best_v:>7.2f}x{med:>11.3f}{med / base_v:>7.2f}x")
    took = min(vector["rampup .values()"])
    print(f"goal: rampup < 0.300 s: {took:.3f} s, {'met' if took < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
