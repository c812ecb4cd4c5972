r"""The PyTorch adapter: rampup schedules as a ``torch.optim.lr_scheduler.LRScheduler``.

:class:`Scheduler` sets, before every optimizer update, each param group's learning rate to

.. math:: lr_g(c) = base_g \cdot s_g(c)

where :math:`base_g` is the group's own learning rate when the scheduler was created, :math:`s_g`
its schedule (one for all groups, or one per group) and :math:`c` the **clock**: the number of
updates taken so far, unless a :class:`~rampup.clock.ClockController` moves it otherwise. Any
other numeric param-group key (momentum, ``betas[0]``, weight decay, ...) follows a schedule in
absolute values: :math:`v_g(c) = h_g(c)`. Every value is closed-form in the clock: nothing is
derived from the previous value, so a resumed run gets bit for bit the values of an uninterrupted
one. :func:`warmup` multiplies a warmup factor onto any existing torch scheduler,
``ReduceLROnPlateau`` included.

This adapter imports torch (with its private ``_torch_states``, the rules a torch scheduler's
state is checked by); ``import rampup`` never does.

>>> import torch, rampup.torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = rampup.torch.Scheduler(opt, "linear(4) >> cosine", total_steps=8)
>>> [round(g["lr"], 4) for g in opt.param_groups]
[0.025]
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import re
import secrets
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, SupportsFloat, TypeAlias

try:
    import torch
    from torch import Tensor
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
except ImportError as exc:  # the one import-error style of the adapters
    raise ImportError(f"rampup.torch needs PyTorch: pip install 'rampup[torch]' ({exc})") from exc

from rampup._checks import check_number
from rampup._errors import RampupError, fail, shown
from rampup._torch_states import MAX_COUNT, after_state_problem, finite, int_rule
from rampup.clock import ClockController, checked_clock
from rampup.schedule import Bound, Schedule, iter_phases
from rampup.spec import parse

__all__ = ["ClockController", "Scheduler", "Warmup", "save_atomic", "scaler_step", "warmup"]

#: A schedule, or its spec string.
ScheduleLike: TypeAlias = Schedule | str
#: One schedule for every group, one per group (a list), or a mapping by group index or name.
PerGroup: TypeAlias = (
    ScheduleLike | Sequence[ScheduleLike | None] | Mapping[int | str, ScheduleLike | None]
)

_FORMAT = "rampup.torch.Scheduler"
_WARMUP_FORMAT = "rampup.torch.Warmup"
_VERSION = 1
#: A param-group key, or an item of a tuple one: ``momentum``, ``betas[0]`` (no leading zeros, so
#: two spellings never name the same item).
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(0|[1-9][0-9]*)\])?")
_NOT_SCHEDULABLE = ("params", "param_names", "initial_lr", "name")


# -- validation helpers -----------------------------------------------------------------------
def _is_number(value: object) -> bool:
    """A real number or a one-element floating tensor (what a param group can hold)."""
    if isinstance(value, Tensor):
        return value.numel() == 1 and value.is_floating_point()
    return not isinstance(value, bool) and isinstance(value, int | float)


def _as_float(value: float | Tensor) -> float:
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
        raise fail(func, param, value, "a rampup schedule or a spec string such as 'linear(5%)'")
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
        raise fail(func, param, given, "a schedule with a finite value at step 0")
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
                raise fail(
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
            raise fail(
                func,
                param,
                value,
                f"a schedule (or None) for every param group: {labels} is missing",
            )
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        if len(value) != n:
            raise fail(
                func, param, value, f"one schedule (or None) per param group: {n}, got {len(value)}"
            )
        return list(value)
    raise fail(
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
        raise fail(func, param, {key: "..."}, f"a group index in [0, {n})")
    if isinstance(key, str):
        found = [i for i, g in enumerate(groups) if g.get("name") == key]
        if len(found) == 1:
            return found[0]
        names = [g["name"] for g in groups if isinstance(g.get("name"), str)]
        if not found:
            have = ", ".join(repr(x) for x in names) if names else "none (no group has a 'name')"
            raise fail(func, param, {key: "..."}, f"the 'name' of a param group: names are {have}")
        raise fail(func, param, {key: "..."}, f"a group name used once: groups {found} share it")
    raise fail(func, param, {key: "..."}, "keys that are group indices (int) or names (str)")


def _check_optimizer(func: str, optimizer: object) -> list[dict[str, Any]]:
    if not isinstance(optimizer, Optimizer):
        raise fail(func, "optimizer", optimizer, "a torch.optim.Optimizer")
    groups = optimizer.param_groups
    if not groups:
        raise fail(func, "optimizer", optimizer, "an optimizer with at least one param group")
    for i, g in enumerate(groups):
        lr = g.get("lr")
        base = g.get("initial_lr", lr)
        for name, v in (("lr", lr), ("initial_lr", base)):
            if not (_is_number(v) and 0.0 <= _as_float(v) < math.inf):  # type: ignore[arg-type]
                raise fail(
                    func,
                    "optimizer",
                    optimizer,
                    f"{_group_label(groups, i)} to hold a finite {name} >= 0, got {shown(v)}",
                )
    return groups


def _check_lengths(func: str, total_steps: object, steps_per_epoch: object) -> None:
    """``total_steps`` a positive int or None; ``steps_per_epoch`` a positive number or None."""
    if total_steps is not None and (
        isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1
    ):
        raise fail(
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
        raise fail(
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
            if k not in _NOT_SCHEDULABLE and (_is_number(v) or isinstance(v, tuple | list))
        )
        raise fail(
            func,
            "hyper",
            shown_key,
            f"keys that {label} has ({', '.join(have)}): it has no {name!r}",
        )
    value = group[name]
    if index is None:
        if not _is_number(value):
            hint = f": schedule '{name}[0]' or '{name}[1]'" if isinstance(value, tuple) else ""
            raise fail(
                func, "hyper", shown_key, f"a numeric entry of {label}, got {shown(value)}{hint}"
            )
        return
    if not isinstance(value, tuple | list) or index >= len(value) or not _is_number(value[index]):
        raise fail(
            func, "hyper", shown_key, f"a numeric item of a tuple in {label}, got {shown(value)}"
        )


def _plan(
    func: str,
    groups: Sequence[Mapping[str, Any]],
    schedule: object,
    hyper: object,
    total_steps: int | None,
    steps_per_epoch: float | None,
) -> tuple[
    list[Schedule | None], list[bool], list[tuple[str, str, int | None, list[Schedule | None]]]
]:
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
    hyper_slots: list[tuple[str, str, int | None, list[Schedule | None]]] = []
    if schedule is not None:
        for i, item in enumerate(_per_group(func, "schedule", schedule, groups, complete=True)):
            if item is not None:
                one = isinstance(schedule, Schedule | str)
                lr[i] = make("schedule" if one else f"schedule[{i!r}]", item)
    if hyper is not None:
        if not isinstance(hyper, Mapping):
            raise fail(func, "hyper", hyper, "a dict from param-group key to schedules")
        for key, value in hyper.items():
            name, index = _check_key(func, key)
            items = _per_group(func, f"hyper[{key!r}]", value, groups, complete=False)
            scheds: list[Schedule | None] = [None] * n
            for i, item in enumerate(items):
                if item is None:
                    continue
                _check_group_value(func, key, name, index, groups, i)
                one = isinstance(value, Schedule | str)
                scheds[i] = make(f"hyper[{key!r}]" + ("" if one else f"[{i!r}]"), item)
            if name == "lr" and index is None:
                for i, s_abs in enumerate(scheds):
                    if s_abs is None:
                        continue
                    if lr[i] is not None:
                        raise fail(
                            func,
                            "hyper['lr']",
                            str(s_abs),
                            f"no absolute lr for {_group_label(groups, i)}, whose lr"
                            f" multiplier is already given by schedule={str(lr[i])!r}",
                        )
                    lr[i], absolute[i] = s_abs, True
            else:
                hyper_slots.append((key, name, index, scheds))
    if all(s is None for s in lr) and not hyper_slots:
        raise fail(
            func,
            "schedule",
            schedule,
            "a schedule for the lr of at least one group, or hyper={...} ('constant' holds the lr)",
        )
    return lr, absolute, hyper_slots


# -- writing values into param groups ---------------------------------------------------------
def _put(group: dict[str, Any], name: str, value: float) -> None:
    """``group[name] = value``; a tensor is updated in place (a compiled step keeps its graph)."""
    current = group[name]
    if isinstance(current, Tensor):
        current.fill_(value)
    else:
        group[name] = value


def _put_item(group: dict[str, Any], name: str, index: int, value: float) -> None:
    """``group[name][index] = value`` for a tuple such as ``betas``; tensors in place."""
    current = group[name]
    item = current[index]
    if isinstance(item, Tensor):
        item.fill_(value)
        return
    items = list(current)
    items[index] = value
    group[name] = type(current)(items) if isinstance(current, tuple) else items


def _parse_spec(func: str, key: str, spec: str | None) -> Schedule | None:
    """A state's spec string parsed (its type is checked already)."""
    if spec is None:
        return None
    try:
        return parse(spec)
    except RampupError as exc:
        raise fail(
            func, f"state_dict[{key!r}]", spec, f"a spec string that parses: {exc}"
        ) from None


