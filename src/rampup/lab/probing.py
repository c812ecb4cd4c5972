"""The probe on a lab task: :func:`rampup.probe` on a run's own model, optimiser and first batch.

:func:`probe_model` is what the ``auto`` strategy runs before training on an SGD task (its
result completes the spec); :func:`probe_task` builds a task's model and optimiser for a seed
and a peak lr and probes them (``rampup lab probe --task T --lr X``). The loss is the task's own
on ``batch(seed, 0)``; the model and the optimiser are left as they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rampup.lab.loading import load_task
from rampup.lab.protocol import Task, call_model

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
    from rampup.lab.strategies import resolve  # noqa: PLC0415
    from rampup.lab.train import _optimizer, check_lr, setup  # noqa: PLC0415

    task = load_task(ref, func=_FUNC)
    peak = check_lr(lr, func=_FUNC)
    n = task.steps if steps is None else steps
    built = setup(task, seed, name=ref, func=_FUNC)
    opt = _optimizer(task, resolve("none", task, n, func=_FUNC), built.model.parameters(), peak)
    return probe_model(task, seed, built.model, opt, peak, n, budget)
