"""Shared helpers of the rampup.torch tests: optimizers, runs, test controllers."""

from __future__ import annotations

import io
import math
from typing import Any

import torch
from hypothesis import settings
from torch.optim.lr_scheduler import (
    LRScheduler,
)

SETTINGS = settings(max_examples=40, deadline=None)

#: Conventions table: linear(4) >> cosine over 8 steps, then 0 holds.
WARMUP_COSINE_8 = [
    0.25,
    0.5,
    0.75,
    1.0,
    1.0,
    0.5 * (1 + math.cos(math.pi / 4)),
    0.5,
    0.5 * (1 + math.cos(3 * math.pi / 4)),
    0.0,
    0.0,
]


def _params(n: int = 1) -> list[torch.nn.Parameter]:
    return [torch.nn.Parameter(torch.zeros(2)) for _ in range(n)]


def _sgd(*lrs: float, momentum: float = 0.9, names: tuple[str, ...] = ()) -> torch.optim.SGD:
    """An SGD optimizer with one param group per lr (named when names are given)."""
    groups: list[dict[str, Any]] = []
    for i, lr in enumerate(lrs or (0.1,)):
        group: dict[str, Any] = {"params": _params(), "lr": lr}
        if names:
            group["name"] = names[i]
        groups.append(group)
    return torch.optim.SGD(groups, lr=0.1, momentum=momentum)


def _adam(*lrs: float) -> torch.optim.Adam:
    return torch.optim.Adam([{"params": _params(), "lr": lr} for lr in lrs or (1e-3,)])


def _lrs(opt: torch.optim.Optimizer) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def _run(opt: torch.optim.Optimizer, sched: LRScheduler, n: int, key: str = "lr") -> list[Any]:
    """The value of ``key`` in group 0 that each of n updates uses (read before the update)."""
    seen = []
    for _ in range(n):
        seen.append(opt.param_groups[0][key])
        opt.step()
        sched.step()
    return seen


class Hold:
    """A test controller: the clock stays put for the first k updates, then moves by `rate`."""

    def __init__(self, k: int, rate: float = 1.0) -> None:
        self.k = k
        self.rate = rate
        self.calls: list[tuple[int, float]] = []

    def advance(self, update: int, clock: float) -> float:
        """Hold while update <= k, then move by rate."""
        self.calls.append((update, clock))
        return clock if update <= self.k else clock + self.rate

    def state_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"k": self.k, "rate": self.rate}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore k and rate."""
        self.k = int(state["k"])
        self.rate = float(state["rate"])


class Backwards:
    """A broken controller: returns a clock behind the current one."""

    def advance(self, update: int, clock: float) -> float:
        """Run backwards (invalid)."""
        return clock - 0.5

    def state_dict(self) -> dict[str, Any]:
        """Nothing."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing."""


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded: dict[str, Any] = torch.load(buffer, weights_only=True)
    return loaded
