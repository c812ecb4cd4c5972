"""The state checks of a :class:`~rampup.torch.Scheduler` (and of a warmup): before anything loads.

A state is plain data (the specs, the base rates, the update count, the clock, the controller's
state); it is checked completely before anything changes, one rule per entry, so that a refused
state changes nothing. :func:`check_state_shape` checks its format, entries, their types and
ranges, and that the specs parse back; :func:`check_values` that every value it would write is
finite; :func:`refuse_another_schedule` (with :func:`mismatch`) that it was made by the same
schedule. The states of torch's own schedulers are checked by :mod:`rampup.torch.torch_states`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from rampup import RampupError
from rampup.core.schedule import Schedule
from rampup.core.spec import parse
from rampup.torch.torch_states import MAX_COUNT, finite, int_rule

__all__ = [
    "VERSION",
    "check_state_shape",
    "check_values",
    "mismatch",
    "refuse_another_schedule",
]

#: The version of a Scheduler state.
VERSION = 1


def _parse_spec(func: str, key: str, spec: str | None) -> Schedule | None:
    """A state's spec string parsed (its type is checked already)."""
    if spec is None:
        return None
    try:
        return parse(spec)
    except RampupError as exc:
        raise RampupError.invalid(
            func, f"state_dict[{key!r}]", spec, f"a spec string that parses: {exc}"
        ) from None


def mismatch(func: str, what: str, theirs: Schedule | None, mine: Schedule | None) -> None:
    """Refuse a state made by another schedule, naming both and how to re-bind on purpose."""
    raise RampupError(
        f"{func}(): the state was made by another schedule: its {what} is"
        f" {str(theirs)!r}, this scheduler's is {str(mine)!r}. Expected a state of the same"
        " schedule; to continue the run under the new one on purpose (e.g. a longer run),"
        " pass rebind=True: the clock carries over and the new schedule applies from it"
    )


def _is_rate(value: object) -> bool:
    x = finite(value)
    return x is not None and x >= 0.0


def _is_spec(value: object) -> bool:
    return value is None or isinstance(value, str)


def _one_per_group(ok: Callable[[object], bool], what: str) -> Callable[[object, int], str | None]:
    """A check of a list holding one item per param group, each passing ``ok``."""

    def check(value: object, n: int) -> str | None:
        if isinstance(value, list) and len(value) == n and all(ok(x) for x in value):
            return None
        return f"a list with one item per param group ({n}): {what}"

    return check


def _check_version(value: object, n: int) -> str | None:
    return None if type(value) is int and value == VERSION else f"the int {VERSION}"


def _check_hyper(value: object, n: int) -> str | None:
    one = _one_per_group(_is_spec, "")
    if isinstance(value, dict) and all(
        isinstance(k, str) and one(v, n) is None for k, v in value.items()
    ):
        return None
    return f"a dict from param-group key to a list of spec strings (or None), one per group ({n})"


def _check_clock(value: object, n: int) -> str | None:
    x = finite(value)
    return None if x is not None and 0.0 <= x <= MAX_COUNT else "a number in [0, 2**53]"


def _check_controller(value: object, n: int) -> str | None:
    return None if value is None or isinstance(value, dict) else "a dict (or None: no controller)"


#: Every entry of a Scheduler state and its check: None if valid, else what was expected.
_STATE_FIELDS: dict[str, Callable[[object, int], str | None]] = {
    "version": _check_version,
    "lr": _one_per_group(_is_spec, "spec strings (or None: not scheduled)"),
    "lr_absolute": _one_per_group(lambda x: isinstance(x, bool), "bools"),
    "hyper": _check_hyper,
    "base_lrs": _one_per_group(_is_rate, "finite rates >= 0"),
    "last_epoch": int_rule(-1, what=": the updates taken (-1: not started)"),
    "clock": _check_clock,
    "controller": _check_controller,
}


