r"""Per-group planning: which schedule drives which param-group key, checked before anything moves.

A :class:`~rampup.torch.Scheduler` is given one schedule for every group, a list with one per
group, or a mapping by group index or ``"name"`` (for the learning rate, and for any other numeric
key through ``hyper``: ``momentum``, ``betas[0]``, ...). :func:`plan` spreads those over the
optimizer's param groups, parses and binds every spec (``"5%"`` from ``total_steps``, ``"2ep"``
from ``steps_per_epoch``), tries each at step 0 and checks that every group holds the key it
schedules. Everything here validates; nothing writes into the optimizer except :func:`put` and
:func:`put_item`, which the scheduler calls once the plan is valid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from torch import Tensor
from torch.optim import Optimizer

from rampup import RampupError
from rampup.core.auto_warmup import fit_optimizer
from rampup.core.checks import check_number, shown
from rampup.core.clock import ClockController
from rampup.core.schedule import Bound, Schedule, iter_phases
from rampup.core.spec import parse

__all__ = [
    "HyperSlot",
    "PerGroup",
    "ScheduleLike",
    "as_float",
    "check_lengths",
    "check_optimizer",
    "default_controller",
    "fit_auto",
    "is_number",
    "optimizer_beta2s",
    "plan",
    "put",
    "put_item",
]

#: A schedule, or its spec string.
ScheduleLike: TypeAlias = Schedule | str
#: One schedule for every group, one per group (a list), or a mapping by group index or name.
PerGroup: TypeAlias = (
    ScheduleLike | Sequence[ScheduleLike | None] | Mapping[int | str, ScheduleLike | None]
)
#: A scheduled hyperparameter: its key as given, the group key, the tuple index, one per group.
HyperSlot: TypeAlias = tuple[str, str, int | None, list[Schedule | None]]

#: A param-group key, or an item of a tuple one: ``momentum``, ``betas[0]`` (no leading zeros, so
#: two spellings never name the same item).
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(0|[1-9][0-9]*)\])?")
_NOT_SCHEDULABLE = ("params", "param_names", "initial_lr", "name")


# -- validation helpers -----------------------------------------------------------------------
def is_number(value: object) -> bool:
    """A real number or a one-element floating tensor (what a param group can hold)."""
    if isinstance(value, Tensor):
        return value.numel() == 1 and value.is_floating_point()
    return not isinstance(value, bool) and isinstance(value, int | float)


def as_float(value: float | Tensor) -> float:
    """A number or a one-element tensor as a float."""
    return float(value.item()) if isinstance(value, Tensor) else float(value)


def _group_label(groups: Sequence[Mapping[str, Any]], i: int) -> str:
    name = groups[i].get("name")
    return f"param group {i}" + (f" ({name!r})" if isinstance(name, str) else "")


def _to_schedule(
    func: str,
    param: str,
    value: object,
    total_steps: int | None,
    steps_per_epoch: float | None,
) -> Schedule:
    """A schedule, parsed, bound, compiled and tried at step 0."""
    given = value if isinstance(value, str) else str(value)  # as the user wrote it
    if isinstance(value, str):
        try:
            value = parse(value)
        except RampupError as exc:
            raise RampupError(f"{func}(): {param}: {exc}") from None
    if not isinstance(value, Schedule):
        raise RampupError.invalid(
            func, param, value, "a rampup schedule or a spec string such as 'linear(5%)'"
        )
    schedule: Schedule = value
    try:
        if total_steps is not None or steps_per_epoch is not None:
            if isinstance(schedule, Bound):
                if total_steps is None:
                    total_steps = schedule.total_steps
                if steps_per_epoch is None:
                    steps_per_epoch = schedule.steps_per_epoch
            schedule = schedule.bind(total_steps=total_steps, steps_per_epoch=steps_per_epoch)
        fn = schedule.as_function()
        first = fn(0)
    except RampupError as exc:
        raise RampupError(f"{func}(): {param}={given!r} is invalid: {exc}") from None
    if not math.isfinite(first):
        raise RampupError.invalid(func, param, given, "a schedule with a finite value at step 0")
    return schedule


def _per_group(
    func: str, param: str, value: object, groups: Sequence[Mapping[str, Any]], *, complete: bool
) -> list[object]:
    """Spread ``value`` over the groups: one for all, a list by index, a mapping by index/name.

    With ``complete`` a mapping must name every group (None: not scheduled); otherwise groups it
    leaves out are not scheduled.
    """
    n = len(groups)
    if isinstance(value, Schedule | str):
        return [value] * n
    if isinstance(value, Mapping):
        out: list[object] = [None] * n
        named: dict[int, object] = {}
        for key, item in value.items():
            index = _group_index(func, param, key, groups)
            if index in named:
                raise RampupError.invalid(
                    func,
                    param,
                    key,
                    f"each group named once: {_group_label(groups, index)} is named twice",
                )
            named[index] = key
            out[index] = item
        missing = [i for i in range(n) if i not in named]
        if complete and missing:
            labels = ", ".join(_group_label(groups, i) for i in missing)
            raise RampupError.invalid(
                func,
                param,
                value,
                f"a schedule (or None) for every param group: {labels} is missing",
            )
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        if len(value) != n:
            raise RampupError.invalid(
                func, param, value, f"one schedule (or None) per param group: {n}, got {len(value)}"
            )
        return list(value)
    raise RampupError.invalid(
        func,
        param,
        value,
        "a schedule or spec string, a list with one per param group, or a dict by group"
        " index or 'name'",
    )


def _group_index(func: str, param: str, key: object, groups: Sequence[Mapping[str, Any]]) -> int:
    n = len(groups)
    if isinstance(key, int) and not isinstance(key, bool):
        if 0 <= key < n:
            return key
        raise RampupError.invalid(func, param, {key: "..."}, f"a group index in [0, {n})")
    if isinstance(key, str):
        found = [i for i, g in enumerate(groups) if g.get("name") == key]
        if len(found) == 1:
            return found[0]
        names = [g["name"] for g in groups if isinstance(g.get("name"), str)]
        if not found:
            have = ", ".join(repr(x) for x in names) if names else "none (no group has a 'name')"
            raise RampupError.invalid(
                func, param, {key: "..."}, f"the 'name' of a param group: names are {have}"
            )
        raise RampupError.invalid(
            func, param, {key: "..."}, f"a group name used once: groups {found} share it"
        )
    raise RampupError.invalid(
        func, param, {key: "..."}, "keys that are group indices (int) or names (str)"
    )


def check_optimizer(func: str, optimizer: object) -> list[dict[str, Any]]:
    """The optimizer's param groups: at least one, each with a finite ``lr`` >= 0."""
    if not isinstance(optimizer, Optimizer):
        raise RampupError.invalid(func, "optimizer", optimizer, "a torch.optim.Optimizer")
    groups = optimizer.param_groups
    if not groups:
        raise RampupError.invalid(
            func, "optimizer", optimizer, "an optimizer with at least one param group"
        )
    for i, g in enumerate(groups):
        lr = g.get("lr")
        base = g.get("initial_lr", lr)
        for name, v in (("lr", lr), ("initial_lr", base)):
            if not (is_number(v) and 0.0 <= as_float(v) < math.inf):  # type: ignore[arg-type]
                raise RampupError.invalid(
                    func,
                    "optimizer",
                    optimizer,
                    f"{_group_label(groups, i)} to hold a finite {name} >= 0, got {shown(v)}",
                )
    return groups


