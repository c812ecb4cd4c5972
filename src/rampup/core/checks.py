"""The checks rampup's entry points run on their arguments, for code built on rampup.

Adapters, tools and a user's own integration reject bad input the way rampup does: each check
returns the value (normalised) or raises a :class:`~rampup.RampupError` naming the function, the
parameter, the value and what was expected. Errors of another kind are built with
:meth:`rampup.RampupError.invalid`; :func:`shown` gives the short text of a value for a message.

>>> from rampup.core.checks import check_number
>>> check_number("demo", "lr", 3e-4, low=0.0, low_open=True)
0.0003
>>> check_number("demo", "lr", -1, low=0.0, low_open=True)
Traceback (most recent call last):
...
rampup.core._errors.RampupError: demo(): lr=-1 is invalid: expected a finite number in (0, inf]
"""

from __future__ import annotations

from rampup.core._checks import (
    check_choice,
    check_count,
    check_flag,
    check_number,
    check_optional_count,
    check_optional_flag,
    check_optional_number,
    check_optional_real,
    check_real,
    check_switch,
    check_writable,
)
from rampup.core._errors import shown

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
    "shown",
]