def _mismatch(func: str, what: str, theirs: Schedule | None, mine: Schedule | None) -> None:
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
    return None if type(value) is int and value == _VERSION else f"the int {_VERSION}"


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


def _check_state_shape(
    func: str, fmt: str, state: object, n: int, has_controller: bool, extra: Sequence[str] = ()
) -> tuple[list[Schedule | None], list[bool], dict[str, list[Schedule | None]], Any]:
    """Check every entry of a state dict; return its parsed specs and controller state.

    Each entry is checked by its own rule (``_STATE_FIELDS``); the error names the entry, its
    value and what was expected. ``extra`` names the subclass's own entries (checked by it).
    """
    if not isinstance(state, Mapping) or state.get("format") != fmt:
        found = state.get("format") if isinstance(state, Mapping) else None
        got = f"format {found!r}" if found is not None else "no rampup 'format' key"
        raise fail(func, "state_dict", state, f"a {fmt} state_dict(), got {got}")
    known = {"format", *_STATE_FIELDS, *extra}
    unknown = sorted(str(k) for k in state if k not in known)
    missing = sorted(k for k in known if k not in state)
    if unknown or missing:
        raise fail(
            func,
            "state_dict",
            state,
            f"a {fmt} state with the entries {sorted(known)}: missing {missing}, unknown {unknown}",
        )
    for key, check in _STATE_FIELDS.items():
        expected = check(state[key], n)
        if expected is not None:
            raise fail(func, f"state_dict[{key!r}]", state[key], f"{expected} (a {fmt} state)")
    last, clock, controller_state = state["last_epoch"], state["clock"], state["controller"]
    if last == -1 and (float(clock) != 0.0 or controller_state is not None):
        raise fail(
            func,
            "state_dict['clock']",
            clock,
            "0 and no controller state when not started ('last_epoch' -1)",
        )
    if controller_state is None and not has_controller and float(clock) != max(last, 0):
        raise fail(
            func,
            "state_dict['clock']",
            clock,
            f"the 'last_epoch' ({last}) without a controller: the clock counts updates",
        )
    parsed = [_parse_spec(func, "lr", x) for x in state["lr"]]
    hyper = state["hyper"]
    parsed_hyper = {k: [_parse_spec(func, "hyper", x) for x in v] for k, v in hyper.items()}
    return parsed, state["lr_absolute"], parsed_hyper, controller_state


