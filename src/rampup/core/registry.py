"""The spec language's vocabulary: the names it knows and how a call of one builds a schedule.

Each name is a phase class (its ``spec_name``: ``linear``, ``cosine``, ``hf_cosine``, ``auto``,
...), a named constructor (``wsd``, ``transformers``, ...) or ``bind``. :func:`construct` checks
the arguments of a call against the constructor's signature, with words a user reads (an unknown
name or argument comes with the closest known one), then builds it. The parser
(:mod:`rampup.core.grammar`) and :func:`rampup.core.spec_dicts.from_dict` both build through it,
so a spec string and its plain data are checked alike.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

from rampup.core import auto_warmup, compat, recipes, shapes
from rampup.core._errors import RampupError, shown
from rampup.core.schedule import Bound, Phase, Schedule

__all__ = [
    "BIND_PARAMS",
    "NAMES",
    "PHASES",
    "RECIPES",
    "construct",
    "did_you_mean",
    "keyword_names",
    "positional_names",
    "signature",
]

_PHASE_CLASSES: tuple[type[Phase], ...] = (
    shapes.Linear,
    shapes.Cosine,
    shapes.Poly,
    shapes.Sqrt,
    shapes.Log,
    shapes.Exp,
    shapes.Constant,
    shapes.Step,
    shapes.MultiStep,
    shapes.InvSqrt,
    shapes.Restarts,
    shapes.OneCycle,
    shapes.Noam,
    shapes.Untuned,
    shapes.RAdam,
    *compat.PHASES,
    auto_warmup.Auto,
)
#: The phase classes of the spec language, by spec name.
PHASES: dict[str, type[Phase]] = {cls.spec_name: cls for cls in _PHASE_CLASSES}
#: The named constructors (recipes and the peers' conventions), by name.
RECIPES: dict[str, Callable[..., Schedule]] = {
    "warmup_cosine": recipes.warmup_cosine,
    "warmup_linear": recipes.warmup_linear,
    "wsd": recipes.wsd,
    "tri_stage": recipes.tri_stage,
    **compat.RECIPES,
}
#: Every name a spec can call, sorted (for messages and suggestions).
NAMES = sorted([*PHASES, *RECIPES, "bind"])
#: The keyword arguments of ``bind``, besides the schedule.
BIND_PARAMS = ("total_steps", "steps_per_epoch")


@cache
def signature(name: str) -> inspect.Signature | None:
    """The constructor signature of a phase or recipe ``name``; None for ``bind`` or unknown."""
    target = PHASES.get(name) or RECIPES.get(name)
    if target is None:
        return None
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):  # pragma: no cover - every registered name has a signature
        return None


def positional_names(name: str) -> list[str]:
    """The parameters ``name(...)`` takes by position, in order."""
    if name == "bind":
        return ["schedule"]
    sig = signature(name)
    if sig is None:
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in sig.parameters.values() if p.kind in kinds]


def keyword_names(name: str) -> list[str]:
    """The parameters ``name(...)`` takes by keyword."""
    if name == "bind":
        return ["schedule", *BIND_PARAMS]
    sig = signature(name)
    if sig is None:
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in sig.parameters.values() if p.kind in kinds]


def did_you_mean(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_arguments(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Check argument names and counts against the constructor's signature, with clear words."""
    positional, keywords = positional_names(name), keyword_names(name)
    sig = signature(name)
    kinds = {p.kind for p in sig.parameters.values()} if sig is not None else set()
    open_keywords = inspect.Parameter.VAR_KEYWORD in kinds
    for key in kwargs:
        if key not in keywords and not open_keywords:
            valid = ", ".join(keywords) or "none"
            raise RampupError(
                f"{name}(): argument {key}= is unknown{did_you_mean(key, keywords)}:"
                f" expected one of {valid}"
            )
    if len(args) > len(positional) and inspect.Parameter.VAR_POSITIONAL not in kinds:
        takes = ", ".join(positional) if positional else "no positional arguments"
        raise RampupError(
            f"{name}(): {len(args)} positional arguments given, but it takes {takes}:"
            " name the others, e.g. to=0.01"
        )
    for key in positional[: len(args)]:
        if key in kwargs:
            raise RampupError(f"{name}(): argument {key}= given twice (by position and by name)")
    if name == "bind" and not args and "schedule" not in kwargs:
        raise RampupError("bind(): argument schedule= is missing: expected bind(<schedule>, ...)")
    if sig is not None:
        given = set(positional[: len(args)]) | set(kwargs)
        var = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        for p in sig.parameters.values():
            if p.default is p.empty and p.kind not in var and p.name not in given:
                raise RampupError(f"{name}(): argument {p.name}= is missing: it has no default")


def construct(name: str, args: list[Any], kwargs: dict[str, Any], kind: str = "name") -> Schedule:
    """Build the schedule ``name(*args, **kwargs)`` of the spec language; RampupError if invalid."""
    if name != "bind" and name not in PHASES and name not in RECIPES:
        raise RampupError(
            f"unknown schedule {kind}={shown(name)}{did_you_mean(name, NAMES)}: expected one of"
            f" {', '.join(NAMES)}"
        )
    _check_arguments(name, args, kwargs)
    params = [*positional_names(name)[: len(args)], *kwargs]
    for key, value in zip(params, [*args, *kwargs.values()], strict=False):
        if isinstance(value, Schedule) and not (name == "bind" and key == "schedule"):
            raise RampupError(
                f"{name}(): {key}={value} is invalid: expected a number, a length or a word, not a"
                " schedule"
            )
    if name == "bind":
        inner = args[0] if args else kwargs.pop("schedule")
        if isinstance(inner, str):
            inner = construct(inner, [], {}, kind)
        if not isinstance(inner, Schedule) or isinstance(inner, Bound):
            raise RampupError(
                f"bind(): schedule={shown(inner)} is invalid: expected an unbound schedule"
            )
        return inner.bind(**kwargs)
    target: Callable[..., Schedule] = PHASES.get(name) or RECIPES[name]
    try:
        return target(*args, **kwargs)
    except TypeError as exc:  # only through a constructor's **kwargs: the rest is checked above
        raise RampupError(f"{name}(): invalid arguments: {exc}") from None
