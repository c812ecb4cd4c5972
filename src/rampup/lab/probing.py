"""The probe on a lab task: :func:`rampup.probe` on a run's own model, optimiser and first batch.

:func:`probe_model` is what the ``auto`` strategy runs before training on an SGD task (its
result completes the spec); :func:`probe_task` builds a task's model and optimiser for a seed
and a peak lr and probes them (``rampup lab probe --task T --lr X``). The loss is the task's own
on ``batch(seed, 0)``; the model and the optimiser are left as they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rampup.core.checks import check_number
from rampup.lab.loading import load_task
from rampup.lab.optimizers import build_optimizer
from rampup.lab.protocol import Task, call_model
from rampup.lab.strategies import resolve

if TYPE_CHECKING:
    import torch
    from torch import nn

    from rampup.core.measured import ProbeResult

__all__ = ["probe_model", "probe_task"]

_FUNC = "lab probe"


def probe_model(
    task: Task,
    seed: int,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    lr: float,
    steps: int,
    budget: float | None = None,
) -> ProbeResult:
    """:func:`rampup.probe` of ``model`` under ``opt`` at peak ``lr``, on ``task``'s batch 0."""
    from rampup.torch.probe import BUDGET, probe  # noqa: PLC0415  # torch only when probing

    def loss_fn(m: nn.Module, batch: tuple[Any, Any]) -> torch.Tensor:
        return task.loss(call_model(m, batch[0]), batch[1])

    return probe(
        model, opt, task.batch(seed, 0), loss_fn, total_steps=steps, peak_lr=lr,
        budget=BUDGET if budget is None else budget,
    )  # fmt: skip


def probe_task(
    ref: str,
    lr: float,
    seed: int = 0,
    *,
    steps: int | None = None,
    budget: float | None = None,
) -> ProbeResult:
    """Build ``ref``'s model and optimiser for ``seed`` at peak ``lr`` and probe them.

    ``steps`` overrides the task's run length (the budget and the warmup's cap use it).
    """
    peak = check_number(_FUNC, "peak_lr", lr, low=0.0, low_open=True, what="a finite lr > 0")
    task = load_task(ref, func=_FUNC)
    n = task.steps if steps is None else steps
    model = task.model(seed)
    opt = build_optimizer(task, resolve("none", task, n, func=_FUNC), model.parameters(), peak)
    return probe_model(task, seed, model, opt, peak, n, budget)