def check_lengths(func: str, total_steps: object, steps_per_epoch: object) -> None:
    """``total_steps`` a positive int or None; ``steps_per_epoch`` a positive number or None."""
    if total_steps is not None and (
        isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1
    ):
        raise RampupError.invalid(
            func, "total_steps", total_steps, "a positive int (the whole run, in updates) or None"
        )
    if steps_per_epoch is not None:
        check_number(
            func,
            "steps_per_epoch",
            steps_per_epoch,
            low=0.0,
            low_open=True,
            what="a positive finite number (updates per epoch) or None",
        )


def _check_key(func: str, key: object) -> tuple[str, int | None]:
    """Split a hyperparameter key: ``'momentum'`` -> ('momentum', None), ``'betas[0]'`` -> 0."""
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None or match.group(1) in _NOT_SCHEDULABLE:
        raise RampupError.invalid(
            func,
            "hyper",
            {key: "..."},
            "keys naming a numeric param-group entry: 'momentum', 'weight_decay', 'betas[0]', ...",
        )
    index = match.group(2)
    return match.group(1), None if index is None else int(index)


def _check_group_value(
    func: str, key: str, name: str, index: int | None, groups: Sequence[Mapping[str, Any]], i: int
) -> None:
    """The group must hold a number at ``name`` (or at ``name[index]``)."""
    group = groups[i]
    label = _group_label(groups, i)
    shown_key = {key: "..."}
    if name not in group:
        have = sorted(
            k
            for k, v in group.items()
            if k not in _NOT_SCHEDULABLE and (is_number(v) or isinstance(v, tuple | list))
        )
        raise RampupError.invalid(
            func,
            "hyper",
            shown_key,
            f"keys that {label} has ({', '.join(have)}): it has no {name!r}",
        )
    value = group[name]
    if index is None:
        if not is_number(value):
            hint = f": schedule '{name}[0]' or '{name}[1]'" if isinstance(value, tuple) else ""
            raise RampupError.invalid(
                func, "hyper", shown_key, f"a numeric entry of {label}, got {shown(value)}{hint}"
            )
        return
    if not isinstance(value, tuple | list) or index >= len(value) or not is_number(value[index]):
        raise RampupError.invalid(
            func, "hyper", shown_key, f"a numeric item of a tuple in {label}, got {shown(value)}"
        )


