"""Parameter checks shared by every layer: each raises a RampupError naming the parameter.

The core imports them from here; adapters and tools through their public face,
:mod:`rampup.core.checks`.
"""

from __future__ import annotations

import decimal
import math
import numbers
from pathlib import Path

from rampup.core._errors import fail

__all__ = [
    "check_choice",
    "check_count",
    "check_flag",
    "check_number",
    "check_optional_count",
    "check_optional_flag",
    "check_optional_number",
    "check_optional_real",
    "check_real",
    "check_switch",
    "check_writable",
]


def check_count(
    func: str, param: str, value: object, low: int, what: str, *, high: int | None = None
) -> int:
    """Return ``value`` if it is an int (not a bool) in [``low``, ``high``]; else raise ``what``.

    ``high=None`` (default): no upper bound.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        raise fail(func, param, value, what)
    return value


def check_optional_count(
    func: str, param: str, value: object, low: int, what: str, *, high: int | None = None
) -> int | None:
    """Like :func:`check_count`, but None (not set, or off) passes through."""
    if value is None:
        return None
    return check_count(func, param, value, low, what, high=high)


def check_flag(func: str, param: str, value: object, what: str = "True or False") -> bool:
    """Return ``value`` if it is True or False (no truthiness guessing: ``"no"`` is refused)."""
    if not isinstance(value, bool):
        raise fail(func, param, value, what)
    return value


def check_optional_flag(
    func: str, param: str, value: object, what: str = "True, False or None"
) -> bool | None:
    """Like :func:`check_flag`, but None (not set: a default decides) passes through."""
    if value is None:
        return None
    return check_flag(func, param, value, what)


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


def check_switch(func: str, param: str, value: object, low: float) -> float | None:
    """None (the rule it sets is off) or a finite number > ``low``, as a float."""
    if value is None:
        return None
    return check_number(
        func, param, value, low=low, low_open=True, what=f"None (off) or a finite number > {low:g}"
    )


def check_real(func: str, param: str, value: object) -> float:
    """Any real number as a float (never raises for one: too large is ±inf); else RampupError.

    Accepts Python and numpy numbers, :class:`decimal.Decimal` and one-element tensors or arrays
    (anything with ``item()`` that gives a real number), which covers ``loss.detach()`` without
    importing a framework.
    """
    if isinstance(value, float):
        return value
    if isinstance(value, decimal.Decimal):  # a number, though not a numbers.Real
        return math.nan if value.is_nan() else float(value)  # float() refuses a signalling NaN
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        item = getattr(value, "item", None)
        if item is None or isinstance(value, bool | str | bytes):
            raise fail(func, param, value, "a real number (a float, an int, a 0-d tensor)")
        try:
            value = item()
        except Exception:  # a multi-element tensor, a failing user object
            raise fail(
                func, param, value, "a real number (a float, an int, a one-element tensor)"
            ) from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise fail(func, param, value, "a real number (a float, an int, a 0-d tensor)")
    try:
        return float(value)
    except OverflowError:  # an int or a Fraction beyond the float range
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]  # a Real compares


def check_optional_real(func: str, param: str, value: object) -> float:
    """Like :func:`check_real`; None (not measured) is NaN."""
    return math.nan if value is None else check_real(func, param, value)


def check_writable(func: str, path: object) -> Path:
    """``path`` as a Path to write, checked first: a str or Path in an existing directory."""
    if not isinstance(path, str | Path):
        raise fail(func, "path", path, "a file path (str or Path), or None")
    p = Path(path)
    if not p.parent.is_dir():
        raise fail(func, "path", str(path), "a path in an existing directory")
    return p
