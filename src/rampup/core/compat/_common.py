"""What the peers' conventions share: step counts, phase lengths and the join of phases."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from rampup.core._errors import RampupError, fail
from rampup.core._ops import Formula, Ops
from rampup.core.schedule import Chain, Phase, Schedule
from rampup.core.units import MAX_STEPS, Length, parse_length

__all__ = ["PI", "Make", "check_steps", "join", "need_length", "phase_length"]

PI = math.pi
#: A formula factory: operations namespace (scalar or array) to formula.
Make = Callable[[Ops], Formula]


def check_steps(func: str, param: str, value: object, *, low: int, what: str = "") -> int:
    """Return ``value`` if it is an int (not a bool) in ``[low, 2**53]`` (a count of steps)."""
    expected = (what or f"an int >= {low}") + f" and <= 2**53 = {MAX_STEPS}"
    if isinstance(value, bool):
        raise fail(func, param, value, expected)
    try:
        n = operator.index(value)  # type: ignore[arg-type]  # any integral type is accepted
    except TypeError:
        raise fail(func, param, value, expected) from None
    if not low <= n <= MAX_STEPS:
        raise fail(func, param, value, expected)
    return n


def phase_length(func: str, value: object) -> Length | None:
    """A phase length in its canonical form (int steps, or '5%' / '2ep'), or None."""
    if value is None:
        return None
    span = parse_length(func, "length", value)
    return int(span.amount) if span.is_absolute else str(span)


def need_length(phase: Phase, length: int | None) -> int:
    """The resolved ``length`` of ``phase``; RampupError when the run left it unknown."""
    if length is None:
        raise RampupError(f"{phase}: {phase.spec_name} needs a length (or total_steps)")
    return length


def join(phases: list[Phase]) -> Schedule:
    """One phase on its own, or the chain of several."""
    return phases[0] if len(phases) == 1 else Chain(tuple(phases))
