"""Runs per minute of the lab's two engines on the same grid and the same two cores (issue #13).

- **process** (today's way): ``rampup.lab.runner.run_grid`` with 2 worker processes of one torch
  thread each, every run a plain torch loop (``rampup.lab.train.run``, evaluation included),
  start-up of the pool included.
- **batched**: one process, ``torch.set_num_threads(2)``, the whole grid as one stacked model
  (``rampup.lab.batched.train_batched``): the task's own model (``task.build(seed).model``), its
  optimiser, its strategies' schedules, its batch shape and evaluation set size and points;
  the batches are drawn by this script (same shapes, same per-seed independence), since a lab
  task does not yet expose its sampler.

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
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rampup.lab.batched import Member, StackedModel, train_batched
from rampup.lab.functional_optim import OptimizerSpec
from rampup.lab.runner import make_grid, run_grid
from rampup.lab.strategies import resolve, schedule
from rampup.lab.tasks import Task, constant_level, get_task

GOAL = 5.0
POOL_TARGET = 1.8
STRATEGIES = ("none", "linear")
LRS = {"markov-postln": (1e-3, 3e-3, 1e-2), "digits-plainmlp": (0.03, 0.1, 0.3)}
#: The batch and evaluation shapes of the lab's tasks (tasks.py), for the bench's own sampler.
SHAPES: dict[str, dict[str, Any]] = {
    "markov-postln": {"kind": "lm", "vocab": 32, "length": 32, "batch": 16, "val": 128},
    "markov-preln": {"kind": "lm", "vocab": 32, "length": 32, "batch": 16, "val": 128},
    "digits-plainmlp": {"kind": "mlp", "features": 64, "classes": 10, "batch": 1024, "val": 497},
    "digits-largebatch-nobn": {
        "kind": "mlp", "features": 64, "classes": 10, "batch": 1024, "val": 497,
    },
}  # fmt: skip


# -- the process engine ------------------------------------------------------------------------
def process_engine(
    task: str, lrs: list[float], seeds: list[int], steps: int, workers: int = 2
) -> tuple[float, float]:
    """Wall time of the grid on ``workers`` processes, and the mean time of a run inside one."""
    grid = make_grid([task], list(STRATEGIES), lrs, seeds, steps=steps, func="bench")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        new, _ = run_grid(grid, Path(tmp), workers=workers)
        wall = time.perf_counter() - start
    if len(new) != len(grid.cells):
        raise SystemExit(f"expected {len(grid.cells)} runs, got {len(new)}")
    return wall, sum(float(r["wall_time"]) for r in new) / len(new)


# -- the batched engine ------------------------------------------------------------------------
def _sampler(shape: dict[str, Any]) -> Any:
    """``batch(seed, step)`` with the task's batch shape, from a per-seed generator."""
    gens: dict[int, np.random.Generator] = {}

    def batch(seed: int, step: int) -> tuple[Tensor, Tensor]:
        rng = gens.setdefault(seed, np.random.default_rng(seed))
        if shape["kind"] == "lm":
            x = torch.from_numpy(rng.integers(0, shape["vocab"], (shape["batch"], shape["length"])))
            return x[:, :-1], x[:, 1:]
        x = torch.from_numpy(rng.standard_normal((shape["batch"], shape["features"]), np.float32))
        return x, torch.from_numpy(rng.integers(0, shape["classes"], shape["batch"]))

    return batch


def _spec(task: Task) -> OptimizerSpec:
    if task.optimizer == "sgd":
        return OptimizerSpec("sgd", momentum=task.momentum, weight_decay=task.weight_decay)
    if task.optimizer == "adamw":
        return OptimizerSpec("adamw", betas=task.betas, weight_decay=task.weight_decay)
    return OptimizerSpec("adam", betas=task.betas, weight_decay=task.weight_decay)


