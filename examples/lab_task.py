"""Your own task for the rampup lab: a GRU classifier on synthetic sequences.

Each sequence is 20 steps of 4 features drawn from N(0, 1); its class is the feature with the
largest sum over time (4 classes). Run a grid on it (from the folder holding this file)::

    rampup lab run --task lab_task.py:task --strategy none,linear,auto --lr 3e-3,3e-2 --seed 0,1,2
    rampup lab report rampup-lab
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional

import rampup.lab

LENGTH, FEATURES, HIDDEN, BATCH = 20, 4, 32, 64


def sequences(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` sequences and their classes, drawn from ``rng``."""
    x = rng.standard_normal((n, LENGTH, FEATURES)).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(x.sum(axis=1).argmax(axis=1))


class GRUClassifier(nn.Module):
    """A one-layer GRU read out by a linear layer from its last hidden state."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(FEATURES, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, FEATURES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        _, h = self.gru(x)  # h: (1, batch, hidden), the last hidden state
        return self.head(h[0])


def model(seed: int) -> nn.Module:
    """The model for ``seed``."""
    torch.manual_seed(seed)  # the same seed, the same initial weights
    return GRUClassifier()


def batch(seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Update ``step``'s batch: a generator per (seed, step), so any step, in any order."""
    return sequences(np.random.default_rng([seed, step]), BATCH)


VAL_X, VAL_Y = sequences(np.random.default_rng(12345), 512)


def evaluate(net: nn.Module) -> rampup.lab.Evaluation:
    """Validation loss and error (the lab calls this in eval mode, under torch.no_grad())."""
    logits = net(VAL_X)
    error = (logits.argmax(-1) != VAL_Y).float().mean()
    return rampup.lab.Evaluation(
        loss=float(functional.cross_entropy(logits, VAL_Y)), score=float(error)
    )


task = rampup.lab.Task(
    name="gru-argmax",
    summary="GRU (hidden 32) classifying which of 4 features has the largest sum, Adam",
    steps=300,
    eval_every=30,
    model=model,
    batch=batch,
    loss=functional.cross_entropy,
    evaluate=evaluate,
    optimizer="adam",
    betas=(0.9, 0.98),
    constant_loss=float(np.log(FEATURES)),  # a uniform guess: the classes are balanced
    score_name="error",
)
