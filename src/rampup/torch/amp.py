"""Stepping under a gradient scaler: the clock counts the updates taken, not those skipped."""

from __future__ import annotations

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from rampup import RampupError

__all__ = ["scaler_step"]


def scaler_step(scaler: torch.amp.GradScaler, optimizer: Optimizer, scheduler: LRScheduler) -> bool:
    """``scaler.step(optimizer)``, ``scaler.update()``, then ``scheduler.step()`` if the update ran.

    A ``GradScaler`` skips an update whose gradients hold inf/NaN and then lowers its scale; the
    scheduler must not count that update (the clock counts updates taken). Returns whether the
    update was taken. No torch "lr_scheduler.step() before optimizer.step()" warning is involved:
    a skipped update simply does not step the scheduler.

    >>> import torch, rampup.torch
    >>> model = torch.nn.Linear(2, 1)
    >>> opt = torch.optim.SGD(model.parameters(), lr=1.0)
    >>> sched = rampup.torch.Scheduler(opt, "linear(4)")
    >>> scaler = torch.amp.GradScaler("cpu")
    >>> scaler.scale(model(torch.ones(1, 2)).sum()).backward()
    >>> rampup.torch.scaler_step(scaler, opt, sched), sched.last_epoch
    (True, 1)
    >>> opt.zero_grad()
    >>> scaler.scale(model(torch.full((1, 2), float("inf"))).sum()).backward()
    >>> rampup.torch.scaler_step(scaler, opt, sched), sched.last_epoch  # inf: skipped
    (False, 1)
    """
    func = "scaler_step"
    if not isinstance(scaler, torch.amp.GradScaler):
        raise RampupError.invalid(func, "scaler", scaler, "a torch.amp.GradScaler")
    if not isinstance(optimizer, Optimizer):
        raise RampupError.invalid(func, "optimizer", optimizer, "a torch.optim.Optimizer")
    if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, ReduceLROnPlateau):
        raise RampupError.invalid(
            func, "scheduler", scheduler, "a torch scheduler stepped per update (not a plateau)"
        )
    if scheduler.optimizer is not optimizer:
        raise RampupError.invalid(func, "scheduler", scheduler, "a scheduler of the same optimizer")
    before = scaler.get_scale()
    scaler.step(optimizer)
    scaler.update()
    taken = not scaler.is_enabled() or scaler.get_scale() >= before
    if taken:
        scheduler.step()
    return taken