# ---------------------------------------------------------------------------------------------
def _default_controller(lr: Sequence[Schedule | None]) -> ClockController | None:
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


class Scheduler(LRScheduler):
    r"""An ``LRScheduler`` whose values are rampup schedules evaluated at the clock.

    Before update :math:`t` (after :math:`t` calls of :meth:`step`) each param group ``g`` holds

    .. math::
        lr_g = base_g \cdot s_g(c), \qquad v_{g,k} = h_{g,k}(c)

    with :math:`c` the clock (``c = t`` without a controller), :math:`base_g` the group's
    ``initial_lr`` (set to its ``lr`` on creation, torch's convention), :math:`s_g` its learning
    rate schedule (multipliers: the peak is 1) and :math:`h_{g,k}` the schedule of another key ``k``
    in absolute values (``hyper``). Call :meth:`step` once after every optimizer update (not per
    micro-batch of gradient accumulation; not on an update a gradient scaler skipped, see
    :func:`scaler_step`).

    Args:
        optimizer: the optimizer whose param groups are scheduled.
        schedule: the learning-rate multiplier: a schedule or spec string for every group, a
            list with one per group (None: the group's lr is not scheduled) or a mapping by
            group index or ``"name"`` (naming every group; None: not scheduled). None schedules
            no learning rate (give ``hyper`` then).
        hyper: other param-group keys, in absolute values: ``{"momentum": spec}``,
            ``{"betas[0]": spec}``, ``{"weight_decay": [spec, None]}`` ... each per group like
            ``schedule`` (a mapping may leave groups out: they are not scheduled). ``"lr"``
            schedules the learning rate in absolute values.
        total_steps: the length of the run in updates (warmup included), binding ``"5%"`` lengths.
        steps_per_epoch: updates per epoch, binding ``"2ep"`` lengths.
        controller: a :class:`~rampup.clock.ClockController` that moves the clock. None: the
            clock counts updates, unless the schedule starts with ``auto``, whose guard
            (:class:`~rampup.adaptive.AdaptiveWarmup`) is then attached; feed it with
            ``scheduler.controller.observe(loss)`` before each :meth:`step`.
        rebind: let :meth:`load_state_dict` accept a state made by a different schedule (e.g. a
            longer run): the clock carries over and this scheduler's schedules apply from it.

    Raises:
        RampupError: for any invalid argument, before anything in the optimizer changes.

    >>> import torch, rampup.torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    >>> momentum = "linear(4, start=0.8, to=0.9)"
    >>> sched = rampup.torch.Scheduler(opt, "linear(4)", hyper={"momentum": momentum})
    >>> for _ in range(4):
    ...     print(sched.get_last_lr(), round(opt.param_groups[0]["momentum"], 4))
    ...     opt.step(); sched.step()
    [0.25] 0.8
    [0.5] 0.8333
    [0.75] 0.8667
    [1.0] 0.9

    """

    _FORMAT: str = _FORMAT
    #: The entries a subclass adds to the state (checked by its ``_check_extra``).
    _EXTRA_KEYS: tuple[str, ...] = ()
    #: Whether a loaded state's base rates are also the groups' ``initial_lr`` (not for Warmup).
    _owns_initial_lr: bool = True

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: PerGroup | None = None,
        *,
        hyper: Mapping[str, PerGroup] | None = None,
        total_steps: int | None = None,
        steps_per_epoch: float | None = None,
        controller: ClockController | None = None,
        rebind: bool = False,
    ) -> None:
        func = type(self).__name__
        groups = _check_optimizer(func, optimizer)
        _check_lengths(func, total_steps, steps_per_epoch)
        lr, absolute, hyper_slots = _plan(
            func, groups, schedule, hyper, total_steps, steps_per_epoch
        )
        if controller is None:
            controller = _default_controller(lr)
        if controller is not None and not isinstance(controller, ClockController):
            raise fail(
                func,
                "controller",
                controller,
                "a ClockController (advance, state_dict and load_state_dict methods) or None",
            )
        if not isinstance(rebind, bool):
            raise fail(func, "rebind", rebind, "True or False")
        # -- everything is valid: only now touch the optimizer ---------------------------------
        initial_lrs: list[float] = []
        for g in groups:
            initial = g.get("initial_lr", g["lr"])
            g.setdefault("initial_lr", initial.clone() if isinstance(initial, Tensor) else initial)
            initial_lrs.append(_as_float(initial))
        self.optimizer = optimizer
        self.base_lrs: list[float | Tensor] = list(initial_lrs)
        self.last_epoch = 0
        self._step_count = 1  # torch's count: the constructor's initial step is the first
        self._get_lr_called_within_step = False
        self._is_initial = False
        self._clock: float = 0
        self._controller = controller
        self._rebind = rebind
        self._bases = self._start_bases(initial_lrs)
        self._lr = lr
        self._absolute = absolute
        self._hyper = hyper_slots
        self._compile()
        self._write(0)
        self._watch_optimizer()

    def _watch_optimizer(self) -> None:
        """Rewrite the scheduled values whenever the optimizer's state is reloaded.

        ``optimizer.load_state_dict`` brings back the lr (and momentum, ...) the checkpoint held,
        which is not the value at this scheduler's clock when the scheduler kept its own state
        (a guard's restore) or loads its state first: without this the next update would run at
        the checkpoint's stale value. The hook holds the scheduler weakly, and is removed when
        the scheduler is garbage-collected.
        """
        ref = weakref.ref(self)

        def rewrite(optimizer: Optimizer) -> None:
            scheduler = ref()
            if scheduler is not None:
                scheduler._optimizer_reloaded()

        handle = self.optimizer.register_load_state_dict_post_hook(rewrite)
        self._unwatch = weakref.finalize(self, handle.remove)

    def _optimizer_reloaded(self) -> None:
        """The optimizer's groups hold a checkpoint's values: write the clock's values back."""
        if self.last_epoch >= 0:  # not started (a later scheduler of a SequentialLR): not ours
            self._write(self._clock, "Optimizer.load_state_dict")

    def _start_bases(self, initial_lrs: list[float]) -> list[float]:
        """The rates the lr multipliers apply to: each group's ``initial_lr``."""
        return initial_lrs

    # -- compiled per-step plan ------------------------------------------------------------
    def _compile(self) -> None:
        """Bind the per-step functions: the fast path when one multiplier drives every group."""
        lr, absolute = self._lr, self._absolute
        first = lr[0]
        self._uniform: Callable[[float], float] | None = None
        if (
            first is not None
            and not self._hyper
            and not any(absolute)
            and all(s is first for s in lr)
        ):
            self._uniform = first.as_function()
        self._lr_fns = [None if s is None else s.as_function() for s in lr]
        self._hyper_fns = [
            (name, index, [None if s is None else s.as_function() for s in scheds])
            for _, name, index, scheds in self._hyper
        ]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key in ("_uniform", "_lr_fns", "_hyper_fns", "_unwatch"):  # rebuilt on unpickling
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._compile()
        self._watch_optimizer()

    def _groups(self, func: str) -> list[dict[str, Any]]:
        """The optimizer's current param groups, which must be as many as at construction."""
        groups: list[dict[str, Any]] = self.optimizer.param_groups
        n = len(self._bases)
        if len(groups) != n:
            raise RampupError(
                f"{func}(): optimizer={type(self.optimizer).__name__} with {len(groups)} param"
                f" groups is invalid: expected the {n} param groups the scheduler was made for"
                " (a group was added or removed; create the scheduler after the last"
                " add_param_group)"
            )
        return groups

    def _write(self, clock: float, func: str | None = None) -> None:
        """Write every scheduled value at ``clock`` into the optimizer's current param groups."""
        groups = self._groups(func or f"{type(self).__name__}.step")
        uniform = self._uniform
        if uniform is not None:
            v = uniform(clock)
            for g, b in zip(groups, self._bases, strict=True):
                x = b * v
                if g["lr"].__class__ is float:
                    g["lr"] = x
                else:
                    _put(g, "lr", x)
            return
        for g, b, fn, absolute in zip(
            groups, self._bases, self._lr_fns, self._absolute, strict=True
        ):
            if fn is not None:
                _put(g, "lr", fn(clock) if absolute else b * fn(clock))
        for name, index, fns in self._hyper_fns:
            for g, fn in zip(groups, fns, strict=True):
                if fn is None:
                    continue
                if index is None:
                    _put(g, name, fn(clock))
                else:
                    _put_item(g, name, index, fn(clock))

    # -- stepping ----------------------------------------------------------------------------
    def step(self, epoch: int | None = None) -> None:
        """Count one optimizer update and write the next update's values.

        Call it after ``optimizer.step()``. The clock moves by one (or where the controller puts
        it). ``step(epoch)`` instead jumps to ``epoch`` updates taken (clock = ``epoch``), in O(1);
        it is refused with a controller, whose clock cannot be derived from a count.
        """
        if epoch is not None:
            self._seek(epoch)
            return
        groups = self.optimizer.param_groups
        bases = self._bases
        if len(groups) != len(bases):  # before the controller moves: nothing half-applied
            self._groups(f"{type(self).__name__}.step")
        n = self.last_epoch + 1
        controller = self._controller
        if controller is None:
            clock: float = n  # the clock is the count (which torch's SequentialLR may move)
        else:
            old = self._clock
            clock = checked_clock(
                f"{type(self).__name__}.step", controller, controller.advance(n, old), old
            )
        self.last_epoch = n
        self._step_count += 1
        self._clock = clock
        uniform = self._uniform
        if uniform is None:
            self._write(clock)  # the general case
            return
        # the common case inline: one multiplier for every group (see _write)
        v = uniform(clock)
        for g, b in zip(groups, bases):  # noqa: B905  # lengths checked above; strict= costs
            x = b * v
            if g["lr"].__class__ is float:
                g["lr"] = x
            else:
                _put(g, "lr", x)

    def _seek(self, epoch: object) -> None:
        func = f"{type(self).__name__}.step"
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise fail(func, "epoch", epoch, "an int >= 0: the number of updates taken")
        if self._controller is not None:
            raise fail(func, "epoch", epoch, "no epoch with a controller: its clock is not a count")
        self._write(epoch)
        self.last_epoch = epoch
        self._step_count = epoch + 1
        self._clock = epoch

    # -- torch's composite schedulers ---------------------------------------------------------
    def _initial_step(self) -> None:
        """Back to update 0 with its values written, in O(1).

        torch's ``SequentialLR`` undoes its schedulers' first steps (``last_epoch -= 1``), then
        calls this on the scheduler that runs first; it switches to a later one with
        ``_update_lr(0)``. Both keep the clock equal to the count, so a rampup scheduler runs
        inside a ``SequentialLR`` with its own values (``>>`` joins rampup phases without one).
        """
        self._write(0.0, f"{type(self).__name__}._initial_step")
        self.last_epoch = 0
        self._step_count = 1
        self._clock = 0.0

    def _update_lr(self, epoch: int | None = None) -> None:
        """Torch's internal step (``SequentialLR`` calls ``_update_lr(0)`` at a milestone)."""
        if epoch is None:
            Scheduler.step(self)
        else:
            self._seek(epoch)

    # -- reading ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        def specs(scheds: list[Schedule | None]) -> object:
            texts = [None if x is None else str(x) for x in scheds]
            return texts[0] if len(set(texts)) == 1 else texts

        hyper = "".join(f", {key}={specs(sc)!r}" for key, _, _, sc in self._hyper)
        return (
            f"{type(self).__name__}(lr={specs(self._lr)!r}{hyper}, last_epoch={self.last_epoch},"
            f" clock={float(self._clock)!r})"
        )

    @property
    def clock(self) -> float:
        """The position on the schedules: the updates taken, unless a controller moved it."""
        return float(self._clock)

    @property
    def controller(self) -> ClockController | None:
        """The clock's controller, or None."""
        return self._controller

    def _lr_values(self, clock: float) -> list[float]:
        groups = self._groups(f"{type(self).__name__}.get_last_lr")
        out = []
        for g, b, fn, absolute in zip(
            groups, self._bases, self._lr_fns, self._absolute, strict=True
        ):
            if fn is None:
                out.append(_as_float(g["lr"]))
            else:
                out.append(fn(clock) if absolute else b * fn(clock))
        return out

    def get_last_lr(self) -> list[float]:  # type: ignore[override]  # floats, never tensors
        """The learning rate of every group for the next update, as floats (closed form).

        For a tensor ``lr`` this is the exact value; the tensor holds it rounded to its dtype.
        """
        return self._lr_values(self._clock)

    def get_lr(self) -> list[float]:  # type: ignore[override]  # floats, never tensors
        """Same as :meth:`get_last_lr`: the values are closed-form in the clock."""
        return self._lr_values(self._clock)

    @property
    def values(self) -> list[dict[str, float]]:
        """Per group, every scheduled value for the next update: ``{"lr": ..., "momentum": ...}``.

        Keys of tuple items read ``"betas[0]"``; an unscheduled key is absent.
        """
        self._groups(f"{type(self).__name__}.values")
        clock = self._clock
        out: list[dict[str, float]] = [{} for _ in self._bases]
        for i, (b, fn, absolute) in enumerate(
            zip(self._bases, self._lr_fns, self._absolute, strict=True)
        ):
            if fn is not None:
                out[i]["lr"] = fn(clock) if absolute else b * fn(clock)
        for (key, _, _, _), (_, _, fns) in zip(self._hyper, self._hyper_fns, strict=True):
            for i, fn in enumerate(fns):
                if fn is not None:
                    out[i][key] = fn(clock)
        return out

    # -- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The state as plain data: the specs, the base rates, the update count and the clock.

        Loads with ``torch.load(..., weights_only=True)``; no code, no lambdas, no tensors.
        """
        return {
            "format": self._FORMAT,
            "version": _VERSION,
            "lr": [None if s is None else str(s) for s in self._lr],
            "lr_absolute": list(self._absolute),
            "hyper": {
                key: [None if s is None else str(s) for s in sc] for key, _, _, sc in self._hyper
            },
            "base_lrs": list(self._bases),
            "last_epoch": self.last_epoch,
            "clock": float(self._clock),
            "controller": None if self._controller is None else self._controller.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any], *, rebind: bool | None = None) -> None:
        """Restore a state in O(1) and write its values into the optimizer at once.

        The learning rates (and every scheduled key) are rewritten immediately, so the order of
        ``optimizer.load_state_dict`` and this call does not matter. A state made by a different
        schedule is refused unless ``rebind`` (default: the constructor's ``rebind``): then the
        update count and the clock carry over and this scheduler's own schedules apply from them.

        Raises:
            RampupError: for a corrupted or foreign state, or another schedule's state; nothing
                is changed then.

        """
        func = f"{type(self).__name__}.load_state_dict"
        if rebind is None:
            rebind = self._rebind
        elif not isinstance(rebind, bool):
            raise fail(func, "rebind", rebind, "True, False or None")
        self._check_state(func, state_dict, rebind)
        self._groups(func)
        controller_state = state_dict["controller"]
        controller = self._controller
        # The controller and `after` validate their own states only when loading them: keep
        # theirs, and put them back if a load fails, so that a refused state changes nothing.
        undo_controller = None if controller is None else copy.deepcopy(controller.state_dict())
        undo_extra = self._save_extra()
        try:
            if controller is not None and controller_state is not None:
                controller.load_state_dict(controller_state)
            self._load_extra(state_dict)
        except Exception as exc:
            if controller is not None and undo_controller is not None:
                controller.load_state_dict(undo_controller)
            self._restore_extra(undo_extra)
            raise RampupError(
                f"{func}(): state_dict={shown(state_dict)} is invalid: expected a state its"
                f" parts load from; loading them raised {type(exc).__name__}: {exc}. Nothing"
                " was changed"
            ) from exc
        bases = [float(b) for b in state_dict["base_lrs"]]
        if self._owns_initial_lr:
            for g, b in zip(self.optimizer.param_groups, bases, strict=True):
                if not isinstance(g.get("initial_lr"), Tensor):
                    g["initial_lr"] = b
            self.base_lrs = list(bases)
        self._bases = bases
        self.last_epoch = state_dict["last_epoch"]
        self._step_count = self.last_epoch + 1
        self._clock = float(state_dict["clock"])
        if self.last_epoch >= 0:
            self._write(self._clock, func)
        else:  # not started (a later scheduler of torch's SequentialLR): the lr is not its own
            self._step_count = 0

    def _check_state(self, func: str, state: object, rebind: bool) -> None:
        """Validate a state completely, before anything changes; refuse another schedule's."""
        n = len(self._bases)
        checked = _check_state_shape(
            func, self._FORMAT, state, n, self._controller is not None, self._EXTRA_KEYS
        )
        parsed, absolute, theirs_hyper, controller_state = checked
        if isinstance(state, Mapping):  # always, after the check above
            self._check_extra(func, state)
            self._check_values(func, state["base_lrs"], float(state["clock"]))
        if rebind:
            return
        if (controller_state is None) != (self._controller is None):
            has = "has" if controller_state is not None else "has no"
            ours = "this one has none" if self._controller is None else "this one has one"
            raise fail(
                func,
                "state_dict",
                state,
                f"a state of the same kind of clock: it {has} controller state, {ours} (pass"
                " rebind=True to continue anyway)",
            )
        for i, (theirs, mine) in enumerate(zip(parsed, self._lr, strict=True)):
            if theirs != mine or absolute[i] != self._absolute[i]:
                _mismatch(func, f"lr of group {i}", theirs, mine)
        mine_hyper = {key: scheds for key, _, _, scheds in self._hyper}
        if set(theirs_hyper) != set(mine_hyper):
            raise fail(
                func,
                "state_dict",
                state,
                f"a state of the same hyperparameters: it schedules {sorted(theirs_hyper)}, this"
                f" scheduler {sorted(mine_hyper)} (pass rebind=True to continue anyway)",
            )
        for key, scheds in theirs_hyper.items():
            for i, (theirs, mine) in enumerate(zip(scheds, mine_hyper[key], strict=True)):
                if theirs != mine:
                    _mismatch(func, f"{key} of group {i}", theirs, mine)

    def _check_values(self, func: str, bases: list[float], clock: float) -> None:
        """Every value this scheduler would write at ``clock`` from ``bases`` must be finite."""
        for i, (b, fn, absolute) in enumerate(
            zip(bases, self._lr_fns, self._absolute, strict=True)
        ):
            if fn is not None and not math.isfinite(fn(clock) if absolute else b * fn(clock)):
                raise fail(
                    func,
                    "state_dict['base_lrs']",
                    bases,
                    f"rates whose scheduled lr is finite: group {i}'s is not at clock {clock!r}",
                )
        for name, index, fns in self._hyper_fns:
            for i, fn in enumerate(fns):
                if fn is not None and not math.isfinite(fn(clock)):
                    key = name if index is None else f"{name}[{index}]"
                    raise fail(
                        func,
                        "state_dict['clock']",
                        clock,
                        f"a clock at which every value is finite: {key} of group {i} is not",
                    )

    # hooks for Warmup
    def _check_extra(self, func: str, state: Mapping[str, Any]) -> None:
        """Validate subclass entries of a state (before anything changes)."""

    def _load_extra(self, state: Mapping[str, Any]) -> None:
        """Apply subclass entries of a validated state."""

    def _save_extra(self) -> object:
        """What :meth:`_restore_extra` needs to undo :meth:`_load_extra`."""
        return None

    def _restore_extra(self, saved: object) -> None:
        """Undo a failed :meth:`_load_extra`."""


# ---------------------------------------------------------------------------------------------
class Warmup(Scheduler):
    r"""A warmup factor multiplied onto another scheduler's learning rates (see :func:`warmup`).

    .. math:: lr_g(t) = a_g(t) \cdot w(c)

    where :math:`a_g(t)` is the lr the wrapped scheduler ``after`` sets (its own rule, chainable or
    not) and :math:`w` the warmup factor at the clock :math:`c`. ``after`` always sees and updates
    its own, undampened rates: the factor is applied on top and never compounds. ``base_lrs`` in
    the state are those undampened rates.
    """

    _FORMAT: str = _WARMUP_FORMAT
    _EXTRA_KEYS: tuple[str, ...] = ("after",)
    _owns_initial_lr: bool = False

    def __init__(
        self,
        optimizer: Optimizer,
        warmup: PerGroup,
        after: LRScheduler | None = None,
        *,
        total_steps: int | None = None,
        steps_per_epoch: float | None = None,
        controller: ClockController | None = None,
        rebind: bool = False,
    ) -> None:
        func = "warmup"
        if after is not None:
            if not isinstance(after, LRScheduler):
                raise fail(
                    func,
                    "after",
                    after,
                    "a torch scheduler (an LRScheduler or ReduceLROnPlateau) or None",
                )
            if after.optimizer is not optimizer:
                raise fail(func, "after", after, "a scheduler of the same optimizer")
        if warmup is None:
            raise fail(func, "warmup", warmup, "a warmup schedule or spec, e.g. 'linear(1000)'")
        self._after = after
        super().__init__(
            optimizer,
            warmup,
            total_steps=total_steps,
            steps_per_epoch=steps_per_epoch,
            controller=controller,
            rebind=rebind,
        )

    def _start_bases(self, initial_lrs: list[float]) -> list[float]:
        """The rates ``after`` has set (undampened), not the initial ones."""
        return [_as_float(g["lr"]) for g in self.optimizer.param_groups]

    @property
    def after(self) -> LRScheduler | None:
        """The wrapped scheduler."""
        return self._after

    def step(self, metrics: SupportsFloat | None = None) -> None:
        """One optimizer update: advance the warmup and step ``after``; or hand it a metric.

        ``step()`` counts one update: the warmup's clock moves and ``after`` is stepped too,
        unless it is a ``ReduceLROnPlateau``, which only moves on a metric: ``step(val_loss)``
        passes the metric to it without moving the warmup's clock.
        """
        after = self._after
        plateau = isinstance(after, ReduceLROnPlateau)
        self._groups("Warmup.step")  # before anything moves: nothing half-applied
        if metrics is not None:
            if not plateau:
                raise fail(
                    "Warmup.step",
                    "metrics",
                    metrics,
                    "None: only a ReduceLROnPlateau `after` takes a metric",
                )
            try:
                if isinstance(metrics, str | bytes | bool):
                    raise TypeError  # float("0.5") works, but a text is no metric
                value = float(metrics)
            except (TypeError, ValueError, RuntimeError):  # RuntimeError: a many-element tensor
                raise fail(
                    "Warmup.step", "metrics", metrics, "a number (the metric to watch) or None"
                ) from None
            self._step_after(value)
            self._write(self._clock)
            return
        n = self.last_epoch + 1
        controller = self._controller
        if controller is None:
            clock: float = n  # the clock is the count (which torch's SequentialLR may move)
        else:
            old = self._clock
            clock = checked_clock("Warmup.step", controller, controller.advance(n, old), old)
        if after is not None and not plateau:
            self._step_after(None)
        self.last_epoch = n
        self._step_count += 1
        self._clock = clock
        self._write(clock)

    def _step_after(self, metrics: SupportsFloat | None) -> None:
        """Step ``after`` on its own, undampened rates, and read back the rates it sets."""
        after = self._after
        if after is None:  # pragma: no cover - callers check
            return
        groups = self.optimizer.param_groups
        for g, lr in zip(groups, self._bases, strict=True):
            _put(g, "lr", lr)
        if metrics is None:
            after.step()
        else:  # a ReduceLROnPlateau: step(metrics)
            after.step(metrics)  # type: ignore[arg-type]  # typed as LRScheduler.step(epoch)
        self._bases = [_as_float(g["lr"]) for g in groups]

    def _seek(self, epoch: object) -> None:
        raise fail("Warmup.step", "epoch", epoch, "no epoch: a warmup counts updates")

    def _update_lr(self, epoch: int | None = None) -> None:
        """Torch's internal step: one update, or (a ``SequentialLR`` milestone) refused."""
        if epoch is None:
            self.step()
        else:
            self._seek(epoch)

    def state_dict(self) -> dict[str, Any]:
        """The warmup's state plus ``after``'s own ``state_dict()`` under ``"after"``."""
        state = super().state_dict()
        state["after"] = None if self._after is None else self._after.state_dict()
        return state

    def _check_extra(self, func: str, state: Mapping[str, Any]) -> None:
        after = state.get("after")
        if (after is None) != (self._after is None) or not (
            after is None or isinstance(after, dict)
        ):
            raise fail(
                func,
                "state_dict",
                state,
                "an 'after' state exactly when this warmup wraps a scheduler",
            )
        if self._after is None or not isinstance(after, dict):
            return
        # torch's schedulers load any dict (``__dict__.update``): check every entry here
        problem = after_state_problem(self._after, after, len(self._bases))
        if problem is not None:
            raise fail(
                func,
                "state_dict['after']",
                after,
                f"the state of a torch {type(self._after).__name__}: {problem}",
            )

    def _load_extra(self, state: Mapping[str, Any]) -> None:
        if self._after is not None:
            self._after.load_state_dict(state["after"])

    def _save_extra(self) -> object:
        return None if self._after is None else copy.deepcopy(self._after.state_dict())

    def _restore_extra(self, saved: object) -> None:
        if self._after is not None and isinstance(saved, dict):
            self._after.load_state_dict(saved)


def warmup(
    optimizer: Optimizer,
    warmup: PerGroup,
    after: LRScheduler | None = None,
    *,
    total_steps: int | None = None,
    steps_per_epoch: float | None = None,
    controller: ClockController | None = None,
    rebind: bool = False,
) -> Warmup:
    r"""Multiply a warmup factor onto any torch scheduler, ``ReduceLROnPlateau`` included.

    .. math:: lr_g(t) = a_g(t) \cdot w(t)

    ``a_g(t)`` is what ``after`` (created first, on the same optimizer) sets; ``w`` is the warmup
    (a rampup schedule or spec, e.g. ``"linear(1000)"``, which holds 1 after its last step).
    ``after`` keeps updating its own undampened rates, so chainable schedulers and plateau
    reductions work as they would alone, then the factor applies on top. Call ``step()`` after
    each optimizer update; give a ``ReduceLROnPlateau`` its metric with ``step(metric)``.
    ``total_steps``, ``steps_per_epoch``, ``controller`` and ``rebind`` are those of
    :class:`Scheduler`.

    >>> import torch, rampup.torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
    >>> sched = rampup.torch.warmup(opt, "linear(4)", after=plateau)
    >>> opt.param_groups[0]["lr"]
    0.25
    """
    return Warmup(
        optimizer,
        warmup,
        after,
        total_steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        controller=controller,
        rebind=rebind,
    )


def scaler_step(scaler: torch.amp.GradScaler, optimizer: Optimizer, scheduler: LRScheduler) -> bool:
    """``scaler.step(optimizer)``, ``scaler.update()``, then ``scheduler.step()`` if the update ran.

    A ``GradScaler`` skips an update whose gradients hold inf/NaN and then lowers its scale; the
    scheduler must not count that update (the clock counts updates taken). Returns whether the
    update was taken. No torch "lr_scheduler.step() before optimizer.step()" warning is involved:
    a skipped update simply does not step the scheduler.

    >>> import torch, rampup.torch
    >>> model = torch.nn.Linear(2, 1)
    >>> opt = torch.optim.SGD(model.parameters(), lr=1.0)
    >>> sched = rampup.torch.Scheduler(opt, "linear(4)")
    >>> scaler = torch.amp.GradScaler("cpu")
    >>> scaler.scale(model(torch.ones(1, 2)).sum()).backward()
    >>> rampup.torch.scaler_step(scaler, opt, sched), sched.last_epoch
    (True, 1)
    >>> opt.zero_grad()
    >>> scaler.scale(model(torch.full((1, 2), float("inf"))).sum()).backward()
    >>> rampup.torch.scaler_step(scaler, opt, sched), sched.last_epoch  # inf: skipped
    (False, 1)
    """
    func = "scaler_step"
    if not isinstance(scaler, torch.amp.GradScaler):
        raise fail(func, "scaler", scaler, "a torch.amp.GradScaler")
    if not isinstance(optimizer, Optimizer):
        raise fail(func, "optimizer", optimizer, "a torch.optim.Optimizer")
    if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, ReduceLROnPlateau):
        raise fail(
            func, "scheduler", scheduler, "a torch scheduler stepped per update (not a plateau)"
        )
    if scheduler.optimizer is not optimizer:
        raise fail(func, "scheduler", scheduler, "a scheduler of the same optimizer")
    before = scaler.get_scale()
    scaler.step(optimizer)
    scaler.update()
    taken = not scaler.is_enabled() or scaler.get_scale() >= before
    if taken:
        scheduler.step()
    return taken


