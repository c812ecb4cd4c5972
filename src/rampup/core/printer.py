"""The printer of the spec language: a schedule as the short string :func:`~rampup.parse` reads.

A phase prints as its spec name and the parameters not at their default (positional ones first,
while they are given in order); a chain joins its phases with ``>>``, a product its factors with
``*`` (its scale first, unless it is 1), a bound schedule is ``bind(<schedule>, total_steps=...)``.
Numbers print as ``repr`` does (so they read back to the same float), words bare when they are
names or lengths, quoted otherwise.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, fields
from typing import Any

from rampup.core._errors import RampupError, shown
from rampup.core.schedule import Bound, Chain, Phase, Product, Schedule

__all__ = ["ALWAYS_SHOWN", "fmt", "same", "to_spec"]

#: Parameters printed even at their default: they define the schedule (Vaswani et al.'s noam).
ALWAYS_SHOWN: dict[str, tuple[str, ...]] = {"noam": ("d_model", "warmup")}

_BARE_WORD = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?:ep|%)"
)


def fmt(value: Any) -> str:
    """A value as the spec writes it: ``true``/``none``, numbers by ``repr``, words, lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, str):
        if _BARE_WORD.fullmatch(value) and value.lower() not in ("true", "false", "none"):
            return value
        for quote in "'\"":
            if quote not in value and "\\" not in value and "\n" not in value:
                return quote + value + quote
    raise RampupError(f"to_spec(): value={shown(value)} is invalid: it has no spec form")


def _phase_args(p: Phase) -> list[str]:
    out: list[str] = []
    by_position = True
    positional = getattr(p, "positional", ())
    always = ALWAYS_SHOWN.get(p.spec_name, ())
    for f in fields(p):
        value = getattr(p, f.name)
        at_default = f.default is not MISSING and same(value, f.default)
        if f.name in positional and by_position:
            if at_default:
                by_position = False  # later positional parameters must be named
                continue
            out.append(fmt(value))
            continue
        if at_default and f.name not in always:
            continue
        out.append(f"{f.name}={fmt(value)}")
    return out


def same(value: Any, default: Any) -> bool:
    """Equal, without True counting as 1 (a flag is never at a numeric default, or vice versa)."""
    return bool(value == default) and isinstance(value, bool) == isinstance(default, bool)


def to_spec(s: Schedule) -> str:
    """The spec string of a schedule; :func:`parse` reads it back to an equal schedule.

    >>> import rampup
    >>> to_spec(rampup.linear("5%") >> rampup.cosine(to=0.01))
    'linear(5%) >> cosine(to=0.01)'
    """
    if isinstance(s, Chain):
        return " >> ".join(to_spec(p) for p in s.phases)
    if isinstance(s, Product):
        parts = [fmt(s.scale)] if s.scale != 1.0 or len(s.factors) < 2 else []
        parts += [
            f"({to_spec(f)})" if isinstance(f, Chain | Product) else to_spec(f) for f in s.factors
        ]
        return " * ".join(parts)
    if isinstance(s, Bound):
        extra = ""
        if s.total_steps is not None:
            extra += f", total_steps={fmt(s.total_steps)}"
        if s.steps_per_epoch is not None:
            extra += f", steps_per_epoch={fmt(s.steps_per_epoch)}"
        return f"bind({to_spec(s.schedule)}{extra})"
    if isinstance(s, Phase):
        args = _phase_args(s)
        return s.spec_name + (f"({', '.join(args)})" if args else "")
    raise RampupError(f"to_spec(): schedule={shown(s)} is invalid: expected a rampup schedule")