def plan(
    func: str,
    groups: Sequence[Mapping[str, Any]],
    schedule: object,
    hyper: object,
    total_steps: int | None,
    steps_per_epoch: float | None,
) -> tuple[list[Schedule | None], list[bool], list[HyperSlot]]:
    """Every group's lr schedule (and whether absolute) and the hyperparameter schedules."""
    n = len(groups)
    made: dict[object, Schedule] = {}  # the same spec for several groups: one schedule, shared

    def make(param: str, item: object) -> Schedule:
        try:
            return made[item]
        except (KeyError, TypeError):  # new, or unhashable (then refused by _to_schedule)
            s = _to_schedule(func, param, item, total_steps, steps_per_epoch)
        made[item] = s
        return s

    lr: list[Schedule | None] = [None] * n
    absolute: list[bool] = [False] * n
    hyper_slots: list[HyperSlot] = []
    if schedule is not None:
        for i, item in enumerate(_per_group(func, "schedule", schedule, groups, complete=True)):
            if item is not None:
                one = isinstance(schedule, Schedule | str)
                lr[i] = make("schedule" if one else f"schedule[{i!r}]", item)
    if hyper is not None:
        if not isinstance(hyper, Mapping):
            raise RampupError.invalid(
                func, "hyper", hyper, "a dict from param-group key to schedules"
            )
        for key, value in hyper.items():
            name, index = _check_key(func, key)
            scheds = _plan_key(func, groups, key, name, index, value, make)
            if name == "lr" and index is None:
                _absolute_lr(func, groups, scheds, lr, absolute)
            else:
                hyper_slots.append((key, name, index, scheds))
    if all(s is None for s in lr) and not hyper_slots:
        raise RampupError.invalid(
            func,
            "schedule",
            schedule,
            "a schedule for the lr of at least one group, or hyper={...} ('constant' holds the lr)",
        )
    return fit_auto(func, groups, lr), absolute, hyper_slots