def batched_engine(
    name: str, lrs: list[float], seeds: list[int], steps: int, threads: int = 2
) -> tuple[float, int]:
    """Wall time of the grid as one stack on ``threads`` threads; how many members failed."""
    task, shape = get_task(name), SHAPES[name]
    vocab = int(shape["vocab"] if shape["kind"] == "lm" else shape["classes"])
    ce = nn.CrossEntropyLoss()

    def loss_fn(out: Tensor, y: Tensor) -> Tensor:
        loss: Tensor = ce(out.reshape(-1, vocab), y.reshape(-1))
        return loss

    g = np.random.default_rng(99)
    if shape["kind"] == "lm":
        val = torch.from_numpy(g.integers(0, vocab, (shape["val"], shape["length"])))
        val_x, val_y = val[:, :-1], val[:, 1:]
    else:
        val_x = torch.from_numpy(g.standard_normal((shape["val"], shape["features"]), np.float32))
        val_y = torch.from_numpy(g.integers(0, vocab, shape["val"]))

    def evaluate(stack: StackedModel) -> dict[str, list[float]]:
        logits = stack.forward(val_x)
        losses = [float(loss_fn(logits[i], val_y)) for i in range(stack.size)]
        errors = (logits.argmax(-1) != val_y).float().flatten(1).mean(1).tolist()
        return {"val_loss": losses, "score": errors}

    members = [
        Member.scheduled(
            seed, lr, schedule(resolve(s, task, steps, func="bench"), steps), steps, label=s
        )
        for s in STRATEGIES
        for lr in lrs
        for seed in seeds
    ]
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        run = train_batched(
            task.model, _sampler(shape), loss_fn, members, _spec(task),
            steps, evaluate=evaluate, eval_every=min(task.eval_every, steps),
            blowup=1000.0 * (constant_level(task) or math.inf),
        )  # fmt: skip
    finally:
        torch.set_num_threads(before)
    return run.wall_time, sum(r.failed for r in run.results)


def profile_step(name: str, members: int, threads: int = 2) -> None:
    """Where a batched step spends its time: torch's profiler over 3 steps, top operators."""
    from torch.profiler import profile  # noqa: PLC0415

    torch.set_num_threads(threads)
    with profile() as prof:
        batched_engine(name, [1e-3], list(range(members)), 3, threads)
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
        p_wall, p_run, b_wall, failed = math.inf, math.inf, math.inf, 0
        for _ in range(repeat):
            wall, per_run = process_engine(name, lrs, seeds, n_steps)
            p_wall, p_run = min(p_wall, wall), min(p_run, per_run)
            print(f"{name}: process {wall:.1f} s", file=sys.stderr, flush=True)
            wall, failed = batched_engine(name, lrs, seeds, n_steps)
            b_wall = min(b_wall, wall)
            print(f"{name}: batched {wall:.1f} s", file=sys.stderr, flush=True)
        p_rate, b_rate = 60 * n / p_wall, 60 * n / b_wall
        inner = 60 * 2 / p_run  # runs per minute of 2 workers, counting only time inside runs
        rows.append((name, n, n_steps, p_wall, p_rate, inner, b_wall, b_rate, failed))
    print(f"\ncores: {os.cpu_count()}, torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"load average (1 min) {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    print("| task | runs | steps | process wall (s) | process runs/min | (inside runs) "
          "| batched wall (s) | batched runs/min | failed (batched) | ratio |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, n_steps, p_wall, p_rate, inner, b_wall, b_rate, failed in rows:
        ratio = b_rate / p_rate
        print(f"| {name} | {n} | {n_steps} | {p_wall:.1f} | {p_rate:.1f} | {inner:.1f} "
              f"| {b_wall:.1f} | {b_rate:.1f} | {failed} | {ratio:.2f}x |")  # fmt: skip
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
            profile_step(name, len(seeds) * nlrs * len(STRATEGIES))


if __name__ == "__main__":
    main()
