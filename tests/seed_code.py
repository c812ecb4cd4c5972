"""Seed code that more than one test module runs as its reference, re-typed once.

Seed 004's ``NoamScheduler`` (from /work/shared/seeds/): the reference for rampup's ``noam`` in
the pure-schedule tests (test_seeds.py) and in the PyTorch adapter's (test_torch_seeds.py).
"""

from __future__ import annotations

import torch


class NoamScheduler:
    """Seed 004's class, re-typed: ``step()`` advances one update, sets its lr and returns it."""

    def __init__(
        self, optimizer: torch.optim.Optimizer, d_model: int, warmup_steps: int, factor: float = 1.0
    ) -> None:
        self.optimizer = optimizer
        self.d_model = d_model
        self.warmup_steps = warmup_steps
        self.factor = factor
        self.current_step = 0

    def step(self) -> float:
        """Advance one update and set the lr of every parameter group."""
        self.current_step += 1
        lr = (
            self.factor
            * (self.d_model**-0.5)
            * min(self.current_step**-0.5, self.current_step * self.warmup_steps**-1.5)
        )
        for param_group in self.optimizer.param_groups:
            param_group["lr"] = lr
        return float(lr)
