"""Benchmark of the PyTorch adapter (issue #3, point 10). Prints tables; not a timed test.

1. ``step()`` cost of warmup + cosine with 1 and 8 param groups: rampup.torch.Scheduler against
   torch LambdaLR, torch SequentialLR(LinearLR, CosineAnnealingLR), HF
   get_cosine_schedule_with_warmup, timm CosineLRScheduler.step_update, pytorch_warmup over
   CosineAnnealingLR, a minimal hand-written closed form (as a class, and as a closure: a plain
   function over captured constants that writes each group's lr) and the floor (writing
   precomputed floats). Contenders are interleaved (A B C ... A B C ...) in one run; medians and
   ratios. Goal: rampup <= 1.3x the minimal closed form (both forms) and >= 2.5x faster than timm.
2. Resume at step 10**6: ``load_state_dict`` time at steps 10, 10**6 and 10**12 (O(1)), and the
   restored lr against the uninterrupted run's (bitwise).
3. A ``torch.compile``d AdamW step with a changing lr: recompiles and median step time, float lr
   against tensor lr.

    .venv/bin/python benchmarks/bench_torch.py [--quick] [--backend inductor|eager] [--no-compile]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import statistics
import sys
import time
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_warmup as pw
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR
from transformers import get_cosine_schedule_with_warmup

import rampup
import rampup.torch as rt

torch.set_num_threads(1)
# The step() benchmark never runs an optimizer update, on purpose: torch's schedulers then warn.
warnings.filterwarnings("ignore", "Detected call of", UserWarning)

WARMUP, TOTAL = 1_000, 20_000
BASE = 1e-3
Stepper = Callable[[], Any]


def _timm_cosine() -> Any:
    """The CosineLRScheduler of timm, loaded without timm/__init__ (which needs torchvision)."""
    spec = importlib.util.find_spec("timm")
    if spec is None or spec.origin is None:
        raise SystemExit("timm is not installed")
    package = types.ModuleType("_timm_scheduler_only")
    package.__path__ = [str(Path(spec.origin).parent / "scheduler")]
    sys.modules.setdefault("_timm_scheduler_only", package)
    return importlib.import_module("_timm_scheduler_only.cosine_lr").CosineLRScheduler


def hand_written(t: int) -> float:
    """nanoGPT-style warmup + cosine: the seeds' get_lr_with_warmup, as a multiplier."""
    if t < WARMUP:
        return (t + 1) / WARMUP
    if t >= TOTAL:
        return 0.0
    progress = (t - WARMUP) / (TOTAL - WARMUP)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class Minimal:
    """The minimal hand-written closed-form scheduler: a counter, the formula, the writes."""

    def __init__(self, opt: torch.optim.Optimizer) -> None:
        self.groups = opt.param_groups
        self.bases = [g["lr"] for g in self.groups]
        self.t = 0

    def step(self) -> None:
        """One update: the formula inline, then write every group."""
        self.t += 1
        t = self.t
        if t < WARMUP:
            f = (t + 1) / WARMUP
        elif t < TOTAL:
            f = 0.5 * (1.0 + math.cos(math.pi * ((t - WARMUP) / (TOTAL - WARMUP))))
        else:
            f = 0.0
        for g, b in zip(self.groups, self.bases, strict=False):
            g["lr"] = b * f


def closure(opt: torch.optim.Optimizer) -> Stepper:
    """The minimal closed form as a closure: a plain function over captured constants.

    The form a hand-written loop takes (optax-style): the formula inline, then each group's lr
    written, with the counter, the groups and the base rates captured once.
    """
    groups = opt.param_groups
    pairs = [(g, g["lr"]) for g in groups]
    cos, pi, warmup, total, decay = math.cos, math.pi, WARMUP, TOTAL, TOTAL - WARMUP
    t = 0

    def step() -> None:
        nonlocal t
        t += 1
        if t < warmup:
            f = (t + 1) / warmup
        elif t < total:
            f = 0.5 * (1.0 + cos(pi * ((t - warmup) / decay)))
        else:
            f = 0.0
        for g, b in pairs:
            g["lr"] = b * f

    return step


