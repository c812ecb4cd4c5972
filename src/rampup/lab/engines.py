"""The lab's two engines behind one grid: which cells train stacked, and their records.

- ``process``: one run per job, a plain torch loop (:func:`rampup.lab.train.run`).
- ``batched``: a *stack* per job: the cells of one task, one run length and one optimiser kind
  (RAdam strategies are their own stack) trained as one stacked model by
  :func:`rampup.lab.batched.train_batched` (:func:`run_stack`). Each member's learning rate at
  update ``t`` is ``peak_lr * f(t)``, read from a ``rampup.torch.Scheduler`` driving a dummy
  optimiser over the same schedule as the process engine's, so the rates are the values the
  process engine writes, bit for bit. The guarded strategy (``auto``) gets its guard per member
  (:class:`GuardedLr`). Each member is evaluated with the task's own ``evaluate`` on a plain copy
  of its model (:func:`rampup.lab.protocol.evaluation`: eval mode, no_grad, the same checks), and
  its record is the process engine's format (:func:`rampup.lab.train.make_record`) with
  ``"engine": "batched"`` and ``wall_time`` the stack's wall time divided by its members.

The default, ``batched``, falls back to the process engine for a task whose model cannot be
stacked (:func:`rampup.lab.stacked.unbatchable_reason`: batch norm, dropout); :func:`plan_jobs`
says which engine runs each (task, optimiser) group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rampup import RampupError
from rampup.lab.batched import Member, MemberResult, train_batched, unbatchable_reason
from rampup.lab.functional_optim import OptimizerSpec
from rampup.lab.loading import load_task
from rampup.lab.optimizers import optimizer_kind
from rampup.lab.protocol import Task, constant_level, evaluation
from rampup.lab.strategies import Strategy, resolve, schedule
from rampup.lab.train import (
    BLOWUP,
    RunConfig,
    Trace,
    check_lr,
    make_record,
    platform_info,
)

if TYPE_CHECKING:
    from rampup.core.schedule import Schedule
    from rampup.lab.stacked import StackedModel

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "GuardedLr",
    "Job",
    "check_engine",
    "optimizer_spec",
    "plan_jobs",
    "run_stack",
    "scheduler_lrs",
]

ENGINES = ("batched", "process")
#: The default engine. The batched engine is not yet faster than one process per run on the
#: lab's tasks (benchmarks/bench_lab.py), so the default stays the exact, familiar one.
DEFAULT_ENGINE = "process"


def check_engine(engine: object, *, func: str = "lab run") -> str:
    """The engine's name, checked: ``batched`` or ``process``."""
    if engine not in ENGINES:
        raise RampupError.invalid(func, "--engine", engine, "one of " + ", ".join(ENGINES))
    return str(engine)


@dataclass(frozen=True)
class Job:
    """One unit of work for a worker: one cell (``process``) or a stack of cells (``batched``)."""

    engine: str
    cells: tuple[RunConfig, ...]


def _steps(cfg: RunConfig, task: Task) -> int:
    return cfg.steps if cfg.steps is not None else task.steps


def _batchable(task: Task, ref: str, cache: dict[str, str | None]) -> str | None:
    """Why ``task``'s model cannot be stacked (seed 0's model is inspected), or None."""
    if ref not in cache:
        cache[ref] = unbatchable_reason(task.model(0))
    return cache[ref]


