"""Whether the guard's rewind rescues a run whose warmup is too short (docs/monitor.md).

A Post-LN LM (the lab's ``markov-postln``, AdamW beta2 0.999, 200 updates) with a 4-update
linear warmup at peak lr 1e-2 and 2e-2: most such runs stall at the unigram loss. Each seed runs
three ways, the same schedule ``linear(4) >> cosine``:

- ``plain``: no guard;
- ``guard``: ``AdaptiveWarmup`` (holds and slows the clock), no rewind;
- ``rewind``: ``AdaptiveWarmup(rewind=True)`` with ``rampup.torch.Rewinder``.

Prints, per arm and lr, the final validation loss per seed, how many runs ended stuck (at or
above 0.98 x the unigram loss, the lab's collapse criterion), and the rewinds taken. Run:

    .venv/bin/python scripts/rewind_rescue.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import math
import statistics

import torch

import rampup.torch
from rampup import AdaptiveWarmup
from rampup.lab.optimizers import build_optimizer
from rampup.lab.strategies import resolve
from rampup.lab.tasks import constant_level, get_task
from rampup.lab.train import platform_info, setup

torch.set_num_threads(1)
SPEC = "linear(4) >> cosine"
TASK = "markov-postln"


def one(seed: int, lr: float, arm: str) -> tuple[float, int]:
    """Train one run; its final validation loss and the rewinds taken."""
    task = get_task(TASK)
    steps = task.steps
    built = setup(task, seed)
    opt = build_optimizer(task, resolve("none", task, steps), built.model.parameters(), lr)
    guard = None
    if arm != "plain":
        guard = AdaptiveWarmup.for_schedule(SPEC, total_steps=steps, rewind=arm == "rewind")
    sched = rampup.torch.Scheduler(opt, SPEC, total_steps=steps, controller=guard)
    rewinder = rampup.torch.Rewinder(built.model, opt, sched) if arm == "rewind" else None
    params = [p for g in opt.param_groups for p in g["params"]]
    t = 0
    while sched.last_epoch < steps:
        opt.zero_grad(set_to_none=True)
        loss = built.train_loss(t)
        t += 1
        if not math.isfinite(float(loss.detach())):
            return math.nan, 0 if rewinder is None else rewinder.rewinds
        loss.backward()  # type: ignore[no-untyped-call]
        if guard is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, math.inf)
            action = guard.observe(loss.detach(), grad_norm=norm)
            if action is not None:
                if rewinder is None:
                    return math.nan, 0
                rewinder.rewind(action)
                continue
        opt.step()
        sched.step()
        if rewinder is not None:
            rewinder.maybe_snapshot()
    return built.evaluate().loss, 0 if rewinder is None else rewinder.rewinds


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    task = get_task(TASK)
    const = constant_level(task)
    if const is None:  # pragma: no cover - the Markov task knows its unigram level
        raise SystemExit(f"{TASK} has no constant level")
    stuck = task.collapse_ratio * const
    print(f"{TASK}, {SPEC}, stuck: final loss >= {stuck:.3f}")
    print("| peak lr | arm | final loss per seed | stuck | rewinds | median |")
    print("| ---: | --- | --- | ---: | ---: | ---: |")
    for lr in (1e-2, 2e-2):
        for arm in ("plain", "guard", "rewind"):
            out = [one(s, lr, arm) for s in range(args.seeds)]
            losses = [loss for loss, _ in out]
            bad = sum(1 for x in losses if not math.isfinite(x) or x >= stuck)
            fin = [x if math.isfinite(x) else math.inf for x in losses]
            print(
                f"| {lr:g} | {arm} | {' / '.join(f'{x:.3f}' for x in losses)} | {bad}/{len(out)} "
                f"| {sum(r for _, r in out)} | {statistics.median(fin):.3f} |",
                flush=True,
            )
    p = platform_info()
    print(f"\nRan on torch {torch.__version__}, CPU capability {p['cpu_capability']}, one thread.")


if __name__ == "__main__":
    main()
