"""The clock protocol: how a controller moves a scheduler's position on its schedule.

A scheduler counts optimizer updates (``last_epoch`` in :class:`rampup.torch.Scheduler`) and
evaluates its schedules at a separate position, the **clock**. Without a controller the clock is
the number of updates taken, so update ``t`` uses ``s(t)``. A :class:`ClockController` (the
stability monitor's adaptive mode, for one) decides how far the clock moves on each update: it can
hold the warmup while training is unstable (return the clock unchanged) or slow it down (advance
by less than one). Schedules accept fractional steps, so any clock ``>= 0`` is valid.

This module is framework-free: it imports neither torch nor any other framework.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

from rampup.core._errors import RampupError, shown

__all__ = ["ClockController", "checked_clock"]


@runtime_checkable
class ClockController(Protocol):
    """Decides where the schedule clock stands after each optimizer update.

    The scheduler calls :meth:`advance` once in each ``step()``, after the update it counts; its
    result is the clock at which the *next* update's values are evaluated. Without a controller the
    scheduler behaves as if :meth:`advance` returned ``clock + 1`` (so ``clock == update``).

    The controller's decisions are part of the checkpoint: the scheduler stores
    :meth:`state_dict` (plain data: ints, floats, strings, lists, dicts) inside its own state under
    ``"controller"`` and hands it back to :meth:`load_state_dict` on resume.

    A controller that holds the clock for its first ``k`` updates::

        class Hold:
            def __init__(self, k: int) -> None:
                self.k = k

            def advance(self, update: int, clock: float) -> float:
                return clock if update <= self.k else clock + 1.0

            def state_dict(self) -> dict[str, Any]:
                return {"k": self.k}

            def load_state_dict(self, state: dict[str, Any]) -> None:
                k = state.get("k")
                if isinstance(k, bool) or not isinstance(k, int) or k < 0:
                    raise RampupError(
                        f"Hold.load_state_dict(): state['k']={k!r} is invalid: expected an"
                        " int >= 0"
                    )
                self.k = k
    """

    def advance(self, update: int, clock: float) -> float:
        """The new clock after an update.

        Args:
            update: the number of updates taken so far, the one just taken included (1 after the
                first update; the scheduler's new ``last_epoch``).
            clock: the clock before this update's advance (0.0 at the start of training).

        Returns:
            The new clock: a finite number ``>= clock``. The scheduler raises
            :class:`~rampup.RampupError` for anything else and leaves its state unchanged.

        """
        ...

    def state_dict(self) -> dict[str, Any]:
        """The controller's state as plain data (loads with ``torch.load(weights_only=True)``)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the state returned by :meth:`state_dict`.

        Check every field before changing anything (type, finiteness, range, consistency with
        the controller's configuration), never coerce one (``int("x")``, ``bool("no")``), and
        raise :class:`~rampup.RampupError` naming the field, e.g. ``state['k']``: a checkpoint
        that loads must not break training later. The scheduler puts the controller's previous
        state back if this raises.
        """
        ...


def checked_clock(func: str, controller: object, new: object, old: float) -> float:
    """Return ``new`` as a float if it is a valid next clock after ``old``, else raise.

    Valid: a real number (not a bool), finite, and ``>= old`` (the clock never runs backwards).
    """
    if isinstance(new, bool) or not isinstance(new, int | float):
        raise _bad_clock(func, controller, new, old)
    try:
        value = float(new)
    except OverflowError:  # an int beyond the float range
        raise _bad_clock(func, controller, new, old) from None
    if not math.isfinite(value) or value < old:
        raise _bad_clock(func, controller, new, old)
    return value


def _bad_clock(func: str, controller: object, new: object, old: float) -> RampupError:
    name = type(controller).__name__
    return RampupError(
        f"{func}(): clock={shown(new)} returned by {name}.advance() is invalid: expected a finite"
        f" number >= the current clock {old!r} (the clock never runs backwards)"
    )
