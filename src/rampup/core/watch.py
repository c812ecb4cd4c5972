"""The watch protocols: what a training loop's hooks need from a monitor or a guard.

The framework callbacks (:mod:`rampup.torch.callbacks`, an adapter) feed the stability monitor
or the adaptive warmup (tools) once per update and log what they report. They never import the
tools: they depend on these protocols, which the tools satisfy structurally, so the arrows point
downward (adapter -> core <- tool) and a user's own monitor works the same way.

- :class:`Notice`: something reported, with its ``kind``, ``step``, ``message`` and
  ``to_dict()`` (the guard's restore :class:`~rampup.guard.adaptive.Action`);
- :class:`Finding`: a notice about a value, with that ``value`` (an
  :class:`~rampup.guard.events.Event`: the loss or norm that caused it);
- :class:`Watcher`: fed with ``update(loss, grad_norm=, lr=)``, returning its new findings,
  keeping them all in ``events``, with a plain-data ``state_dict`` (a
  :class:`~rampup.guard.monitor.Monitor`);
- :class:`Guard`: a :class:`~rampup.core.clock.ClockController` with a ``monitor`` (a
  :class:`Watcher`), fed with ``observe(loss, grad_norm=, lr=)``, returning a :class:`Notice`
  when the caller must act (an :class:`~rampup.guard.adaptive.AdaptiveWarmup`).

All are ``runtime_checkable``: ``isinstance(x, Watcher)`` checks that the members exist (not
their signatures). This module is framework-free and imports nothing of rampup's but the clock.

>>> class Quiet:  # a watcher that never reports anything
...     events: list[Finding] = []
...     def update(self, loss, *, grad_norm=None, lr=None): return []
...     def state_dict(self): return {}
...     def load_state_dict(self, state): pass
>>> isinstance(Quiet(), Watcher), isinstance(Quiet(), Guard)
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from rampup.core.clock import ClockController

__all__ = ["Finding", "Guard", "Notice", "Watcher"]


@runtime_checkable
class Notice(Protocol):
    """Something a monitor or a guard reports: what, when, in words, and as plain data."""

    @property
    def kind(self) -> str:
        """What it is, e.g. ``"spike"`` or ``"restore"`` (a metric is named after it)."""
        ...

    @property
    def step(self) -> int:
        """The update it is about."""
        ...

    @property
    def message(self) -> str:
        """What happened and what to do, in words (logged as it is)."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The notice as plain data."""
        ...


@runtime_checkable
class Finding(Notice, Protocol):
    """A notice about one value: the loss or norm that caused it."""

    @property
    def value(self) -> float:
        """The offending value (NaN and infinities as they are)."""
        ...


@runtime_checkable
class Watcher(Protocol):
    """Fed once per optimizer update; reports what it finds (a stability monitor)."""

    @property
    def events(self) -> Sequence[Finding]:
        """Every finding so far, oldest first (the ones of an update are appended at its end)."""
        ...

    def update(
        self, loss: object, *, grad_norm: object = None, lr: object = None
    ) -> Sequence[Finding]:
        """Feed one update's loss (and optionally its gradient norm and learning rate).

        Returns the findings this update caused (often none). A number never raises, whatever
        its value; anything that is not a number raises :class:`~rampup.RampupError`.
        """
        ...

    def state_dict(self) -> dict[str, Any]:
        """The watcher's state as plain data."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s data (checked; a bad state changes nothing)."""
        ...


@runtime_checkable
class Guard(ClockController, Protocol):
    """A clock controller fed with the loss: it acts on the schedule's clock (a guard)."""

    @property
    def monitor(self) -> Watcher:
        """The watcher whose findings decide (fed by :meth:`observe`)."""
        ...

    def observe(
        self, loss: object, *, grad_norm: object = None, lr: object = None
    ) -> Notice | None:
        """Feed the loss of the update about to be taken; call before the scheduler steps.

        Returns a :class:`Notice` when the caller must act before training goes on (e.g.
        restore the last good checkpoint after a non-finite loss), else None.
        """
        ...
