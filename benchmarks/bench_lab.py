"""Throughput of the lab's local backend: a grid on 1 worker versus 2 workers (issue #6, item 8).

Target: 2 workers complete the grid at >= 1.8x the rate of 1 worker (runs per second, start-up
of the pool included). Each run uses one torch thread, so the speed-up is bounded by the free
cores: on a machine shared with other jobs the ratio drops, which is why the load average is
printed beside it.

    .venv/bin/python benchmarks/bench_lab.py [--cells 16] [--steps 200] [--task markov-postln]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rampup.lab.runner import make_grid, run_grid

TARGET = 1.8


def _rate(task: str, cells: int, steps: int, workers: int) -> tuple[float, float, float]:
    """Runs per second of a grid of ``cells`` seeds on ``workers``; wall time; mean time per run.

    The mean time of one run inside its worker tells pool overhead from contention: if it grows
    with 2 workers, the cores were not free.
    """
    grid = make_grid([task], ["linear"], [1e-3], list(range(cells)), steps=steps, func="bench")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        new, _ = run_grid(grid, Path(tmp), workers=workers)
        wall = time.perf_counter() - start
    if len(new) != cells:
        raise SystemExit(f"expected {cells} runs, got {len(new)}")
    per_run = sum(float(r["wall_time"]) for r in new) / cells
    return cells / wall, wall, per_run


def main() -> None:
    """Time the grid on 1 and 2 workers and print the ratio against the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="markov-postln")
    parser.add_argument("--cells", type=int, default=16)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    r1, w1, p1 = _rate(args.task, args.cells, args.steps, 1)
    r2, w2, p2 = _rate(args.task, args.cells, args.steps, 2)
    ratio = r2 / r1
    print(f"grid: {args.cells} x {args.task}, {args.steps} steps, cores: {os.cpu_count()}")
    print(f"1 worker : {w1:7.1f} s  {r1:.3f} runs/s  ({p1:.2f} s per run inside the worker)")
    print(f"2 workers: {w2:7.1f} s  {r2:.3f} runs/s  ({p2:.2f} s per run inside the worker)")
    print(f"speed-up : {ratio:.2f}x (target >= {TARGET}x): {'ok' if ratio >= TARGET else 'MISSED'}")
    print(f"load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
