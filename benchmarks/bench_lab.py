"""Runs per minute of the lab's two engines on the same grid and the same two cores (issue #13).

Both go through the lab's own path, ``rampup.lab.runner.run_grid`` on 2 workers of one torch
thread each (pool start-up, task loading, evaluation and writing results.jsonl included):

- **process**: ``engine="process"``, every run a plain torch loop (``rampup.lab.train.run``);
- **batched**: ``engine="batched"``, the grid as stacks (one per worker) of members trained as
  one stacked model (``rampup.lab.engines.run_stack``).

The grid is seeds x peak lrs x strategies (none, linear): 5 x 3 x 2 = 30 runs by default, on a
Transformer task (markov-postln, 200 steps) and an MLP task (digits-plainmlp, 100 steps). The
goal of the issue is a ratio >= 5x. ``--pool`` runs the older comparison instead: the process
engine on 1 worker versus 2 workers (issue #6, item 8; target >= 1.8x).

    .venv/bin/python benchmarks/bench_lab.py [--quick] [--profile] [--tasks markov-postln ...]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from rampup.lab.engines import run_stack
from rampup.lab.runner import make_grid, run_grid
from rampup.lab.tasks import get_task
from rampup.lab.train import RunConfig

GOAL = 5.0
POOL_TARGET = 1.8
STRATEGIES = ("none", "linear")
LRS = {"markov-postln": (1e-3, 3e-3, 1e-2), "digits-plainmlp": (0.03, 0.1, 0.3)}


def engine_run(
    engine: str, task: str, lrs: list[float], seeds: list[int], steps: int, workers: int = 2
) -> tuple[float, float, int]:
    """The grid through ``run_grid`` on ``engine``: wall time, mean run time inside, failures."""
    grid = make_grid([task], list(STRATEGIES), lrs, seeds, steps=steps, func="bench")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        new, _ = run_grid(grid, Path(tmp), workers=workers, engine=engine, log=None)
        wall = time.perf_counter() - start
    if len(new) != len(grid.cells) or {r["engine"] for r in new} != {engine}:
        raise SystemExit(f"expected {len(grid.cells)} {engine} runs, got {len(new)}")
    inner = sum(float(r["wall_time"]) for r in new) / len(new)
    return wall, inner, sum(bool(r["diverged"]) for r in new)


def process_engine(
    task: str, lrs: list[float], seeds: list[int], steps: int, workers: int = 2
) -> tuple[float, float]:
    """Wall time of the grid on ``workers`` processes, and the mean time of a run inside one."""
    wall, inner, _ = engine_run("process", task, lrs, seeds, steps, workers)
    return wall, inner


def profile_step(name: str, members: int) -> None:
    """Where a stack spends its time: torch's profiler over 3 steps, top operators."""
    from torch.profiler import profile  # noqa: PLC0415

    cells = [RunConfig(name, "none", 1e-3, seed, 3) for seed in range(members)]
    with profile() as prof:
        run_stack(cells)
    print(f"\n### where the time goes: {name}, {members} members, 3 steps (self CPU)\n")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


# -- the report --------------------------------------------------------------------------------
def compare(
    tasks: list[str], seeds: list[int], steps: dict[str, int], nlrs: int, repeat: int
) -> None:
    """Both engines on each task's grid; a markdown table with the ratio of runs per minute.

    With ``repeat`` > 1 the engines alternate and each keeps its best wall time (the machine's
    other load only ever slows a measurement down).
    """
    rows = []
    for name in tasks:
        lrs = list(LRS.get(name, (1e-3, 3e-3, 1e-2)))[:nlrs]
        n = len(seeds) * len(lrs) * len(STRATEGIES)
        n_steps = steps.get(name, get_task(name).steps)
        p_wall, p_run, b_wall, failed, p_failed = math.inf, math.inf, math.inf, 0, 0
        for _ in range(repeat):
            wall, per_run, p_failed = engine_run("process", name, lrs, seeds, n_steps)
            p_wall, p_run = min(p_wall, wall), min(p_run, per_run)
            print(f"{name}: process {wall:.1f} s", file=sys.stderr, flush=True)
            wall, _, failed = engine_run("batched", name, lrs, seeds, n_steps)
            b_wall = min(b_wall, wall)
            print(f"{name}: batched {wall:.1f} s", file=sys.stderr, flush=True)
        p_rate, b_rate = 60 * n / p_wall, 60 * n / b_wall
        inner = 60 * 2 / p_run  # runs per minute of 2 workers, counting only time inside runs
        rows.append((name, n, n_steps, p_wall, p_rate, inner, b_wall, b_rate, p_failed, failed))
    print(f"\ncores: {os.cpu_count()}, torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"load average (1 min) {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    print("| task | runs | steps | process wall (s) | process runs/min | (inside runs) "
          "| batched wall (s) | batched runs/min | failed (proc / batch) | ratio |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, n_steps, p_wall, p_rate, inner, b_wall, b_rate, p_failed, failed in rows:
        ratio = b_rate / p_rate
        print(f"| {name} | {n} | {n_steps} | {p_wall:.1f} | {p_rate:.1f} | {inner:.1f} "
              f"| {b_wall:.1f} | {b_rate:.1f} | {p_failed}/{failed} | {ratio:.2f}x |")  # fmt: skip
    for row in rows:
        ratio = row[7] / row[4]
        verdict = "ok" if ratio >= GOAL else "MISSED"
        print(f"\n{row[0]}: batched / process = {ratio:.2f}x (goal >= {GOAL}x): {verdict}")


def pool(task: str, cells: int, steps: int) -> None:
    """The process engine on 1 worker versus 2 (runs per second, pool start-up included)."""
    load_before = os.getloadavg()[0]
    rates = []
    for workers in (1, 2):
        wall, per_run = process_engine(task, [1e-3], list(range(cells // 2)), steps, workers)
        rates.append(cells / wall)
        print(f"{workers} worker(s): {wall:7.1f} s  {cells / wall:.3f} runs/s  "
              f"({per_run:.2f} s per run inside the worker)")  # fmt: skip
    ratio = rates[1] / rates[0]
    verdict = "ok" if ratio >= POOL_TARGET else "MISSED"
    print(f"speed-up : {ratio:.2f}x (target >= {POOL_TARGET}x): {verdict}")
    print(f"load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")


def main() -> None:
    """Parse the options and run the comparison (or the pool benchmark, or a profile)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", nargs="+", default=["markov-postln", "digits-plainmlp"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 seeds x 2 lrs, 40 steps")
    parser.add_argument("--profile", action="store_true", help="profile 3 batched steps")
    parser.add_argument("--pool", action="store_true", help="1 vs 2 workers (issue #6)")
    parser.add_argument("--repeat", type=int, default=1, help="best of n, engines alternating")
    args = parser.parse_args()
    if args.pool:
        pool(args.tasks[0], 16 if not args.quick else 4, 200 if not args.quick else 40)
        return
    seeds = [0, 1] if args.quick else list(range(args.seeds))
    nlrs = 2 if args.quick else 3
    steps = dict.fromkeys(args.tasks, 40) if args.quick else {}
    compare(args.tasks, seeds, steps, nlrs, max(1, args.repeat))
    if args.profile:
        for name in args.tasks:
            profile_step(name, len(seeds) * nlrs * len(STRATEGIES) // 2)


if __name__ == "__main__":
    main()
