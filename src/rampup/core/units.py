"""Lengths of training: step counts, epochs (``"2ep"``) and fractions of the run (``"5%"``).

A length is given as

- an ``int``: a number of optimizer updates (steps), e.g. ``1000``;
- a string ending in ``ep``: epochs, fractional allowed, e.g. ``"2ep"``, ``"0.5ep"``;
- a string ending in ``%``: a percentage of the whole run (``total_steps``), e.g. ``"5%"``.

Epochs and percentages are converted to steps once, when the schedule is bound to a run
(:meth:`rampup.Schedule.bind`). The conversion rounds to the nearest step, halves rounded up::

    steps = floor(amount * unit + 1/2)    # unit = steps_per_epoch, or total_steps / 100

so ``"2.5%"`` of 100 steps is 3 steps and ``"0.5ep"`` of 5 steps per epoch is 3 steps. A length
that resolves to 0 steps, or to more than 2**53 (:data:`MAX_STEPS`), is an error, as is a length
whose unit is not known (no ``steps_per_epoch`` for ``"2ep"``, no ``total_steps`` for ``"5%"``):
rampup never guesses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from rampup.core._errors import RampupError, fail, shown

__all__ = ["Length", "Span", "parse_length"]

#: The largest step count rampup accepts: every step up to it is exact in a float64.
MAX_STEPS = 2**53

#: What users may pass wherever rampup asks for a length.
Length = int | str

_LENGTH_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e([+-]?[0-9]+))?\s*(ep|%)?\s*$")


@dataclass(frozen=True)
class Span:
    """A parsed length: an amount and its unit (``"steps"``, ``"epochs"`` or ``"percent"``)."""

    amount: float
    unit: Literal["steps", "epochs", "percent"]

    def __str__(self) -> str:
        if self.unit == "steps":
            return str(int(self.amount))
        text = repr(self.amount)
        if text.endswith(".0"):
            text = text[:-2]
        return text + ("ep" if self.unit == "epochs" else "%")

    @property
    def is_absolute(self) -> bool:
        """True when the span is a plain step count that needs no binding."""
        return self.unit == "steps"

    def resolve(
        self, func: str, param: str, total_steps: int | None, steps_per_epoch: float | None
    ) -> int:
        """Convert to a whole number of steps (nearest, halves up); raise if that is impossible."""
        if self.unit == "steps":
            return int(self.amount)
        if self.unit == "epochs":
            if steps_per_epoch is None:
                raise RampupError(
                    f"{func}(): {param}={str(self)!r} is in epochs but no steps_per_epoch is known:"
                    " call .bind(steps_per_epoch=...) (or pass steps_per_epoch to the scheduler)"
                )
            exact = _product(self.amount, steps_per_epoch)
        else:
            if total_steps is None:
                raise RampupError(
                    f"{func}(): {param}={str(self)!r} is a fraction of the run but no total_steps"
                    " is known: call .bind(total_steps=...) (or pass total_steps to the scheduler)"
                )
            exact = _product(self.amount, total_steps) / 100.0
        if not exact <= MAX_STEPS:  # also inf and NaN: the product of two huge numbers
            unit = (
                f"steps_per_epoch={shown(steps_per_epoch)}"
                if self.unit == "epochs"
                else f"total_steps={shown(total_steps)}"
            )
            many = f"{exact:g} steps" if math.isfinite(exact) else "more steps than a float holds"
            raise RampupError(
                f"{func}(): {param}={str(self)!r} resolves to {many} with {unit}:"
                f" expected a length of at most 2**53 = {MAX_STEPS} steps"
            )
        steps = math.floor(exact + 0.5)
        if steps < 1:
            raise RampupError(
                f"{func}(): {param}={str(self)!r} resolves to {exact:g} steps, which rounds to 0:"
                " expected a length of at least one step"
            )
        return steps


def _product(amount: float, unit: float) -> float:
    """``amount * unit``, infinite rather than an OverflowError for an int beyond a float."""
    try:
        return amount * unit
    except OverflowError:
        return math.inf


def parse_length(func: str, param: str, value: object) -> Span:
    """Parse a user-given length into a :class:`Span`, or raise a :class:`RampupError`.

    >>> parse_length("linear", "length", "5%")
    Span(amount=5.0, unit='percent')
    >>> parse_length("linear", "length", 1000)
    Span(amount=1000.0, unit='steps')
    """
    expected = (
        "a positive number of steps (int), epochs such as '2ep', or a percentage of the run"
        " such as '5%'"
    )
    if isinstance(value, Span):
        return value
    if isinstance(value, bool):
        raise fail(func, param, value, expected)
    if isinstance(value, int):
        if value < 1:
            raise fail(func, param, value, expected)
        if value > MAX_STEPS:
            raise fail(func, param, value, f"a length of at most 2**53 = {MAX_STEPS} steps")
        return Span(float(value), "steps")
    if isinstance(value, float):
        if math.isfinite(value) and 1 <= value <= MAX_STEPS and value == int(value):
            return Span(float(int(value)), "steps")
        raise fail(func, param, value, expected + " (a float step count must be a whole number)")
    if not isinstance(value, str) or len(value) > 64:
        raise fail(func, param, value, expected)
    match = _LENGTH_RE.match(value)
    if match is None:
        raise fail(func, param, value, expected)
    number, exponent, suffix = match.groups()
    amount = float(number + (f"e{exponent}" if exponent else ""))
    if not math.isfinite(amount) or amount <= 0:
        raise fail(func, param, value, expected)
    if suffix == "ep":
        return Span(amount, "epochs")
    if suffix == "%":
        if amount > 100:
            raise fail(func, param, value, "a percentage of the run between 0 and 100")
        return Span(amount, "percent")
    if amount > MAX_STEPS and suffix != "%":
        raise fail(func, param, value, f"a length of at most 2**53 = {MAX_STEPS} steps")
    if amount != int(amount) or amount < 1:
        raise fail(func, param, value, expected + " (a step count must be a whole number)")
    return Span(float(int(amount)), "steps")
