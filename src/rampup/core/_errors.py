"""The one exception family of rampup, and the helper that words its messages."""

from __future__ import annotations

import reprlib

__all__ = ["RampupError", "fail", "shown"]


class RampupError(ValueError):
    """Raised for every invalid input to rampup.

    The message names the public function that was called, the parameter, the value received and
    what was expected, e.g. ``linear(): length=-5 is invalid: expected a positive step count``.
    It is a :class:`ValueError`, so code that already catches ``ValueError`` keeps working.
    Code built on rampup (the lab, a user's own integration) words its errors the same way with
    :meth:`RampupError.invalid`.
    """

    @classmethod
    def invalid(cls, func: str, param: str, value: object, expected: str) -> RampupError:
        """Build (not raise) the error for a bad argument, in the house wording.

        ``raise RampupError.invalid("linear", "length", -5, "a positive step count")`` reads
        ``linear(): length=-5 is invalid: expected a positive step count``; a subclass builds
        itself.
        """
        return cls(f"{func}(): {param}={shown(value)} is invalid: expected {expected}")


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8

#: Integers with more bits than this are described by their size, not printed digit by digit.
_MAX_INT_BITS = 256


def shown(value: object) -> str:
    """A short, always-computable text of ``value`` for an error message.

    Long strings and containers are cut (``reprlib``), deep nesting is elided, and an integer too
    large to print cheaply is described by its number of digits, so building the message of an
    error can never itself fail (no RecursionError, no int-to-str digit limit).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _MAX_INT_BITS:
            digits = int(value.bit_length() * 0.30103) + 1
            return f"<an int of about {digits} digits>"
        return repr(value)
    try:
        text = _REPR.repr(value)
    except Exception:  # a user's object whose __repr__ fails must not hide our error
        return f"<a {type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def fail(func: str, param: str, value: object, expected: str) -> RampupError:
    """Build (not raise) a :class:`RampupError` with the house wording.

    ``raise fail("linear", "length", -5, "a positive step count")`` reads
    ``linear(): length=-5 is invalid: expected a positive step count``.
    """
    return RampupError.invalid(func, param, value, expected)
