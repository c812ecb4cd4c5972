"""The lab's task protocol: :class:`Task`, its :class:`Setup` and :class:`Evaluation`.

A task builds, for one seed, a :class:`Setup` (the model and the closures the trainer calls);
an evaluation returns an :class:`Evaluation`. Below them, the pieces the task families share:
the entropies behind the constant level (plug-in, nats: ``-sum p log p``), the causal mask and
the Transformer body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["Evaluation", "Setup", "Task"]


@dataclass(frozen=True)
class Evaluation:
    """One evaluation on the validation set: loss (nats) and the task's score."""

    loss: float
    score: float


@dataclass
class Setup:
    """A task instantiated for one seed: the model and the two closures the trainer calls."""

    model: nn.Module
    #: ``train_loss(step)``: the mean training loss on batch ``step`` (a scalar tensor, graph kept).
    train_loss: Callable[[int], torch.Tensor]
    #: ``evaluate()``: validation loss and score, with the model in eval mode and no gradient.
    evaluate: Callable[[], Evaluation]


@dataclass(frozen=True)
class Task:
    """A training problem of the lab, with its optimiser and its failure criterion."""

    name: str
    summary: str
    steps: int
    eval_every: int
    optimizer: str  # "adamw", "adam" or "sgd"
    #: Validation loss of the best constant predictor (measured on the validation set).
    constant_loss: Callable[[], float]
    build: Callable[[int], Setup]
    score_name: str  # "error" (lower is better) for every task
    #: What comparisons score: "loss" (validation cross-entropy) or "error" (the score).
    objective: str = "loss"
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    weight_decay: float = 0.01
    #: The control this task is paired with (Pre-LN, no batch norm), if any.
    control: str | None = None
    #: A run whose final validation loss is at least this fraction of the constant level
    #: has collapsed to (nearly) a constant predictor.
    collapse_ratio: float = 0.98
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def beta2(self) -> float | None:
        """Adam's beta2 for the Adam-family tasks; None for SGD."""
        return None if self.optimizer == "sgd" else self.betas[1]


# -- shared pieces -----------------------------------------------------------------------------
def _entropy(counts: Any) -> float:
    import numpy as np  # noqa: PLC0415

    p = np.asarray(counts, dtype=np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


def _positional_entropy(targets: Any, classes: int, pad: int | None = None) -> float:
    """Loss of the best input-independent predictor that knows the position (plug-in, nats)."""
    import numpy as np  # noqa: PLC0415

    total, count = 0.0, 0
    for j in range(targets.shape[1]):
        col = targets[:, j]
        if pad is not None:
            col = col[col != pad]
        if len(col):
            total += _entropy(np.bincount(col, minlength=classes)) * len(col)
            count += len(col)
    return total / count


def _causal_mask(n: int) -> torch.Tensor:
    import torch  # noqa: PLC0415

    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


def _encoder(d: int, depth: int, *, pre_ln: bool) -> torch.nn.TransformerEncoder:
    """The tasks' Transformer body: ``depth`` layers of width ``d``, 4 heads, ff 256, no dropout.

    Post-LN (torch's default) or Pre-LN with a final LayerNorm: the only difference between a
    task and its control.
    """
    from torch import nn  # noqa: PLC0415

    layer = nn.TransformerEncoderLayer(d, 4, 256, dropout=0.0, batch_first=True, norm_first=pre_ln)
    return nn.TransformerEncoder(
        layer, depth, norm=nn.LayerNorm(d) if pre_ln else None, enable_nested_tensor=False
    )
