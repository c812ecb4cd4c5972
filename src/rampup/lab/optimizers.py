"""The optimiser of a lab run: the task's (AdamW, Adam or SGD), or the strategy's (RAdam).

The process engine builds it with :func:`build_optimizer`; the batched engine mirrors it
(:func:`rampup.lab.engines.optimizer_spec`) and the probe measures it
(:mod:`rampup.lab.probing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rampup.lab.protocol import Task
from rampup.lab.strategies import Strategy

if TYPE_CHECKING:
    import torch

__all__ = ["build_optimizer", "optimizer_kind"]


def optimizer_kind(task: Task, strategy: Strategy) -> str:
    """The optimiser a run uses: the strategy's (RAdam) or else the task's."""
    return strategy.optimizer or task.optimizer


def build_optimizer(
    task: Task, strategy: Strategy, params: Any, lr: float
) -> torch.optim.Optimizer:
    """The run's torch optimiser over ``params`` at ``lr``, with the task's betas and decay."""
    import torch  # noqa: PLC0415

    kind = optimizer_kind(task, strategy)
    if kind == "radam":
        # on an AdamW task, RAdam's weight decay is decoupled too (its default is L2, which with
        # an adaptive step is a much stronger pull toward 0 and would confound the comparison)
        return torch.optim.RAdam(
            params, lr=lr, betas=task.betas, weight_decay=task.weight_decay,
            decoupled_weight_decay=task.optimizer == "adamw",
        )  # fmt: skip
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=task.betas, weight_decay=task.weight_decay)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=task.betas, weight_decay=task.weight_decay)
    return torch.optim.SGD(
        params, lr=lr, momentum=task.momentum, weight_decay=task.weight_decay
    )  # fmt: skip
