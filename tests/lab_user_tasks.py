"""Tasks the lab tests load by reference (``lab_user_tasks:NAME``): tiny, and the broken kinds.

``tiny`` is a linear regression on fixed synthetic data (y = x @ [1, -2] + 0.5 + noise), small
enough to train a grid in a second. Each ``broken_*`` breaks one rule of the protocol.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional

import rampup.lab
from rampup.lab.tasks import TASKS


def _data(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = rng.standard_normal((n, 2)).astype(np.float32)
    y = x @ np.array([1.0, -2.0], dtype=np.float32) + 0.5 + 0.1 * rng.standard_normal(n)
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))[:, None]


VAL = _data(np.random.default_rng(99), 256)


def model(seed: int) -> nn.Module:
    """A 2-to-1 linear layer, seeded."""
    torch.manual_seed(seed)
    return nn.Linear(2, 1)


def batch(seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """32 fresh points per (seed, step)."""
    return _data(np.random.default_rng([seed, step]), 32)


def evaluate(net: nn.Module) -> float:
    """The validation MSE (a float: the loss and the score)."""
    return float(functional.mse_loss(net(VAL[0]), VAL[1]))


tiny = rampup.lab.Task(
    name="tiny", steps=20, eval_every=5, model=model, batch=batch, loss=functional.mse_loss,
    evaluate=evaluate, optimizer="sgd", momentum=0.9,
)  # fmt: skip


def make_tiny() -> rampup.lab.Task:
    """The tiny task, from a function of no arguments."""
    return tiny


def make_nothing() -> str:
    """Not a task."""
    return "not a task"


not_a_task = {"name": "tiny"}


def _nan_model(seed: int) -> nn.Module:
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.fill_(math.nan)
    return net


broken_nan = dataclasses.replace(tiny, model=_nan_model)
broken_loss = dataclasses.replace(tiny, loss=lambda out, y: (out - y) ** 2)  # not reduced
broken_score_type = dataclasses.replace(
    tiny,
    evaluate=lambda net: rampup.lab.Evaluation(1.0, net(VAL[0]).mean()),
)
broken_score_inf = dataclasses.replace(
    tiny, evaluate=lambda net: rampup.lab.Evaluation(1.0, math.inf)
)
broken_forward = dataclasses.replace(
    tiny, batch=lambda seed, step: (torch.zeros(4, 3), torch.zeros(4, 1))
)

#: The tiny task and built-in ones with an evaluation after every update: per-step losses.
tiny_every_step = dataclasses.replace(tiny, eval_every=1)
#: Adam's variant: ``auto`` runs with its guard per member on the batched engine (on an SGD task
#: it probes each model first, so the process engine runs it).
tiny_adam_every_step = dataclasses.replace(tiny_every_step, optimizer="adam", betas=(0.9, 0.98))
markov_every_step = dataclasses.replace(TASKS["markov-postln"], eval_every=1)
sort_every_step = dataclasses.replace(TASKS["postln-sort"], eval_every=1)
digits_every_step = dataclasses.replace(TASKS["digits-largebatch"], eval_every=1)
words_every_step = dataclasses.replace(TASKS["digits-words"], eval_every=1)
