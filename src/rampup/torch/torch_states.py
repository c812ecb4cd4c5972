"""What a state of each of torch's built-in schedulers may hold: one rule per entry.

These check the state of the torch scheduler a :func:`~rampup.torch.warmup` wraps (``after``).
torch's schedulers load any dict (``self.__dict__.update(state)``) and fail, if ever, at a later
``step()``: a ``gamma`` of NaN makes every later lr NaN, a ``step_size`` of 0 raises
``ZeroDivisionError`` there. :func:`after_state_problem` checks a state before anything loads it:
each entry a scheduler reads in its ``get_lr``/``step`` against a rule of type and range, nested
states (``SequentialLR``, ``ChainedScheduler``) against their own scheduler's rules.

A rule takes the value and the number of param groups; it returns None for a valid value, else
what was expected (the text of a :class:`~rampup.RampupError`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from torch import Tensor
from torch.optim import lr_scheduler as L  # noqa: N812  # torch's own short name

from rampup.core.checks import shown

__all__ = ["MAX_COUNT", "Rule", "after_state_problem", "finite", "int_rule", "real_rule"]

#: A rule: (value, number of param groups) -> None if valid, else what was expected.
Rule: TypeAlias = Callable[[object, int], "str | None"]

#: The largest count a state may hold: every count up to it is exact as a float.
MAX_COUNT = 2**53


def finite(value: object, *, tensors: bool = False) -> float | None:
    """``value`` as a finite float, or None (a bool, a non-number, inf/NaN, 10**400).

    With ``tensors`` a one-element floating tensor counts as its value (torch keeps tensor rates
    in ``base_lrs`` and ``_last_lr`` when a group's lr is a tensor).
    """
    if tensors and isinstance(value, Tensor) and value.numel() == 1 and value.is_floating_point():
        value = float(value.item())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    return x if math.isfinite(x) else None


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    def end(x: float) -> str:
        names = {math.inf: "inf", -math.inf: "-inf", float(MAX_COUNT): "2**53"}
        return names.get(x, f"{x:g}")

    low_open, high_open = low_open or low == -math.inf, high_open or high == math.inf
    return f"{'(' if low_open else '['}{end(low)}, {end(high)}{')' if high_open else ']'}"


def int_rule(low: int, high: int = MAX_COUNT, what: str = "") -> Rule:
    """An int (not a bool) in ``[low, high]``."""
    text = f"an int in {_interval(low, high, False, False)}{what}"

    def rule(value: object, n: int) -> str | None:
        return None if type(value) is int and low <= value <= high else text

    return rule


def real_rule(
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    ints: bool = True,
) -> Rule:
    """A finite number in the interval (an int too, unless ``ints`` is False)."""
    text = f"a finite number in {_interval(low, high, low_open, high_open)}"

    def rule(value: object, n: int) -> str | None:
        x = finite(value)
        if x is None or (not ints and isinstance(value, int)):
            return text
        if (x < low or (low_open and x == low)) or (x > high or (high_open and x == high)):
            return text
        return None

    return rule


_COUNT = int_rule(0)
_FACTOR = real_rule(0.0)  # a multiplier of the lr: finite, >= 0 (a negative lr is no lr)


def _choice(*options: object) -> Rule:
    text = "one of " + ", ".join(repr(o) for o in options)

    def rule(value: object, n: int) -> str | None:
        return None if any(type(value) is type(o) and value == o for o in options) else text

    return rule


def _bool(value: object, n: int) -> str | None:
    return None if isinstance(value, bool) else "True or False"


def _per_group(item: Rule, what: str) -> Rule:
    """A list with one item per param group, each passing ``item``."""

    def rule(value: object, n: int) -> str | None:
        if isinstance(value, list) and len(value) == n and all(item(x, n) is None for x in value):
            return None
        return f"a list with one {what} per param group ({n})"

    return rule


def _rate(value: object, n: int) -> str | None:
    x = finite(value, tensors=True)
    return None if x is not None and x >= 0.0 else "a finite rate >= 0"


def _none_or_dict(value: object, n: int) -> str | None:
    return None if value is None or isinstance(value, dict) else "None or a dict"


def _milestones(value: object, n: int) -> str | None:
    """MultiStepLR's ``Counter`` of milestones: update counts >= 0, each seen >= 1 times."""
    if isinstance(value, Mapping) and all(
        type(k) is int and 0 <= k <= MAX_COUNT and type(c) is int and c >= 1
        for k, c in value.items()
    ):
        return None
    return "a Counter from milestone (an int >= 0) to how often it is given (an int >= 1)"


def _none_or_rate(value: object, n: int) -> str | None:
    return None if value is None else _rate(value, n)


def _best(value: object, n: int) -> str | None:
    """ReduceLROnPlateau's best metric: any number but NaN (inf or -inf before the first)."""
    if isinstance(value, float | int) and not isinstance(value, bool) and not math.isnan(value):
        return None
    return "a number (not NaN): the best metric so far, inf or -inf before the first"


def _milestone_list(value: object, n: int) -> str | None:
    """SequentialLR's milestones: the update counts at which the next scheduler takes over."""
    if isinstance(value, list) and all(_COUNT(m, n) is None for m in value):
        return None
    return "a list of ints >= 0 (the updates at which the next scheduler takes over)"


_PHASE_KEYS = frozenset(("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum"))
_PHASE_NAMES = frozenset(("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"))


def _one_cycle_phases(value: object, n: int) -> str | None:
    """OneCycleLR's 2 or 3 phases: an ``end_step`` each and the group keys they anneal between.

    An ``end_step`` equal to the previous one's (0 before the first) would divide by zero.
    """
    text = (
        "2 or 3 phases, each a dict of a finite 'end_step' (not the previous phase's, 0 before"
        f" the first) and the group keys {sorted(_PHASE_NAMES)} it anneals between"
    )
    if not isinstance(value, list) or len(value) not in (2, 3):
        return text
    start = 0.0
    for phase in value:
        if not isinstance(phase, dict) or set(phase) != _PHASE_KEYS:
            return text
        end = finite(phase["end_step"])
        if end is None or end == start:
            return text
        if any(phase[k] not in _PHASE_NAMES for k in _PHASE_KEYS - {"end_step"}):
            return text
        start = end
    return None


#: Entries every LRScheduler keeps (torch's bookkeeping; the private ones may be absent).
_COMMON: dict[str, Rule] = {
    "base_lrs": _per_group(_rate, "finite rate >= 0"),
    "_last_lr": _per_group(_rate, "finite rate >= 0"),
    "last_epoch": int_rule(-1),
    "_step_count": _COUNT,
    "_is_initial": _bool,
    "_get_lr_called_within_step": _bool,
}

#: Per built-in scheduler, the entries its get_lr/step reads and what each may hold.
_RULES: dict[type, dict[str, Rule]] = {
    L.StepLR: {"step_size": int_rule(1), "gamma": _FACTOR},
    L.MultiStepLR: {"milestones": _milestones, "gamma": _FACTOR},
    L.ExponentialLR: {"gamma": _FACTOR},
    L.CosineAnnealingLR: {"T_max": real_rule(0.0, low_open=True), "eta_min": real_rule(0.0)},
    L.LambdaLR: {"lr_lambdas": _per_group(_none_or_dict, "None or dict (a callable's state)")},
    L.MultiplicativeLR: {
        "lr_lambdas": _per_group(_none_or_dict, "None or dict (a callable's state)")
    },
    L.PolynomialLR: {"total_iters": _COUNT, "power": real_rule(0.0)},
    L.LinearLR: {
        "start_factor": real_rule(0.0, 1.0, low_open=True),
        "end_factor": real_rule(0.0, 1.0),
        "total_iters": _COUNT,
    },
    L.ConstantLR: {"factor": real_rule(0.0, 1.0), "total_iters": _COUNT},
    L.CosineAnnealingWarmRestarts: {
        "T_0": int_rule(1),
        "T_i": int_rule(1),
        "T_mult": int_rule(1),
        "eta_min": real_rule(0.0),
        "T_cur": real_rule(0.0),
    },
    L.OneCycleLR: {
        "total_steps": int_rule(1),
        "_schedule_phases": _one_cycle_phases,
        "_anneal_func_type": _choice("cos", "linear"),
        "cycle_momentum": _bool,
        "use_beta1": _bool,
    },
    L.CyclicLR: {
        "max_lrs": _per_group(_rate, "finite rate >= 0"),
        "total_size": real_rule(0.0, low_open=True),
        "step_ratio": real_rule(0.0, 1.0, low_open=True),
        "mode": _choice("triangular", "triangular2", "exp_range"),
        "gamma": real_rule(0.0, low_open=True),
        "scale_mode": _choice("cycle", "iterations"),
        "cycle_momentum": _bool,
        "use_beta1": _bool,
        "base_momentums": _per_group(real_rule(), "finite number"),
        "max_momentums": _per_group(real_rule(), "finite number"),
        "_scale_fn_custom": _none_or_dict,
    },
    L.ReduceLROnPlateau: {
        "factor": real_rule(0.0, 1.0, high_open=True),
        "default_min_lr": _none_or_rate,
        "min_lrs": _per_group(_rate, "finite rate >= 0"),
        "patience": _COUNT,
        "cooldown": _COUNT,
        "cooldown_counter": _COUNT,
        "num_bad_epochs": _COUNT,
        "eps": real_rule(0.0),
        "last_epoch": _COUNT,
        "mode": _choice("min", "max"),
        "mode_worse": _choice(math.inf, -math.inf),
        "threshold": real_rule(),
        "threshold_mode": _choice("rel", "abs"),
        "best": _best,
    },
    L.SequentialLR: {"_milestones": _milestone_list},
    L.ChainedScheduler: {},
}


def _rules_of(scheduler: object) -> dict[str, Rule]:
    """The rules for ``scheduler``'s entries: its nearest built-in class's, and the common ones."""
    rules: dict[str, Rule] = {}
    if not isinstance(scheduler, L.ReduceLROnPlateau):
        rules.update(_COMMON)
    for cls in type(scheduler).__mro__:
        if cls in _RULES:
            rules.update(_RULES[cls])
            break
    return rules


def _kind(value: object) -> str:
    """The kind of an entry without a rule, as far as a shape check cares: int and float alike."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def after_state_problem(scheduler: Any, state: Mapping[str, Any], n: int) -> str | None:
    """What is wrong with ``state`` as a state of ``scheduler`` (None: nothing).

    Its keys must be the scheduler's own (private bookkeeping keys, which come and go between
    torch versions, may be missing); every entry with a rule must pass it, every other one must
    be of the kind the scheduler's own entry is. The nested ``_schedulers`` states of a
    ``SequentialLR`` or ``ChainedScheduler`` are checked the same way against their schedulers.
    """
    mine = scheduler.state_dict()
    public = {k for k in mine if not k.startswith("_")}
    if not set(state) <= set(mine) or not public <= set(state):
        return f"its keys are {sorted(mine)}, got {sorted(map(str, state))}"
    rules = _rules_of(scheduler)
    for key, value in state.items():
        rule = rules.get(key)
        if rule is not None:
            expected = rule(value, n)
            if expected is not None:
                return f"its {key!r} {expected}, got {shown(value)}"
        elif key != "_schedulers":
            theirs, ours = _kind(value), _kind(mine[key])
            if theirs != ours and "none" not in (theirs, ours):
                return f"its {key!r} is a {ours}, got {shown(value)}"
    return _nested_problem(scheduler, state, n)


def _nested_problem(scheduler: Any, state: Mapping[str, Any], n: int) -> str | None:
    """The inner states of a ``SequentialLR`` or ``ChainedScheduler``, one per scheduler."""
    children = getattr(scheduler, "_schedulers", None)
    if "_schedulers" not in state or not isinstance(children, list):
        return None
    nested = state["_schedulers"]
    if not isinstance(nested, list) or len(nested) != len(children):
        return f"its '_schedulers' a list of {len(children)} states, got {shown(nested)}"
    for i, (child, child_state) in enumerate(zip(children, nested, strict=True)):
        if not isinstance(child_state, dict):
            return f"its '_schedulers'[{i}] a state dict, got {shown(child_state)}"
        problem = after_state_problem(child, child_state, n)
        if problem is not None:
            return f"its '_schedulers'[{i}] (a torch {type(child).__name__}): {problem}"
    return None
