"""What the array adapters (optax, Keras) share: resolving a schedule, checking host steps."""

from __future__ import annotations

import sys
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from rampup.core._checks import check_number
from rampup.core._errors import RampupError, fail, shown
from rampup.core.schedule import Bound, Schedule
from rampup.core.spec import from_dict, parse
from rampup.core.units import MAX_STEPS

__all__ = ["STEP_EXPECTED", "checked_steps", "resolve"]

STEP_EXPECTED = "a finite step >= 0 (t = 0 is the first update)"


def resolve(func: str, s: object, total_steps: object, steps_per_epoch: object) -> Schedule:
    """The schedule ``s`` (a Schedule, a spec string or plain data) bound to the run, resolved.

    A bound schedule given with ``total_steps`` or ``steps_per_epoch`` is re-bound (e.g. to a
    longer run), keeping what the call does not override. Every length is resolved here, so an
    error belongs to the adapter's constructor, named ``func``.
    """
    sched: Schedule
    if isinstance(s, Schedule):
        sched = s
    elif isinstance(s, str):
        try:
            sched = parse(s)
        except RampupError as exc:
            raise RampupError(
                f"{func}(): s={shown(s)} is invalid: expected a spec string such as"
                f" 'linear(5%) >> cosine'; {exc}"
            ) from None
    elif isinstance(s, Mapping):
        try:
            sched = from_dict(dict(s))
        except RampupError as exc:
            raise RampupError(
                f"{func}(): s={shown(s)} is invalid: expected to_dict()'s plain data; {exc}"
            ) from None
    else:
        raise fail(
            func,
            "s",
            s,
            "a rampup Schedule, a spec string such as 'linear(5%) >> cosine', or to_dict()'s"
            " plain data",
        )
    total: int | None = None
    if total_steps is not None:
        if (
            isinstance(total_steps, bool)
            or not isinstance(total_steps, int)
            or not 1 <= total_steps <= MAX_STEPS
        ):
            raise fail(
                func,
                "total_steps",
                total_steps,
                f"a positive int (the whole run, in updates) of at most 2**53 = {MAX_STEPS}",
            )
        total = total_steps
    per_epoch: float | None = None
    if steps_per_epoch is not None:
        per_epoch = check_number(
            func,
            "steps_per_epoch",
            steps_per_epoch,
            low=0.0,
            high=MAX_STEPS,
            low_open=True,
            what=f"a positive finite number (updates per epoch) of at most 2**53 = {MAX_STEPS}",
        )
        if isinstance(steps_per_epoch, int):
            per_epoch = steps_per_epoch  # keep an int an int: it prints as it was given
    if isinstance(sched, Bound) and (total is not None or per_epoch is not None):
        total = sched.total_steps if total is None else total
        per_epoch = sched.steps_per_epoch if per_epoch is None else per_epoch
    try:
        if total is not None or per_epoch is not None:
            sched = sched.bind(total, per_epoch)
        sched.final_step  # noqa: B018  # resolves every length now: errors belong to this call
    except RampupError as exc:
        raise RampupError(
            f"{func}(): s={str(sched)!r} cannot be bound with total_steps={shown(total_steps)},"
            f" steps_per_epoch={shown(steps_per_epoch)}: {exc}"
        ) from None
    return sched


def checked_steps(
    func: str, step: object
) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.float64]]:
    """Steps given as Python or NumPy numbers, checked: ``(as given, as float64)``.

    Raises :class:`RampupError` naming ``func`` for a non-number (a bool included: ``True`` is no
    step, though ``s(True)`` accepts it), a negative, infinite or NaN step.
    """
    try:
        raw = np.asarray(step)
    except (TypeError, ValueError):
        raise fail(func, "step", step, STEP_EXPECTED) from None
    if raw.dtype.kind not in "iuf":  # bools, strings, complex, objects: only real numbers are steps
        for x in raw.flat:
            item = x.item() if isinstance(x, np.generic) else x
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise fail(func, "step", item, STEP_EXPECTED)
    try:
        t = raw.astype(np.float64)
    except OverflowError:  # an int beyond the float range
        big = next(x for x in raw.flat if isinstance(x, int) and abs(x) > sys.float_info.max)
        raise fail(func, "step", big, STEP_EXPECTED + " within the float range") from None
    if t.size and not (t.min() >= 0 and np.isfinite(t.max())):
        bad = t[~(np.isfinite(t) & (t >= 0))].flat[0]
        raise fail(func, "step", float(bad), STEP_EXPECTED)
    return raw, t