def check_state_shape(
    func: str, fmt: str, state: object, n: int, has_controller: bool, extra: Sequence[str] = ()
) -> tuple[list[Schedule | None], list[bool], dict[str, list[Schedule | None]], Any]:
    """Check every entry of a state dict; return its parsed specs and controller state.

    Each entry is checked by its own rule (``_STATE_FIELDS``); the error names the entry, its
    value and what was expected. ``extra`` names the subclass's own entries (checked by it).
    """
    if not isinstance(state, Mapping) or state.get("format") != fmt:
        found = state.get("format") if isinstance(state, Mapping) else None
        got = f"format {found!r}" if found is not None else "no rampup 'format' key"
        raise RampupError.invalid(func, "state_dict", state, f"a {fmt} state_dict(), got {got}")
    known = {"format", *_STATE_FIELDS, *extra}
    unknown = sorted(str(k) for k in state if k not in known)
    missing = sorted(k for k in known if k not in state)
    if unknown or missing:
        raise RampupError.invalid(
            func,
            "state_dict",
            state,
            f"a {fmt} state with the entries {sorted(known)}: missing {missing}, unknown {unknown}",
        )
    for key, check in _STATE_FIELDS.items():
        expected = check(state[key], n)
        if expected is not None:
            raise RampupError.invalid(
                func, f"state_dict[{key!r}]", state[key], f"{expected} (a {fmt} state)"
            )
    last, clock, controller_state = state["last_epoch"], state["clock"], state["controller"]
    if last == -1 and (float(clock) != 0.0 or controller_state is not None):
        raise RampupError.invalid(
            func,
            "state_dict['clock']",
            clock,
            "0 and no controller state when not started ('last_epoch' -1)",
        )
    if controller_state is None and not has_controller and float(clock) != max(last, 0):
        raise RampupError.invalid(
            func,
            "state_dict['clock']",
            clock,
            f"the 'last_epoch' ({last}) without a controller: the clock counts updates",
        )
    parsed = [_parse_spec(func, "lr", x) for x in state["lr"]]
    hyper = state["hyper"]
    parsed_hyper = {k: [_parse_spec(func, "hyper", x) for x in v] for k, v in hyper.items()}
    return parsed, state["lr_absolute"], parsed_hyper, controller_state


#: A compiled value function: the clock -> the value (None: not scheduled).
ValueFn: TypeAlias = Callable[[float], float] | None


def check_values(
    func: str,
    bases: Sequence[float],
    clock: float,
    lr_fns: Sequence[ValueFn],
    absolute: Sequence[bool],
    hyper_fns: Sequence[tuple[str, int | None, Sequence[ValueFn]]],
) -> None:
    """Every value a scheduler would write at ``clock`` from ``bases`` must be finite.

    A group's lr is ``base * s(clock)`` (``s(clock)`` if absolute); a hyperparameter's is
    ``h(clock)``.
    """
    for i, (b, fn, absolute_i) in enumerate(zip(bases, lr_fns, absolute, strict=True)):
        if fn is not None and not math.isfinite(fn(clock) if absolute_i else b * fn(clock)):
            raise RampupError.invalid(
                func,
                "state_dict['base_lrs']",
                bases,
                f"rates whose scheduled lr is finite: group {i}'s is not at clock {clock!r}",
            )
    for name, index, fns in hyper_fns:
        for i, fn in enumerate(fns):
            if fn is not None and not math.isfinite(fn(clock)):
                key = name if index is None else f"{name}[{index}]"
                raise RampupError.invalid(
                    func,
                    "state_dict['clock']",
                    clock,
                    f"a clock at which every value is finite: {key} of group {i} is not",
                )


def refuse_another_schedule(
    func: str,
    state: object,
    theirs: tuple[list[Schedule | None], list[bool], dict[str, list[Schedule | None]], Any],
    lr: Sequence[Schedule | None],
    absolute: Sequence[bool],
    hyper: Mapping[str, Sequence[Schedule | None]],
    has_controller: bool,
) -> None:
    """Refuse a state (checked by :func:`check_state_shape`) made by another schedule.

    ``theirs`` is what :func:`check_state_shape` returned; ``lr``, ``absolute``, ``hyper`` and
    ``has_controller`` describe the scheduler loading it. Same kind of clock, same lr schedule
    (and absoluteness) per group, same hyperparameter keys and schedules.
    """
    parsed, their_absolute, theirs_hyper, controller_state = theirs
    if (controller_state is None) == has_controller:
        has = "has" if controller_state is not None else "has no"
        ours = "this one has one" if has_controller else "this one has none"
        raise RampupError.invalid(
            func,
            "state_dict",
            state,
            f"a state of the same kind of clock: it {has} controller state, {ours} (pass"
            " rebind=True to continue anyway)",
        )
    for i, (their_lr, mine) in enumerate(zip(parsed, lr, strict=True)):
        if their_lr != mine or their_absolute[i] != absolute[i]:
            mismatch(func, f"lr of group {i}", their_lr, mine)
    if set(theirs_hyper) != set(hyper):
        raise RampupError.invalid(
            func,
            "state_dict",
            state,
            f"a state of the same hyperparameters: it schedules {sorted(theirs_hyper)}, this"
            f" scheduler {sorted(hyper)} (pass rebind=True to continue anyway)",
        )
    for key, scheds in theirs_hyper.items():
        for i, (their_s, mine) in enumerate(zip(scheds, hyper[key], strict=True)):
            if their_s != mine:
                mismatch(func, f"{key} of group {i}", their_s, mine)
