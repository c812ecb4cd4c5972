"""Fields shared by the shapes: lengths in canonical form, frozen fields set, powers checked."""

from __future__ import annotations

import math

from rampup.core._errors import fail
from rampup.core.units import Length, parse_length

__all__ = ["grown", "length_field", "set_field"]


def length_field(func: str, value: object) -> Length | None:
    """Normalise a length to its canonical form (int steps, or '5%' / '2ep')."""
    if value is None:
        return None
    span = parse_length(func, "length", value)
    return int(span.amount) if span.unit == "steps" else str(span)


def set_field(obj: object, name: str, value: object) -> None:
    """Set a field of a frozen phase (its normalised value, in ``_validate``)."""
    object.__setattr__(obj, name, value)


def grown(func: str, param: str, factor: float, start: float, times: float | None) -> float:
    """``start * factor**times``: the value a geometric phase reaches, checked to stay finite.

    ``times=None`` is an open-ended phase: a factor above 1 would grow without bound (and overflow
    at large steps), so it needs a length; the result is then NaN (no final value).
    """
    if times is None:
        if factor > 1:
            raise fail(func, param, factor, "a factor <= 1, or a length: it grows without bound")
        return math.nan
    try:
        value = float(start * factor**times)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise fail(func, param, factor, f"a factor whose power {times:g} stays finite")
    return value
