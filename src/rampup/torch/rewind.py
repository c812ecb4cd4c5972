"""Rewind: an in-memory snapshot of the model and the optimizer, restored when the guard asks.

A guard built with ``AdaptiveWarmup(..., rewind=True)`` answers a stall, a divergence or a
non-finite loss with ``Action(kind="rewind")``: go back to the last good state and run the rest
of the warmup slower (holding the clock alone cannot undo a ramp that was too steep).
:class:`Rewinder` keeps that state: a copy of the model's and the optimizer's state dicts, on
their device or offloaded (``device="cpu"``), taken whenever the guard says one is due. The loop::

    rewinder = rampup.torch.Rewinder(model, optimizer, scheduler)   # snapshots the start
    for batch in data:
        loss = ...; loss.backward()
        action = guard.observe(loss.detach(), grad_norm=norm)
        if action is not None:
            rewinder.rewind(action)    # model, optimizer, scheduler clock; guard.restored()
            continue
        optimizer.step()
        scheduler.step()
        rewinder.maybe_snapshot()      # when guard.snapshot_due(): copy, guard.snapshotted()

The guard is the scheduler's controller, reached through its methods (``snapshot_due``,
``snapshotted``, ``restored``): this adapter never imports the guard. The restore is exact: the
parameters, buffers and optimizer state equal the snapshot's bit for bit, and training from them
equals training from the snapshot. The scheduler keeps its update count and goes back to the
snapshot's clock (its own state, loaded with ``clock`` replaced). Random number generators are
not part of the snapshot (a model with dropout draws other masks after a rewind).
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from rampup import RampupError

__all__ = ["Rewinder"]

_GUARD = ("snapshot_due", "snapshotted", "restored")


def _cloned(obj: Any, device: torch.device | str | None) -> Any:
    """``obj`` (a state dict: tensors in dicts and lists) with every tensor copied."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to(device=device or obj.device, copy=True)
    if isinstance(obj, dict):
        return {k: _cloned(v, device) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_cloned(v, device) for v in obj)
    return copy.deepcopy(obj)


class Rewinder:
    """The last good snapshot of a model and its optimizer, for the guard's rewind actions.

    Args:
        model: the ``nn.Module`` trained.
        optimizer: its optimizer.
        scheduler: the :class:`rampup.torch.Scheduler` whose controller is the guard (an
            ``AdaptiveWarmup(..., rewind=True)``).
        device: where the snapshot lives: None (each tensor's own device) or e.g. ``"cpu"``
            (offloaded: no accelerator memory, a copy across the bus per snapshot).

    Building it takes the first snapshot (the initial state) if the guard says one is due.

    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        *,
        device: torch.device | str | None = None,
    ) -> None:
        name = "Rewinder"
        if not isinstance(model, torch.nn.Module):
            raise RampupError.invalid(name, "model", model, "a torch.nn.Module")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise RampupError.invalid(name, "optimizer", optimizer, "a torch.optim.Optimizer")
        guard = getattr(scheduler, "controller", None)
        if not all(callable(getattr(guard, m, None)) for m in _GUARD):
            raise RampupError.invalid(
                name,
                "scheduler",
                scheduler,
                "a rampup.torch.Scheduler whose controller is AdaptiveWarmup(..., rewind=True)",
            )
        if device is not None and not isinstance(device, torch.device | str):
            raise RampupError.invalid(name, "device", device, "None, a str or a torch.device")
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.guard: Any = guard
        self.device = None if device is None else torch.device(device)
        self.state: tuple[dict[str, Any], dict[str, Any]] | None = None
        self.snapshots = 0  # snapshots taken
        self.rewinds = 0  # rewinds done
        self.maybe_snapshot()

    def maybe_snapshot(self) -> bool:
        """Take a snapshot if the guard says one is due (call after ``scheduler.step()``)."""
        if not self.guard.snapshot_due():
            return False
        self.snapshot()
        self.guard.snapshotted()
        return True

    def snapshot(self) -> None:
        """Copy the model's and the optimizer's state now (the guard is not told: see above)."""
        self.state = (
            _cloned(self.model.state_dict(), self.device),
            _cloned(self.optimizer.state_dict(), self.device),
        )
        self.snapshots += 1

    def restore(self) -> None:
        """Put the snapshot back into the model and the optimizer, exactly."""
        if self.state is None:
            raise RampupError(
                "Rewinder.restore(): no snapshot is invalid: expected one taken first"
                " (maybe_snapshot() when the guard says one is due)"
            )
        model_state, opt_state = self.state
        self.model.load_state_dict(model_state)  # copies into the parameters and buffers
        # a copy again: the optimizer keeps (and updates in place) the tensors it is given
        self.optimizer.load_state_dict(_cloned(opt_state, None))

    def rewind(self, action: Any) -> None:
        """Carry out a rewind action: restore, the scheduler's clock back, ``restored()``."""
        if getattr(action, "kind", None) != "rewind":
            raise RampupError.invalid(
                "Rewinder.rewind",
                "action",
                action,
                "an Action of kind 'rewind' (for a 'restore', load your last checkpoint)",
            )
        self.restore()
        state = self.scheduler.state_dict()
        self.scheduler.load_state_dict({**state, "clock": float(action.clock)})
        self.guard.restored()
        self.rewinds += 1
