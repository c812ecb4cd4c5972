r"""A warmup factor on top of any torch scheduler, ``ReduceLROnPlateau`` included.

:func:`~rampup.torch.warmup` (the class :class:`Warmup`) sets each group's learning rate to

.. math:: lr_g(t) = a_g(t) \cdot w(c)

with :math:`a_g(t)` the rate the wrapped torch scheduler ``after`` sets on its own and :math:`w`
the warmup factor at the clock :math:`c`. It is a :class:`~rampup.torch.Scheduler` whose schedule
is the warmup and whose base rates are ``after``'s undampened ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, SupportsFloat

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from rampup import RampupError
from rampup.core.clock import ClockController, checked_clock
from rampup.torch.planning import PerGroup, as_float, put
from rampup.torch.scheduler import Scheduler
from rampup.torch.torch_states import after_state_problem

__all__ = ["Warmup"]

WARMUP_FORMAT = "rampup.torch.Warmup"


class Warmup(Scheduler):
    r"""Multiply a warmup factor onto any torch scheduler, ``ReduceLROnPlateau`` included.

    Called as ``rampup.torch.warmup(optimizer, warmup, after=...)`` (``warmup`` is this class).

    .. math:: lr_g(t) = a_g(t) \cdot w(c)

    ``a_g(t)`` is what ``after`` (created first, on the same optimizer) sets, by its own rule,
    chainable or not; ``w`` is the warmup (a rampup schedule or spec, e.g. ``"linear(1000)"``,
    which holds 1 after its last step) at the clock :math:`c`. ``after`` keeps updating its own
    undampened rates, so chainable schedulers and plateau reductions work as they would alone,
    then the factor applies on top and never compounds; ``base_lrs`` in the state are those
    undampened rates. Call ``step()`` after each optimizer update; give a ``ReduceLROnPlateau``
    its metric with ``step(metric)``. ``total_steps``, ``steps_per_epoch``, ``controller`` and
    ``rebind`` are those of :class:`~rampup.torch.Scheduler`.

    >>> import torch, rampup.torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
    >>> sched = rampup.torch.warmup(opt, "linear(4)", after=plateau)
    >>> opt.param_groups[0]["lr"]
    0.25
    """

    _FORMAT: str = WARMUP_FORMAT
    _EXTRA_KEYS: tuple[str, ...] = ("after",)
    _owns_initial_lr: bool = False

    def __init__(
        self,
        optimizer: Optimizer,
        warmup: PerGroup,
        after: LRScheduler | None = None,
        *,
        total_steps: int | None = None,
        steps_per_epoch: float | None = None,
        controller: ClockController | None = None,
        rebind: bool = False,
    ) -> None:
        func = "warmup"
        if after is not None:
            if not isinstance(after, LRScheduler):
                raise RampupError.invalid(
                    func,
                    "after",
                    after,
                    "a torch scheduler (an LRScheduler or ReduceLROnPlateau) or None",
                )
            if after.optimizer is not optimizer:
                raise RampupError.invalid(func, "after", after, "a scheduler of the same optimizer")
        if warmup is None:
            raise RampupError.invalid(
                func, "warmup", warmup, "a warmup schedule or spec, e.g. 'linear(1000)'"
            )
        self._after = after
        super().__init__(
            optimizer,
            warmup,
            total_steps=total_steps,
            steps_per_epoch=steps_per_epoch,
            controller=controller,
            rebind=rebind,
        )

    def _start_bases(self, initial_lrs: list[float]) -> list[float]:
        """The rates ``after`` has set (undampened), not the initial ones."""
        return [as_float(g["lr"]) for g in self.optimizer.param_groups]

    @property
    def after(self) -> LRScheduler | None:
        """The wrapped scheduler."""
        return self._after

    def step(self, metrics: SupportsFloat | None = None) -> None:
        """One optimizer update: advance the warmup and step ``after``; or hand it a metric.

        ``step()`` counts one update: the warmup's clock moves and ``after`` is stepped too,
        unless it is a ``ReduceLROnPlateau``, which only moves on a metric: ``step(val_loss)``
        passes the metric to it without moving the warmup's clock.
        """
        after = self._after
        plateau = isinstance(after, ReduceLROnPlateau)
        self._groups("Warmup.step")  # before anything moves: nothing half-applied
        if metrics is not None:
            if not plateau:
                raise RampupError.invalid(
                    "Warmup.step",
                    "metrics",
                    metrics,
                    "None: only a ReduceLROnPlateau `after` takes a metric",
                )
            try:
                if isinstance(metrics, str | bytes | bool):
                    raise TypeError  # float("0.5") works, but a text is no metric
                value = float(metrics)
            except (TypeError, ValueError, RuntimeError):  # RuntimeError: a many-element tensor
                raise RampupError.invalid(
                    "Warmup.step", "metrics", metrics, "a number (the metric to watch) or None"
                ) from None
            self._step_after(value)
            self._write(self._clock)
            return
        n = self.last_epoch + 1
        controller = self._controller
        if controller is None:
            clock: float = n  # the clock is the count (which torch's SequentialLR may move)
        else:
            old = self._clock
            clock = checked_clock("Warmup.step", controller, controller.advance(n, old), old)
        if after is not None and not plateau:
            self._step_after(None)
        self.last_epoch = n
        self._step_count += 1
        self._clock = clock
        self._write(clock)

    def _step_after(self, metrics: SupportsFloat | None) -> None:
        """Step ``after`` on its own, undampened rates, and read back the rates it sets."""
        after = self._after
        if after is None:  # pragma: no cover - callers check
            return
        groups = self.optimizer.param_groups
        for g, lr in zip(groups, self._bases, strict=True):
            put(g, "lr", lr)
        if metrics is None:
            after.step()
        else:  # a ReduceLROnPlateau: step(metrics)
            after.step(metrics)  # type: ignore[arg-type]  # typed as LRScheduler.step(epoch)
        self._bases = [as_float(g["lr"]) for g in groups]

    def _seek(self, epoch: object) -> None:
        raise RampupError.invalid(
            "Warmup.step", "epoch", epoch, "no epoch: a warmup counts updates"
        )

    def _update_lr(self, epoch: int | None = None) -> None:
        """Torch's internal step: one update, or (a ``SequentialLR`` milestone) refused."""
        if epoch is None:
            self.step()
        else:
            self._seek(epoch)

    def state_dict(self) -> dict[str, Any]:
        """The warmup's state plus ``after``'s own ``state_dict()`` under ``"after"``."""
        state = super().state_dict()
        state["after"] = None if self._after is None else self._after.state_dict()
        return state

    def _check_extra(self, func: str, state: Mapping[str, Any]) -> None:
        after = state.get("after")
        if (after is None) != (self._after is None) or not (
            after is None or isinstance(after, dict)
        ):
            raise RampupError.invalid(
                func,
                "state_dict",
                state,
                "an 'after' state exactly when this warmup wraps a scheduler",
            )
        if self._after is None or not isinstance(after, dict):
            return
        # torch's schedulers load any dict (``__dict__.update``): check every entry here
        problem = after_state_problem(self._after, after, len(self._bases))
        if problem is not None:
            raise RampupError.invalid(
                func,
                "state_dict['after']",
                after,
                f"the state of a torch {type(self._after).__name__}: {problem}",
            )

    def _load_extra(self, state: Mapping[str, Any]) -> None:
        if self._after is not None:
            self._after.load_state_dict(state["after"])

    def _save_extra(self) -> object:
        return None if self._after is None else copy.deepcopy(self._after.state_dict())

    def _restore_extra(self, saved: object) -> None:
        if self._after is not None and isinstance(saved, dict):
            self._after.load_state_dict(saved)
