"""The digits tasks: scikit-learn's 8x8 digits, large-batch SGD.

``digits-largebatch`` / ``digits-largebatch-nobn``: ``load_digits``, a residual MLP with batch
norm (and its control without); ``digits-plainmlp``: an 8-layer MLP without normalisation (the
negative control). SGD momentum 0.9, batch 1024, 100 steps.

The constant level is the class entropy of the validation labels.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rampup.lab.tasks.base import Evaluation, SeedStream, Task, _entropy, _scored, _token_loss

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__: list[str] = []


_DG_BATCH, _DG_VAL = 1024, 497


@functools.cache
def _digits() -> tuple[Any, Any, Any, Any]:
    """load_digits split into train (1300) and validation (497) by a fixed permutation."""
    import numpy as np  # noqa: PLC0415
    from sklearn.datasets import load_digits  # noqa: PLC0415

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0 - 0.5).astype(np.float32)
    perm = np.random.default_rng(0).permutation(len(y))
    tr, va = perm[_DG_VAL:], perm[:_DG_VAL]
    return x[tr], y[tr].astype(np.int64), x[va], y[va].astype(np.int64)


def _digits_constant() -> float:
    import numpy as np  # noqa: PLC0415

    return _entropy(np.bincount(_digits()[3], minlength=10))


def _digits_model(seed: int, *, kind: str) -> nn.Module:
    """The MLP (``bn``, ``nobn`` or ``plain``), its parameters drawn after the seed."""
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)
    width = 128

    class Block(nn.Module):
        def __init__(self, bn: bool) -> None:
            super().__init__()
            norm: Callable[[], nn.Module] = (lambda: nn.BatchNorm1d(width)) if bn else nn.Identity
            self.f = nn.Sequential(
                nn.Linear(width, width), norm(), nn.ReLU(), nn.Linear(width, width), norm()
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x + self.f(x))

    layers: list[nn.Module]
    if kind == "plain":
        layers = [nn.Linear(64, width), nn.ReLU()]
        for _ in range(6):
            layers += [nn.Linear(width, width), nn.ReLU()]
        layers.append(nn.Linear(width, 10))
        # He initialisation: with torch's default the 8-layer ReLU stack does not train at all
        for m in layers:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
    else:
        bn = kind == "bn"
        stem_norm: nn.Module = nn.BatchNorm1d(width) if bn else nn.Identity()
        layers = [nn.Linear(64, width), stem_norm, nn.ReLU()]
        layers += [Block(bn) for _ in range(3)]
        layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


@functools.cache
def _digits_tensors() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch  # noqa: PLC0415

    xtr, ytr, xva, yva = (torch.from_numpy(a) for a in _digits())
    return xtr, ytr, xva, yva


#: Seed s's training batches, as row indices into the training set: from ``default_rng(s)``.
_STREAM: SeedStream[Any] = SeedStream(
    lambda rng: rng.integers(0, len(_digits()[1]), size=_DG_BATCH)
)


def _digits_batch(seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Update ``step``'s 1024 images (drawn with replacement) and their labels."""
    import torch  # noqa: PLC0415

    xtr, ytr, _, _ = _digits_tensors()
    idx = torch.from_numpy(_STREAM(seed, step))
    return xtr[idx], ytr[idx]


def _digits_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return _token_loss(logits, targets, 10)


def _digits_evaluate(model: nn.Module) -> Evaluation:
    """Validation loss and classification error on the 497 held-out images."""
    _, _, xva, yva = _digits_tensors()
    return _scored(model(xva), yva, 10)


def _digits_task(name: str, kind: str, summary: str, control: str | None) -> Task:
    return Task(
        name=name,
        summary=summary,
        steps=100,
        eval_every=10,
        optimizer="sgd",
        model=functools.partial(_digits_model, kind=kind),
        batch=_digits_batch,
        loss=_digits_loss,
        evaluate=_digits_evaluate,
        constant_loss=_digits_constant,
        score_name="error",
        objective="error",
        weight_decay=0.0,
        control=control,
    )
