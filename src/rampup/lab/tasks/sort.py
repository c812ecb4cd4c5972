"""The sort tasks: a bidirectional encoder that sorts 16 tokens.

``postln-sort`` / ``preln-sort``: a 4-layer encoder (d 64, 4 heads, ff 256), Post-LN and its
Pre-LN control, sorting 16 tokens over 32 values, batch 64, 400 steps, AdamW (0.9, 0.98).

The constant level is the per-position entropy of the sorted validation sequences.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from rampup.lab.tasks.base import (
    Evaluation,
    SeedStream,
    Task,
    _encoder,
    _positional_entropy,
    _scored,
    _token_loss,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__: list[str] = []


_SO_VALUES, _SO_LEN, _SO_BATCH, _SO_VAL, _SO_DATA_SEED = 32, 16, 64, 256, 4321


def _sort_val() -> Any:
    import numpy as np  # noqa: PLC0415

    return np.random.default_rng(_SO_DATA_SEED).integers(0, _SO_VALUES, size=(_SO_VAL, _SO_LEN))


def _sort_constant() -> float:
    import numpy as np  # noqa: PLC0415

    return _positional_entropy(np.sort(_sort_val(), axis=1), _SO_VALUES)


def _sort_model(seed: int, *, pre_ln: bool) -> nn.Module:
    """The sorter, its parameters drawn after ``torch.manual_seed(seed)``."""
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)
    d = 64

    class Sorter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(_SO_VALUES, d)
            self.pos = nn.Parameter(torch.randn(_SO_LEN, d) * 0.02)
            self.body = _encoder(d, 4, pre_ln=pre_ln)
            self.head = nn.Linear(d, _SO_VALUES)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.body(self.tok(x) + self.pos))  # type: ignore[no-any-return]

    return Sorter()


#: Seed s's training sequences: batch after batch from ``default_rng(s)``.
_STREAM: SeedStream[Any] = SeedStream(
    lambda rng: rng.integers(0, _SO_VALUES, size=(_SO_BATCH, _SO_LEN))
)


def _sort_batch(seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Update ``step``'s sequences and, as targets, the same sequences sorted."""
    import torch  # noqa: PLC0415

    x = torch.from_numpy(_STREAM(seed, step))
    return x, torch.sort(x, dim=1).values


def _sort_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return _token_loss(logits, targets, _SO_VALUES)


@functools.cache
def _sort_val_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    import torch  # noqa: PLC0415

    val = torch.from_numpy(_sort_val())
    return val, torch.sort(val, dim=1).values


def _sort_evaluate(model: nn.Module) -> Evaluation:
    """Validation loss and token error on the fixed validation sequences."""
    val, val_y = _sort_val_tensors()
    return _scored(model(val), val_y, _SO_VALUES)


def _sort_task(name: str, pre_ln: bool, control: str | None) -> Task:
    ln = "Pre-LN" if pre_ln else "Post-LN"
    return Task(
        name=name,
        summary=f"4-layer {ln} encoder sorting 16 tokens over 32 values, AdamW (0.9, 0.98), "
        "batch 64, 400 steps",
        steps=400,
        eval_every=40,
        optimizer="adamw",
        model=functools.partial(_sort_model, pre_ln=pre_ln),
        batch=_sort_batch,
        loss=_sort_loss,
        evaluate=_sort_evaluate,
        constant_loss=_sort_constant,
        score_name="error",
        betas=(0.9, 0.98),
        control=control,
    )