class Floor:
    """Writing precomputed floats into the groups: no formula at all."""

    def __init__(self, opt: torch.optim.Optimizer, steps: int) -> None:
        self.groups = opt.param_groups
        self.table = [[g["lr"] * hand_written(t) for g in self.groups] for t in range(steps + 2)]
        self.t = 0

    def step(self) -> None:
        """One update: write row t."""
        self.t += 1
        for g, v in zip(self.groups, self.table[self.t], strict=False):
            g["lr"] = v


def _optimizer(groups: int) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": BASE} for _ in range(groups)]
    )


def _contenders(groups: int, steps: int) -> dict[str, Callable[[], Stepper]]:
    """Name -> a factory building a fresh optimizer + scheduler and returning its step()."""
    timm_cosine = _timm_cosine()

    def floor() -> Stepper:
        return Floor(_optimizer(groups), steps).step

    def minimal() -> Stepper:
        return Minimal(_optimizer(groups)).step

    def closed() -> Stepper:
        return closure(_optimizer(groups))

    def ours() -> Stepper:
        spec = f"linear({WARMUP}) >> cosine"
        return rt.Scheduler(_optimizer(groups), spec, total_steps=TOTAL).step

    def lambda_lr() -> Stepper:
        return LambdaLR(_optimizer(groups), hand_written).step

    def sequential() -> Stepper:
        opt = _optimizer(groups)
        warm = LinearLR(opt, start_factor=1 / WARMUP, total_iters=WARMUP)
        cos = CosineAnnealingLR(opt, T_max=TOTAL - WARMUP)
        return SequentialLR(opt, [warm, cos], milestones=[WARMUP]).step

    def hf() -> Stepper:
        opt = _optimizer(groups)
        return get_cosine_schedule_with_warmup(opt, WARMUP, TOTAL).step  # type: ignore[no-any-return]

    def timm() -> Stepper:
        sched = timm_cosine(
            _optimizer(groups),
            t_initial=TOTAL - WARMUP,
            warmup_t=WARMUP,
            warmup_prefix=True,
            t_in_epochs=False,
        )
        counter = [0]

        def step() -> None:
            counter[0] += 1
            sched.step_update(num_updates=counter[0])

        return step

    def pytorch_warmup() -> Stepper:
        opt = _optimizer(groups)
        cos = CosineAnnealingLR(opt, T_max=TOTAL - WARMUP)
        warm = pw.LinearWarmup(opt, warmup_period=WARMUP)

        def step() -> None:
            with warm.dampening():
                cos.step()

        return step

    return {
        "floor (precomputed floats)": floor,
        "minimal closed form": minimal,
        "closure closed form": closed,
        "rampup Scheduler": ours,
        "timm CosineLRScheduler": timm,
        "torch LambdaLR": lambda_lr,
        "HF cosine_with_warmup": hf,
        "torch SequentialLR": sequential,
        "pytorch_warmup + Cosine": pytorch_warmup,
    }


