"""Schedules as plain data: dicts of numbers, strings, bools and lists (JSON, YAML, Keras).

:func:`to_dict` writes ``{"type": name, ...parameters}``; :func:`from_dict` reads it back,
building through the spec language's vocabulary (:func:`rampup.core.registry.construct`), so
plain data is checked exactly as a spec string is. Nesting is bounded by
:data:`~rampup.core.grammar.MAX_DEPTH`.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, fields
from typing import Any

from rampup.core._errors import RampupError, shown
from rampup.core.grammar import MAX_DEPTH
from rampup.core.printer import ALWAYS_SHOWN, same, to_spec
from rampup.core.registry import BIND_PARAMS, construct, did_you_mean
from rampup.core.schedule import Bound, Chain, Phase, Product, Schedule

__all__ = ["from_dict", "to_dict"]


def to_dict(s: Schedule) -> dict[str, Any]:
    """The schedule as plain data: ``{"type": name, ...parameters}``; JSON- and YAML-ready.

    Chains are ``{"type": "chain", "phases": [...]}``, products ``{"type": "product",
    "factors": [...], "scale": x}``, bound schedules ``{"type": "bind", "schedule": {...},
    "total_steps": n, "steps_per_epoch": m}``; a phase lists the parameters not at their default.
    """
    if isinstance(s, Chain):
        return {"type": "chain", "phases": [to_dict(p) for p in s.phases]}
    if isinstance(s, Product):
        return {"type": "product", "factors": [to_dict(f) for f in s.factors], "scale": s.scale}
    if isinstance(s, Bound):
        out: dict[str, Any] = {"type": "bind", "schedule": to_dict(s.schedule)}
        if s.total_steps is not None:
            out["total_steps"] = s.total_steps
        if s.steps_per_epoch is not None:
            out["steps_per_epoch"] = s.steps_per_epoch
        return out
    if isinstance(s, Phase):
        d: dict[str, Any] = {"type": s.spec_name}
        always = ALWAYS_SHOWN.get(s.spec_name, ())
        for f in fields(s):
            value = getattr(s, f.name)
            if f.default is not MISSING and same(value, f.default) and f.name not in always:
                continue
            d[f.name] = list(value) if isinstance(value, tuple) else value
        return d
    raise RampupError(f"to_dict(): schedule={shown(s)} is invalid: expected a rampup schedule")


def from_dict(data: Any) -> Schedule:
    """Build a schedule from :func:`to_dict`'s plain data (e.g. loaded from JSON or YAML).

    >>> import rampup
    >>> s = from_dict({"type": "chain", "phases": [{"type": "linear", "length": "5%"},
    ...                                            {"type": "cosine", "to": 0.01}]})
    >>> str(s)
    'linear(5%) >> cosine(to=0.01)'
    """
    try:
        return _from_dict(data, 0)
    except RampupError as exc:
        text = str(exc)
        raise RampupError(
            text if text.startswith("from_dict():") else f"from_dict(): {text}"
        ) from None


def _from_dict(data: Any, depth: int) -> Schedule:
    if depth > MAX_DEPTH:
        raise RampupError(f"from_dict(): nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise RampupError(
            f"from_dict(): data={shown(data)} is invalid: expected a dict with a 'type' key"
        )
    kind = data.get("type")
    if not isinstance(kind, str):
        raise RampupError(
            f"from_dict(): type={shown(kind)} is invalid: expected a schedule name such as"
            " 'linear', or 'chain', 'product', 'bind'"
        )
    rest = {k: v for k, v in data.items() if k != "type"}
    for key in rest:
        if not isinstance(key, str):
            raise RampupError(
                f"from_dict(): key {shown(key)} of {kind!r} is invalid: expected a string"
            )
    if kind == "chain":
        _only(kind, rest, ("phases",))
        phases = rest.get("phases")
        if not isinstance(phases, list) or not phases:
            raise RampupError(
                f"from_dict(): phases={shown(phases)} is invalid: expected a non-empty list"
            )
        parts = [_from_dict(p, depth + 1) for p in phases]
        for part in parts:
            if not isinstance(part, Phase | Chain):
                raise RampupError(
                    f"from_dict(): phases item {to_spec(part)!r} is invalid: expected a phase"
                    " (a chain holds phases only; nest products inside a 'product')"
                )
        result: Schedule = parts[0]
        for part in parts[1:]:
            result = result >> part
        return result
    if kind == "product":
        _only(kind, rest, ("factors", "scale"))
        factors = rest.get("factors")
        if not isinstance(factors, list) or not factors:
            raise RampupError(
                f"from_dict(): factors={shown(factors)} is invalid: expected a non-empty list"
            )
        scale = rest.get("scale", 1.0)
        if (
            isinstance(scale, bool)
            or not isinstance(scale, int | float)
            or not math.isfinite(scale)
        ):
            raise RampupError(
                f"from_dict(): scale={shown(scale)} is invalid: expected a finite number"
            )
        product: Schedule | float = float(scale)
        for f in factors:
            product = product * _from_dict(f, depth + 1)
        return product  # type: ignore[return-value]  # a float times a schedule is a Product
    if kind == "bind":
        _only(kind, rest, ("schedule", *BIND_PARAMS))
        if "schedule" not in rest:
            raise RampupError("from_dict(): bind: key 'schedule' is missing: expected a schedule")
        inner = _from_dict(rest.pop("schedule"), depth + 1)
        return construct("bind", [inner], rest)
    for key, value in rest.items():
        if not _is_plain(value):
            raise RampupError(
                f"from_dict(): {kind}: {key}={shown(value)} is invalid: expected a number,"
                " a string, a bool, null or a list of those"
            )
    return construct(kind, [], rest, kind="type")


def _is_plain(value: Any, depth: int = 0) -> bool:
    if isinstance(value, list | tuple):
        return depth < 2 and all(_is_plain(v, depth + 1) for v in value)
    return value is None or isinstance(value, bool | int | float | str)


def _only(kind: str, rest: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in rest:
        if key not in allowed:
            raise RampupError(
                f"from_dict(): {kind}: key {key!r} is unknown{did_you_mean(key, list(allowed))}:"
                f" expected {', '.join(allowed)}"
            )