def plan_jobs(
    cells: Sequence[RunConfig],
    engine: str,
    workers: int,
    log: Callable[[str], None] | None = None,
) -> list[Job]:
    """Group ``cells`` into jobs, and say (``log``) which engine runs each group.

    A group is the cells of one task, run length and optimiser kind. With ``engine="batched"``
    a batchable group becomes stacks: one, or as many as it takes to give ``workers`` workers a
    stack each (at most one member per stack); an unbatchable group, and every group with
    ``engine="process"``, becomes one job per cell.
    """
    engine = check_engine(engine)
    tasks: dict[str, Task] = {}
    groups: dict[tuple[str, int, str], list[RunConfig]] = {}
    names: dict[tuple[str, int, str], list[str]] = {}
    for cfg in cells:
        task = tasks.setdefault(cfg.task, load_task(cfg.task, func="lab run"))
        steps = _steps(cfg, task)
        strat = resolve(cfg.strategy, task, steps, func="lab run")
        kind = optimizer_kind(task, strat)
        # a probed strategy measures each run's own model first: one process per run
        key = (cfg.task, steps, kind + (", probed" if strat.probed else ""))
        groups.setdefault(key, []).append(cfg)
        if cfg.strategy not in names.setdefault(key, []):
            names[key].append(cfg.strategy)
    cache: dict[str, str | None] = {}
    per_group = max(1, math.ceil(workers / max(1, len(groups))))
    jobs: list[Job] = []
    for key, group in groups.items():
        ref, _, kind = key
        what = f"task {ref}, strategy {', '.join(names[key])} ({kind}), {len(group)} runs"
        why = (
            "--engine process"
            if engine == "process"
            else "the probe measures each run's model on its own"
            if kind.endswith(", probed")
            else _batchable(tasks[ref], ref, cache)
        )
        if why is not None:
            jobs.extend(Job("process", (c,)) for c in group)
            if log is not None:
                log(f"engine: process for {what} ({why})")
            continue
        k = min(len(group), per_group)
        size = math.ceil(len(group) / k)
        stacks = [tuple(group[i : i + size]) for i in range(0, len(group), size)]
        jobs.extend(Job("batched", s) for s in stacks)
        if log is not None:
            log(f"engine: batched for {what} in {len(stacks)} stack(s)")
    return jobs


def optimizer_spec(task: Task, strategy: Strategy) -> OptimizerSpec:
    """The process engine's optimiser (``build_optimizer``) as an :class:`OptimizerSpec`."""
    kind = optimizer_kind(task, strategy)
    if kind == "radam":
        return OptimizerSpec(
            "radam", betas=task.betas, weight_decay=task.weight_decay,
            decoupled_weight_decay=task.optimizer == "adamw",
        )  # fmt: skip
    if kind in ("adamw", "adam"):
        return OptimizerSpec(kind, betas=task.betas, weight_decay=task.weight_decay)  # type: ignore[arg-type]
    return OptimizerSpec("sgd", momentum=task.momentum, weight_decay=task.weight_decay)


def _scheduler(plan: Schedule | str, peak_lr: float, steps: int) -> Any:
    """A ``rampup.torch.Scheduler`` over a one-parameter dummy SGD at ``peak_lr``."""
    import torch  # noqa: PLC0415

    import rampup.torch  # noqa: PLC0415

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=peak_lr)
    return rampup.torch.Scheduler(opt, plan, total_steps=steps)


def scheduler_lrs(plan: Schedule | str, peak_lr: float, steps: int) -> tuple[float, ...]:
    """The learning rate ``rampup.torch.Scheduler`` writes for each of ``steps`` updates."""
    sched = _scheduler(plan, peak_lr, steps)
    group = sched.optimizer.param_groups[0]
    out = []
    for _ in range(steps):
        out.append(float(group["lr"]))
        sched.step()
    return tuple(out)


class GuardedLr:
    """One member's guarded learning rate: ``auto``'s AdaptiveWarmup on its own clock.

    As in the process engine's loop: before update ``t`` the guard observes the training loss
    and the gradient norm; an event stops the member (returns None); else the update's rate is
    the one the scheduler wrote (``peak_lr * f(clock)``) and the scheduler steps, its guard
    moving the clock. The rates given are kept in ``lrs``.
    """

    def __init__(self, spec: str, peak_lr: float, steps: int) -> None:
        self._sched = _scheduler(spec, peak_lr, steps)
        self.lrs: list[float] = []

    def lr(self, step: int, loss: float, grad_norm: float) -> float | None:
        """The rate of update ``step``, or None where the guard stops the run."""
        if self._sched.controller.observe(loss, grad_norm=grad_norm) is not None:
            return None
        rate = float(self._sched.optimizer.param_groups[0]["lr"])
        self.lrs.append(rate)
        self._sched.step()
        return rate


