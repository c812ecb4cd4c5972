"""Plain data for the guard's states: non-finite floats as strings, and a strict field reader.

:func:`plain` writes a float so JSON keeps it ('nan', 'inf', '-inf' for the non-finite ones) and
:func:`unplain` reads it back. :class:`Fields` reads one state dict field by field, each checked
and never coerced, so a checkpoint that loads cannot break training later. Used inside the guard
only (the monitor's, the events' and the controller's states).
"""

from __future__ import annotations

import math
from typing import Any

from rampup import RampupError
from rampup.core.checks import check_count, check_flag, shown

__all__ = ["Fields", "floats", "plain", "unplain"]


def plain(x: float) -> float | str:
    """A float for JSON: finite values as they are, others as 'nan', 'inf' or '-inf'."""
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def unplain(x: object) -> float:
    """:func:`plain`'s inverse: a float, or TypeError / OverflowError (an int beyond floats)."""
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError(f"expected a number, got {shown(x)}")
    return float(x)


def floats(values: object) -> list[float] | None:
    """The numbers of a plain-data list (:func:`plain`'s), or None if it is not one."""
    if not isinstance(values, list):
        return None
    try:
        return [unplain(x) for x in values]
    except (TypeError, OverflowError):
        return None


class Fields:
    """Strict reading of one plain-data state dict: each field checked, never coerced.

    Errors name the field by its path, e.g. ``state['monitor']['step']``, the value received and
    what was expected (the shared checks' wording, :mod:`rampup.core.checks`).
    """

    def __init__(self, func: str, path: str, data: object, maker: str) -> None:
        self.func, self.path = func, path
        if not isinstance(data, dict):
            raise RampupError.invalid(func, path, data, f"a dict made by {maker}")
        self.data: dict[str, Any] = data
        self.maker = maker

    def name(self, key: str) -> str:
        """The path of field ``key``, e.g. ``state['step']``."""
        return f"{self.path}[{key!r}]"

    def bad(self, key: str, expected: str) -> RampupError:
        """The error for field ``key`` (built, not raised)."""
        return RampupError.invalid(self.func, self.name(key), self.data.get(key), expected)

    def get(self, key: str) -> Any:
        """Field ``key`` as it is; a missing key is an error naming the dict."""
        if key not in self.data:
            raise RampupError.invalid(
                self.func, self.path, self.data, f"a dict made by {self.maker} (no key {key!r})"
            )
        return self.data[key]

    def sub(self, key: str, maker: str) -> Fields:
        """Field ``key``, a dict made by ``maker``, to read field by field in turn."""
        return Fields(self.func, self.name(key), self.get(key), maker)

    def int_(self, key: str, low: int, high: int) -> int:
        """An int (not a bool) in [``low``, ``high``]."""
        what = f"an int in [{low}, {high}]"
        return check_count(self.func, self.name(key), self.get(key), low, what, high=high)

    def bool_(self, key: str) -> bool:
        """True or False."""
        return check_flag(self.func, self.name(key), self.get(key))

    def str_(self, key: str) -> str:
        """A str."""
        v = self.get(key)
        if not isinstance(v, str):
            raise self.bad(key, "a str")
        return v

    def float_(self, key: str, *, finite: bool = False, low: float = -math.inf) -> float:
        """A number (or 'nan'/'inf'/'-inf' unless ``finite``) that is >= ``low``."""
        what = "a finite number" if finite else "a number (or 'nan', 'inf', '-inf')"
        what += f" >= {low:g}" if low > -math.inf else ""
        try:
            x = unplain(self.get(key))
        except (TypeError, OverflowError):
            raise self.bad(key, what) from None
        if (finite and not math.isfinite(x)) or x < low:
            raise self.bad(key, what)
        return x

    def finite_list(self, key: str, most: int) -> list[float]:
        """A list of at most ``most`` finite numbers."""
        xs = floats(self.get(key))
        if xs is None or len(xs) > most or not all(map(math.isfinite, xs)):
            raise self.bad(key, f"a list of at most {most} finite numbers")
        return xs
