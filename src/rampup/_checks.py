"""Parameter checks shared by the shapes: each raises a RampupError naming the parameter."""

from __future__ import annotations

import math

from rampup._errors import fail

__all__ = ["check_choice", "check_count", "check_number", "check_optional_number"]


def check_count(func: str, param: str, value: object, low: int, what: str) -> int:
    """Return ``value`` if it is an int (not a bool) of at least ``low``; else raise ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise fail(func, param, value, what)
    return value


def check_number(
    func: str,
    param: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    what: str = "",
) -> float:
    """Return ``value`` as a float if it is a finite real number in the given interval."""
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    expected = what or f"a finite number in {lo}{low:g}, {high:g}{hi}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(func, param, value, expected)
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range
        raise fail(func, param, value, expected) from None
    if not math.isfinite(x):
        raise fail(func, param, value, expected)
    if x < low or (low_open and x == low) or x > high or (high_open and x == high):
        raise fail(func, param, value, expected)
    return x


def check_optional_number(
    func: str, param: str, value: object, *, low: float = 0.0, what: str = ""
) -> float | None:
    """Like :func:`check_number` (a value >= ``low``) but None passes through."""
    if value is None:
        return None
    return check_number(func, param, value, low=low, what=what)


def check_choice(func: str, param: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise fail(func, param, value, "one of " + ", ".join(repr(c) for c in choices))
    return value