def _trace(result: MemberResult, lrs: Sequence[float], steps: int) -> Trace:
    """A member's result as the process engine's trace (curve, sampled lrs, where it stopped)."""
    losses = result.losses
    taken = len(losses) if result.stopped_at is None else result.stopped_at
    curve: list[dict[str, float]] = []
    prev = 0
    for row in result.curve:
        step = int(row["step"])
        window = losses[prev:step]
        train = sum(window) / len(window) if window else math.nan
        curve.append(
            {"step": step, "val_loss": row["val_loss"], "score": row["score"], "train_loss": train}
        )
        prev = step
    every = max(1, steps // 100)
    sampled: list[list[float]] = [
        [t, lrs[t]] for t in range(taken) if t % every == 0 or t == steps - 1
    ]
    last = losses[-1] if losses else math.nan
    return Trace(curve, sampled, result.stopped_at, last)


def run_stack(cells: Sequence[RunConfig], base: str | None = None) -> list[dict[str, Any]]:
    """Train ``cells`` (one task, run length and optimiser kind) as one stack; their records.

    One torch thread, as a process-engine worker. ``base``: where the task reference is looked
    up (a Ray worker gets the driver's working directory).
    """
    import torch  # noqa: PLC0415

    if not cells:
        return []
    ref = cells[0].task
    task = load_task(ref, func="run", base=base)
    steps = _steps(cells[0], task)
    strategies = {c.strategy: resolve(c.strategy, task, steps, func="run") for c in cells}
    kinds = {optimizer_kind(task, s) for s in strategies.values()}
    if (
        {c.task for c in cells} != {ref}
        or {_steps(c, task) for c in cells} != {steps}
        or (len(kinds) != 1)
    ):
        raise RampupError.invalid(
            "run_stack", "cells", len(cells), "cells of one task, run length and optimiser"
        )
    if any(s.probed for s in strategies.values()):
        raise RampupError.invalid(
            "run_stack", "cells", len(cells), "cells without a probed strategy (auto on an SGD "
            "task measures each run's model first: the process engine runs it)",
        )  # fmt: skip
    const = constant_level(task)
    members: list[Member] = []
    rates: list[Sequence[float]] = []
    for c in cells:
        lr, strat = check_lr(c.peak_lr), strategies[c.strategy]
        if strat.guarded:
            guard = GuardedLr(strat.spec, lr, steps)
            members.append(Member(c.seed, controller=guard, label=c.key()))
            rates.append(guard.lrs)
        else:
            lrs = scheduler_lrs(schedule(strat, steps), lr, steps)
            members.append(Member(c.seed, lrs, label=c.key()))
            rates.append(lrs)

    def evaluate(stack: StackedModel) -> dict[str, list[float]]:
        evs = [evaluation(task, stack.module(i), name=ref) for i in range(stack.size)]
        return {"val_loss": [e.loss for e in evs], "score": [e.score for e in evs]}

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ran_on = platform_info()
        done = train_batched(
            task.model, task.batch, task.loss, members,
            optimizer_spec(task, next(iter(strategies.values()))), steps,
            evaluate=evaluate, eval_every=max(1, min(task.eval_every, steps)),
            blowup=math.inf if const is None else BLOWUP * const,
        )  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    wall = done.wall_time / len(cells)
    out = []
    for c, r, given in zip(cells, done.results, rates, strict=True):
        trace = _trace(r, given, steps)
        strat = strategies[c.strategy]
        out.append(make_record(c, task, strat, steps, trace, wall, ran_on, engine="batched"))
    return out
