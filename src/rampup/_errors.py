"""The one exception family of rampup, and the helper that words its messages."""

from __future__ import annotations

__all__ = ["RampupError", "fail"]


class RampupError(ValueError):
    """Raised for every invalid input to rampup.

    The message names the public function that was called, the parameter, the value received and
    what was expected, e.g. ``linear(): length=-5 is invalid: expected a positive step count``.
    It is a :class:`ValueError`, so code that already catches ``ValueError`` keeps working.
    """


def fail(func: str, param: str, value: object, expected: str) -> RampupError:
    """Build (not raise) a :class:`RampupError` with the house wording.

    ``raise fail("linear", "length", -5, "a positive step count")`` reads
    ``linear(): length=-5 is invalid: expected a positive step count``.
    """
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return RampupError(f"{func}(): {param}={shown} is invalid: expected {expected}")
