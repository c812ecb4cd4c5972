"""The seeds' PyTorch code (issue 3, point 8), run through rampup.torch.Scheduler.

Each reference is the seed's own code, re-typed from /work/shared/seeds/: its loop or its torch
schedulers run for real, and the learning rate each optimizer update used is recorded with an
optimizer step pre-hook, for the seed and for rampup alike.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn, optim
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

import rampup.torch as rt
from rampup.core import compat
from seed_code import NoamScheduler

torch.set_num_threads(1)


def _record(optimizer: optim.Optimizer) -> list[float]:
    """The lr of group 0 at every optimizer.step(), read just before the update runs."""
    used: list[float] = []

    def hook(opt: optim.Optimizer, args: Any, kwargs: Any) -> None:
        used.append(opt.param_groups[0]["lr"])

    optimizer.register_step_pre_hook(hook)
    return used


def _update(model: nn.Module, optimizer: optim.Optimizer) -> None:
    optimizer.zero_grad()
    outputs = model(torch.randn(32, 10))  # Dummy input
    loss = ((outputs - torch.randn(32, 1)) ** 2).mean()  # Dummy loss
    loss.backward()
    optimizer.step()


def test_seed_manual_warmup_loop_gives_the_same_lrs_exactly() -> None:
    """Seed 000's loop (Linear(10, 1), Adam, warmup 1000 of 5000) equals 'linear(1000)'."""
    torch.manual_seed(0)
    model = nn.Linear(10, 1)
    optimizer = optim.Adam(model.parameters(), lr=0.001)
    seed_lrs = _record(optimizer)
    # Warmup parameters
    warmup_iterations = 1000
    max_learning_rate = 0.001
    for iteration in range(1, 5001):
        # Linear warmup
        if iteration <= warmup_iterations:
            lr = (iteration / warmup_iterations) * max_learning_rate
            for param_group in optimizer.param_groups:
                param_group["lr"] = lr
        else:
            lr = max_learning_rate
        _update(model, optimizer)

    torch.manual_seed(0)
    model = nn.Linear(10, 1)
    optimizer = optim.Adam(model.parameters(), lr=0.001)
    ours = _record(optimizer)
    scheduler = rt.Scheduler(optimizer, "linear(1000)")
    for _ in range(5000):
        _update(model, optimizer)
        scheduler.step()
    assert ours == seed_lrs
    assert ours[99] == 0.0001  # 'Iteration 100, Learning Rate: 0.000100'
    assert ours[999] == ours[4999] == 0.001


def test_seed_linearlr_then_cosine_per_epoch_through_compat() -> None:
    """Seed 002's SequentialLR(LinearLR(0.1, 10), CosineAnnealingLR(90, 1e-6)) per epoch."""
    model = nn.Linear(10, 1)
    optimizer = optim.AdamW(model.parameters(), lr=1e-3)
    theirs = _record(optimizer)
    warmup = LinearLR(optimizer, start_factor=0.1, total_iters=10)
    decay = CosineAnnealingLR(optimizer, T_max=90, eta_min=1e-6)
    scheduler = SequentialLR(optimizer, schedulers=[warmup, decay], milestones=[10])
    for _epoch in range(100):
        _update(model, optimizer)  # train_epoch(model, train_loader, optimizer)
        scheduler.step()

    model = nn.Linear(10, 1)
    optimizer = optim.AdamW(model.parameters(), lr=1e-3)
    ours = _record(optimizer)
    spec = compat.torch_sequential(
        warmup_iters=10, start_factor=0.1, t_max=90, eta_min_ratio=1e-6 / 1e-3
    )
    sched = rt.Scheduler(optimizer, spec)
    for _epoch in range(100):
        _update(model, optimizer)
        sched.step()
    # torch computes these recursively (drifting by a few ulps per epoch); ours is the closed form
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert ours[0] == pytest.approx(1e-4)
    assert ours[10] == 1e-3  # the first cosine epoch runs at the full rate


def test_seed_noam_scheduler_values_are_reproduced() -> None:
    """Seed 004's NoamScheduler(d_model=128, warmup 4000) values, set by an absolute lr schedule.

    The seed's k-th step() sets noam(n = k); rampup's update t uses n = t + 1, so the value the
    seed sets after update k - 1 is the value rampup sets before update k - 1: no update at lr 0
    (the seed's first update ran at the optimizer's lr 0.0, before any step()).
    """
    params = [nn.Parameter(torch.zeros(3))]
    seed_opt = optim.Adam(params, lr=0.0)  # LR set by scheduler
    seed = NoamScheduler(seed_opt, d_model=128, warmup_steps=4000, factor=1.0)
    seed_values = [seed.step() for _ in range(12_000)]

    optimizer = optim.Adam([nn.Parameter(torch.zeros(3))], lr=0.0)
    sched = rt.Scheduler(optimizer, hyper={"lr": "noam(d_model=128, warmup=4000)"})
    ours = []
    for _ in range(12_000):
        ours.append(optimizer.param_groups[0]["lr"])
        sched.step()
    assert ours == seed_values
    assert max(ours) == ours[3999] == (128 * 4000) ** -0.5
