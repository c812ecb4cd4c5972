"""Benchmark and evidence of the stability monitor.

Default: the per-update cost of ``Monitor.update`` (loss only; loss + gradient norm + lr) and of
``AdaptiveWarmup.observe`` + ``advance``, against a bare Python function call, medians of
interleaved rounds.

``--evidence``: the table of docs/monitor.md. A tiny Post-LN Transformer encoder
(tests/data/monitor/postln.py) trained with Adam(0.9, 0.98) at a high peak learning rate, per
strategy and seed: the final training loss (mean of the last 20 updates), the monitor's first
events and the guard's holds.

    .venv/bin/python benchmarks/bench_monitor.py [--quick]
    .venv/bin/python benchmarks/bench_monitor.py --evidence [--seeds 3] [--peak 0.03]
    .venv/bin/python benchmarks/bench_monitor.py --lab digits-words --peak 0.01

``--lab TASK``: the same comparison on a task of the lab (``rampup.lab.tasks``; the seeds' toy
seq2seq with a Post-LN ``nn.Transformer`` is ``digits-words``), with the task's own model, data,
Adam betas and length; the table gives the validation loss and error at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rampup import Monitor
from rampup.adaptive import AdaptiveWarmup


def _noop(loss: float) -> None:
    """The floor: one Python call per update."""


def overhead(n: int, rounds: int) -> None:
    """Print the per-update cost of the monitor and the guard."""
    rng = random.Random(0)
    losses = [2.0 * (1 + 0.1 * rng.random()) for _ in range(n)]
    norms = [1.0 + 0.2 * rng.random() for _ in range(n)]

    def bare() -> None:
        for x in losses:
            _noop(x)

    def loss_only() -> None:
        m = Monitor(history=False)
        for x in losses:
            m.update(x)

    def full() -> None:
        m = Monitor(1000)
        for x, g in zip(losses, norms, strict=True):
            m.update(x, grad_norm=g, lr=0.1)

    def guard() -> None:
        c = AdaptiveWarmup(1000)
        clock = 0.0
        for i, (x, g) in enumerate(zip(losses, norms, strict=True), start=1):
            c.observe(x, grad_norm=g)
            clock = c.advance(i, clock)

    contenders = {
        "bare call (floor)": bare,
        "Monitor.update(loss), no history": loss_only,
        "Monitor.update(loss, grad_norm, lr)": full,
        "AdaptiveWarmup.observe + advance": guard,
    }
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) / n)
    print(f"| per update ({n} updates, median of {rounds}) | us |")
    print("| --- | --- |")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts) * 1e6:.2f} |")


def _task() -> Any:
    path = Path(__file__).resolve().parents[1] / "tests" / "data" / "monitor" / "postln.py"
    spec = importlib.util.spec_from_file_location("rampup_bench_postln", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def evidence(seeds: int, peak: float, steps: int) -> None:
    """Train every strategy over ``seeds`` seeds; print the table."""
    import torch  # noqa: PLC0415  # only the evidence needs torch

    torch.set_num_threads(1)
    task = _task()
    print(f"Post-LN encoder, Adam(0.9, 0.98), peak lr {peak}, {steps} updates, batch 32")
    print()
    print("| strategy | " + " | ".join(f"seed {s}" for s in range(seeds)) + " | mean |")
    print("| --- | " + " | ".join("---" for _ in range(seeds)) + " | --- |")
    detail = []
    for name in task.STRATEGIES:
        finals = []
        for seed in range(seeds):
            run = task.train(seed, name, peak=peak, steps=steps)
            finals.append(run.final)
            first = ", ".join(run.events[:3]) + (" ..." if len(run.events) > 3 else "")
            detail.append(
                f"| {name} | {seed} | {len(run.events)} | {first or '-'} | {run.holds} |"
                f" {run.slowed} |"
            )
        cells = " | ".join(f"{f:.3f}" for f in finals)
        print(f"| {name} | {cells} | {statistics.mean(finals):.3f} |")
    print()
    print("| strategy | seed | events | first events | holds | slowed |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(detail))


def lab(task_name: str, seeds: int, peak: float) -> None:
    """Train the lab's ``task_name`` with each strategy over ``seeds`` seeds; print the table."""
    import math  # noqa: PLC0415

    import torch  # noqa: PLC0415  # only the evidence needs torch

    import rampup.torch  # noqa: PLC0415
    from rampup.lab.tasks import constant_level, get_task  # noqa: PLC0415
    from rampup.lab.train import setup as task_setup  # noqa: PLC0415

    torch.set_num_threads(1)
    task = get_task(task_name)
    steps, beta2 = task.steps, task.betas[1]
    strategies = {
        "none": ("cosine(to=0)", False),
        "linear 10%": ("linear(10%) >> cosine", False),
        "linear 10% + guard": ("linear(10%) >> cosine", True),
        f"auto({beta2}), no guard": (f"auto({beta2}) >> cosine", False),
        f"auto({beta2}) + guard": (f"auto({beta2}) >> cosine", True),
    }
    watch = AdaptiveWarmup.for_schedule(f"auto({beta2}) >> cosine", total_steps=steps).warmup_steps
    print(f"lab task {task_name}: {task.summary}; peak lr {peak}")
    print(f"constant-predictor loss {constant_level(task):.3f}")
    print()
    print("| strategy | seed | val loss | val error | events | first events | holds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, (spec, guarded) in strategies.items():
        for seed in range(seeds):
            torch.manual_seed(seed)
            setup = task_setup(task, seed)
            params = setup.model.parameters()
            opt = torch.optim.Adam(
                params, lr=peak, betas=task.betas, weight_decay=task.weight_decay
            )
            guard = AdaptiveWarmup.for_schedule(spec, total_steps=steps) if guarded else None
            own = AdaptiveWarmup.for_schedule(spec, total_steps=steps).warmup_steps
            monitor = guard.monitor if guard is not None else Monitor(own if own < steps else watch)
            sched = rampup.torch.Scheduler(opt, spec, total_steps=steps, controller=guard)
            for t in range(steps):
                opt.zero_grad(set_to_none=True)
                loss = setup.train_loss(t)
                loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
                norm = float(torch.nn.utils.clip_grad_norm_(setup.model.parameters(), math.inf))
                value = float(loss.detach())
                if guard is not None:
                    if guard.observe(value, grad_norm=norm) is not None:
                        break  # a real loop restores a checkpoint here
                else:
                    monitor.update(value, grad_norm=norm)
                opt.step()
                sched.step()
            ev = setup.evaluate()
            kinds = [f"{e.kind}@{e.step}" for e in monitor.events]
            first = ", ".join(kinds[:3]) + (" ..." if len(kinds) > 3 else "")
            holds = guard.holds if guard is not None else "-"
            print(
                f"| {name} | {seed} | {ev.loss:.3f} | {ev.score:.3f} | {len(kinds)} |"
                f" {first or '-'} | {holds} |",
                flush=True,
            )


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer updates and rounds")
    parser.add_argument("--evidence", action="store_true", help="the Post-LN table")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--peak", type=float, default=0.03)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lab", metavar="TASK", help="the comparison on a task of the lab")
    args = parser.parse_args()
    if args.lab:
        lab(args.lab, args.seeds, args.peak)
    elif args.evidence:
        evidence(args.seeds, args.peak, args.steps)
    else:
        overhead(2_000 if args.quick else 20_000, 3 if args.quick else 7)


if __name__ == "__main__":
    main()