def save_atomic(obj: object, path: str | os.PathLike[str]) -> None:
    """``torch.save(obj, path)`` that never leaves a partial file at ``path``.

    ``torch.save`` to a path truncates the file first: a process killed while it writes (a
    ``kill -9``, an out-of-memory kill, a preempted node) leaves a checkpoint that does not load.
    This writes to a temporary file in the same directory (``.<name>.<random>.tmp``), flushes and
    fsyncs it, renames it over ``path`` with ``os.replace`` (atomic on one file system), then
    fsyncs the directory so the rename survives a power loss. At every moment ``path`` holds the
    old file or the new one; a killed process may leave its temporary file beside it. If saving
    raises, the temporary file is removed and ``path`` is untouched.

    >>> import os, tempfile, torch, rampup.torch
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = os.path.join(directory, "ckpt.pt")
    ...     rampup.torch.save_atomic({"step": 3}, path)
    ...     torch.load(path, weights_only=True)
    {'step': 3}
    """
    func = "save_atomic"
    if not isinstance(path, str | os.PathLike) or isinstance(os.fspath(path), bytes):
        raise fail(func, "path", path, "a file path (str or os.PathLike)")
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory) or os.path.isdir(target):
        raise fail(func, "path", path, "a file path in an existing directory")
    name = os.path.basename(target)
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: a fresh file of our own; mode 0o666 under the umask, as torch.save would create
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # the rename is durable once the directory entry is on disk
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
