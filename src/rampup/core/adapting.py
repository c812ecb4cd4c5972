"""For adapter authors: a rampup schedule on an array framework, from what a user passes.

An adapter (:mod:`rampup.optax`, :mod:`rampup.keras`, or one of your own for another framework)
keeps no second copy of the math. It

1. takes the schedule as the user gives it, a :class:`~rampup.Schedule`, a spec string or
   :meth:`~rampup.Schedule.to_dict`'s plain data, with the run's lengths, and turns it into one
   bound schedule with every length resolved: :func:`resolve` (its lengths checked by
   :func:`check_run_lengths`);
2. evaluates the schedule's own formulas on the framework's arrays:
   ``schedule.array_formula(ops)`` with ``ops`` an :data:`Ops` namespace (``jax.numpy``, or the
   framework's functions named as in :data:`SCALAR`), which returns a :data:`Formula`;
3. checks steps given as Python or NumPy numbers as ``s(t)`` does: :func:`checked_steps`.

Every check raises :class:`~rampup.RampupError` naming the adapter's function (``func``), the
parameter, the value and what was expected.

>>> from rampup.core.adapting import checked_steps, resolve
>>> s = resolve("demo", "linear(10%) >> cosine", total_steps=100, steps_per_epoch=None)
>>> str(s)
'bind(linear(10%) >> cosine, total_steps=100)'
>>> raw, t = checked_steps("demo", [0, 9, 10])
>>> t.tolist(), s.values(t).tolist()
([0.0, 9.0, 10.0], [0.1, 1.0, 1.0])
>>> checked_steps("demo", -1)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rampup.core._errors.RampupError: demo(): step=-1.0 is invalid: expected a finite step >= 0 ...
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from rampup.core._checks import check_number
from rampup.core._errors import RampupError, fail, shown
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.auto_warmup import fit_optimizer
from rampup.core.schedule import Bound, Schedule
from rampup.core.spec import from_dict, parse
from rampup.core.units import MAX_STEPS

__all__ = [
    "SCALAR",
    "STEP_EXPECTED",
    "Formula",
    "Ops",
    "check_run_lengths",
    "checked_steps",
    "resolve",
]

#: What a step is, as the error messages of :func:`checked_steps` say it.
STEP_EXPECTED = "a finite step >= 0 (t = 0 is the first update)"


def check_run_lengths(
    func: str, total_steps: object, steps_per_epoch: object
) -> tuple[int | None, float | None]:
    """The run's lengths, checked: ``(total_steps, steps_per_epoch)``, each possibly None.

    ``total_steps`` is the whole run in optimizer updates, warmup included: an int in
    ``[1, 2**53]``. ``steps_per_epoch`` is a finite number in ``(0, 2**53]``; an int stays an
    int (so the bound schedule prints it as it was given). Raises :class:`RampupError` naming
    ``func`` otherwise.
    """
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
    return total, per_epoch


def resolve(
    func: str,
    s: object,
    total_steps: object,
    steps_per_epoch: object,
    *,
    beta2: object = None,
) -> Schedule:
    """The schedule ``s`` (a Schedule, a spec string or plain data) bound to the run, resolved.

    ``total_steps`` and ``steps_per_epoch`` (either may be None) are checked by
    :func:`check_run_lengths`. A bound schedule given with either is re-bound (e.g. to a longer
    run), keeping what the call does not override. ``beta2`` (the optimizer's Adam beta2, or
    None) tells a bare ``auto`` its value (:func:`rampup.core.auto_warmup.fit_optimizer`). Every
    length is resolved here, so an error belongs to the adapter's constructor, named ``func``.
    """
    b2 = None
    if beta2 is not None:
        b2 = check_number(
            func, "beta2", beta2, low=0.0, high=1.0, low_open=True, high_open=True,
            what="the optimizer's Adam beta2 in (0, 1), e.g. 0.999, or None",
        )  # fmt: skip
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
    if b2 is not None:
        sched = fit_optimizer(sched, [b2])
    total, per_epoch = check_run_lengths(func, total_steps, steps_per_epoch)
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

    The adapter casts the first (integer steps stay integers, for exact phase boundaries) or
    uses the second; a framework's own tensors cannot be checked on the host and are not
    passed here.

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