def _time_steps(step: Stepper, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def bench_step(groups: int, rounds: int) -> None:
    """Section 1: the table of step() costs for ``groups`` param groups.

    Each contender runs the whole schedule once (warmup and decay), in ``rounds`` chunks; the
    chunks are interleaved across contenders, and the median chunk is reported.
    """
    chunk = TOTAL // rounds
    steppers = {name: make() for name, make in _contenders(groups, TOTAL).items()}
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for _ in range(rounds):
        for name, step in steppers.items():  # interleaved: every contender in every round
            times[name].append(_time_steps(step, chunk))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    minimal = med["minimal closed form"]
    closed = med["closure closed form"]
    ours = med["rampup Scheduler"]
    baselines = ("floor (precomputed floats)", "minimal closed form", "closure closed form")
    peers = [n for n in med if n not in baselines]
    peers.remove("rampup Scheduler")
    fastest = min(peers, key=med.__getitem__)
    print(f"\n## step() cost, warmup + cosine, {groups} param group(s), {rounds} x {chunk} steps")
    print("| contender | median us/step | x minimal | x closure | x rampup |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, m in sorted(med.items(), key=lambda kv: kv[1]):
        print(f"| {name} | {m * 1e6:.3f} | {m / minimal:.2f} | {m / closed:.2f} | {m / ours:.2f} |")
    print(
        f"rampup / minimal = {ours / minimal:.2f}, rampup / closure = {ours / closed:.2f}"
        f" (goal <= 1.3); timm / rampup = {med['timm CosineLRScheduler'] / ours:.2f}, fastest"
        f" peer ({fastest}) / rampup = {med[fastest] / ours:.2f} (goal >= 2.5)"
    )


def bench_resume(rounds: int) -> None:
    """Section 2: load_state_dict cost at growing steps, and exactness at step 10**6."""
    spec = f"linear({WARMUP}) >> cosine"
    big = 10**6
    total = 2 * big
    opt = _optimizer(1)
    run = rt.Scheduler(opt, spec, total_steps=total)
    start = time.perf_counter()
    for _ in range(big):
        run.step()
    replay = time.perf_counter() - start
    uninterrupted = opt.param_groups[0]["lr"]
    state = run.state_dict()
    loads: dict[int, list[float]] = {10: [], big: [], 10**12: []}
    labels = {10: "10", big: "10**6", 10**12: "10**12"}
    restored = math.nan
    for _ in range(rounds):
        for k, seconds in loads.items():
            st = {**state, "last_epoch": k, "clock": float(k)}
            fresh = _optimizer(1)
            sched = rt.Scheduler(fresh, spec, total_steps=total)
            t0 = time.perf_counter()
            sched.load_state_dict(st)
            seconds.append(time.perf_counter() - t0)
            if k == big:
                restored = fresh.param_groups[0]["lr"]
    print(f"\n## resume: load_state_dict at step k ({rounds} rounds, median)")
    print("| k | median us |")
    print("| ---: | ---: |")
    for k, ts in loads.items():
        print(f"| {labels[k]} | {statistics.median(ts) * 1e6:.1f} |")
    exact = restored == uninterrupted
    print(
        f"step 10**6: restored lr {restored!r} == uninterrupted {uninterrupted!r}: {exact}"
        f" (the uninterrupted run took {replay:.2f} s to get there; a replay would too)"
    )


def bench_compile(backend: str, steps: int) -> None:
    """Section 3: a compiled AdamW step with a changing lr, float lr vs tensor lr."""
    from torch._dynamo.utils import counters  # noqa: PLC0415  # dynamo loads on demand

    print(f"\n## torch.compile(backend={backend!r}) AdamW step + scheduler.step(), {steps} steps")
    print("| lr | first step s | recompiles after it | median ms/step after 5 |")
    print("| --- | ---: | ---: | ---: |")
    for kind in ("float", "tensor"):
        torch._dynamo.reset()
        counters.clear()
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64))
        lr: float | torch.Tensor = torch.tensor(1e-3) if kind == "tensor" else 1e-3
        opt = torch.optim.AdamW(model.parameters(), lr=lr)
        sched = rt.Scheduler(opt, "linear(10) >> cosine", total_steps=steps)
        model(torch.ones(8, 64)).sum().backward()

        @torch.compile(backend=backend)
        def compiled_step() -> None:
            opt.step()  # noqa: B023  # bound per contender on purpose

        t0 = time.perf_counter()
        compiled_step()
        sched.step()
        first = time.perf_counter() - t0
        graphs = counters["stats"]["unique_graphs"]
        times = []
        for _ in range(steps - 1):
            t0 = time.perf_counter()
            compiled_step()
            sched.step()
            times.append(time.perf_counter() - t0)
        recompiles = counters["stats"]["unique_graphs"] - graphs
        median = statistics.median(times[5:]) * 1e3
        print(f"| {kind} | {first:.1f} | {recompiles} | {median:.3f} |")
    torch._dynamo.reset()


def main() -> None:
    """Run the three sections and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and steps")
    parser.add_argument("--backend", default="inductor", help="torch.compile backend")
    parser.add_argument("--no-compile", action="store_true", help="skip section 3")
    args = parser.parse_args()
    rounds = 10 if args.quick else 40
    s = rampup.parse(f"linear({WARMUP}) >> cosine").bind(total_steps=TOTAL)
    for t in (0, WARMUP - 1, WARMUP, TOTAL // 2, TOTAL - 1):  # the same curve, or no contest
        if not math.isclose(s(t), hand_written(t), rel_tol=1e-12, abs_tol=1e-15):
            raise SystemExit(f"contenders disagree at step {t}: {s(t)} vs {hand_written(t)}")
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}")
    for groups in (1, 8):
        bench_step(groups, rounds)
    bench_resume(5 if args.quick else 15)
    if not args.no_compile:
        bench_compile(args.backend, 30 if args.quick else 60)


if __name__ == "__main__":
    main()