def optimizer_beta2s(groups: Sequence[Mapping[str, Any]]) -> list[float | None]:
    """Each group's Adam ``beta2`` (``betas[1]``), or None where the group has no ``betas``."""
    out: list[float | None] = []
    for g in groups:
        betas = g.get("betas")
        b2 = betas[1] if isinstance(betas, tuple | list) and len(betas) == 2 else None
        out.append(
            as_float(b2) if b2 is not None and (is_number(b2) or isinstance(b2, Tensor)) else None
        )
    return out


def fit_auto(
    func: str, groups: Sequence[Mapping[str, Any]], lr: list[Schedule | None]
) -> list[Schedule | None]:
    """The lr schedules with a bare ``auto`` told the optimizer's beta2 (or SGD's rule).

    :func:`rampup.core.auto_warmup.fit_optimizer` with the groups' ``betas[1]``; each fitted
    schedule is built here, so one that cannot bind (SGD's quarter of the run without
    ``total_steps``) is refused before the optimizer is touched.
    """
    beta2s = optimizer_beta2s(groups)
    out: list[Schedule | None] = []
    for s in lr:
        fitted = None if s is None else fit_optimizer(s, beta2s)
        if fitted is not None and fitted is not s:
            try:
                fitted.bounds  # noqa: B018  # builds the schedule: an unbindable one raises now
            except RampupError as e:
                raise RampupError.invalid(
                    func, "schedule", str(s), f"a schedule this optimizer can run: {e}"
                ) from None
        out.append(fitted)
    return out


def _plan_key(
    func: str,
    groups: Sequence[Mapping[str, Any]],
    key: str,
    name: str,
    index: int | None,
    value: object,
    make: Callable[[str, object], Schedule],
) -> list[Schedule | None]:
    """The schedules of one ``hyper`` key, one per group (None: not scheduled)."""
    items = _per_group(func, f"hyper[{key!r}]", value, groups, complete=False)
    scheds: list[Schedule | None] = [None] * len(groups)
    for i, item in enumerate(items):
        if item is None:
            continue
        _check_group_value(func, key, name, index, groups, i)
        one = isinstance(value, Schedule | str)
        scheds[i] = make(f"hyper[{key!r}]" + ("" if one else f"[{i!r}]"), item)
    return scheds


def _absolute_lr(
    func: str,
    groups: Sequence[Mapping[str, Any]],
    scheds: list[Schedule | None],
    lr: list[Schedule | None],
    absolute: list[bool],
) -> None:
    """``hyper['lr']``: absolute learning rates, for groups without an lr multiplier."""
    for i, s_abs in enumerate(scheds):
        if s_abs is None:
            continue
        if lr[i] is not None:
            raise RampupError.invalid(
                func,
                "hyper['lr']",
                str(s_abs),
                f"no absolute lr for {_group_label(groups, i)}, whose lr"
                f" multiplier is already given by schedule={str(lr[i])!r}",
            )
        lr[i], absolute[i] = s_abs, True


# -- writing values into param groups ---------------------------------------------------------
def put(group: dict[str, Any], name: str, value: float) -> None:
    """``group[name] = value``; a tensor is updated in place (a compiled step keeps its graph)."""
    current = group[name]
    if isinstance(current, Tensor):
        current.fill_(value)
    else:
        group[name] = value


def put_item(group: dict[str, Any], name: str, index: int, value: float) -> None:
    """``group[name][index] = value`` for a tuple such as ``betas``; tensors in place."""
    current = group[name]
    item = current[index]
    if isinstance(item, Tensor):
        item.fill_(value)
        return
    items = list(current)
    items[index] = value
    group[name] = type(current)(items) if isinstance(current, tuple) else items


def default_controller(lr: Sequence[Schedule | None]) -> ClockController | None:
    """The controller a schedule's first phase asks for (``auto``'s guard), if any.

    A phase that runs with a controller has a ``guard(schedule)`` method; the adapter asks for
    it by name, so it never imports the tools that define such phases.
    """
    for s in lr:
        first = None if s is None else next(iter_phases(s), None)
        make = getattr(first, "guard", None)
        if s is not None and callable(make):
            controller = make(s)
            if isinstance(controller, ClockController):
                return controller
    return None
