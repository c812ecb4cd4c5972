r"""optax (JAX) adapter: a rampup schedule as an optax schedule that traces under ``jax.jit``.

``rampup.optax.schedule(s, ...)`` returns a function of optax's step count, usable wherever optax
takes a schedule (``learning_rate=`` of any optimizer, ``optax.inject_hyperparams`` for momentum
or weight decay). There is no second copy of the math: the function evaluates the schedule's own
formulas (:meth:`rampup.Schedule.array_formula`) on ``jax.numpy`` arrays, branch-free, so it
traces under ``jax.jit``, ``jax.lax.scan`` and ``jax.vmap``.

>>> import optax, rampup.optax
>>> lr = rampup.optax.schedule("linear(5%) >> cosine", total_steps=1000, peak=3e-4)
>>> opt = optax.adamw(learning_rate=lr)

Values are multipliers of ``peak`` (default 1): ``peak * s(t)``. For a hyperparameter scheduled
in absolute values (Adam's ``b1``), leave ``peak`` at 1 and write the values in the spec.

Precision: JAX computes in float32 unless 64-bit mode is on (``jax.enable_x64``), so values
agree with ``s.values(...)`` (float64) to float32 rounding, about 1e-7 for values of order 1
(two known exceptions under float32: ``radam`` near its first steps, whose rectifier cancels, and
``restarts(cycles=...)`` at a cycle's first step; both are exact to float64 rounding with x64).
Integer steps (optax's ``count`` is an int32) stay integers for the phase boundaries, so every
boundary is exact (a schedule whose boundaries do not fit the step's integer type, beyond 2**31
steps without x64, is evaluated on float steps instead); float steps (fractional steps, for
plots) are JAX's default float, float32 being exact below 2**24.

Steps given as Python or NumPy numbers are checked as ``s(t)`` checks them (a negative, NaN or
infinite step is a :class:`~rampup.RampupError`); a JAX array cannot raise inside ``jit``, so a
negative or NaN step in one gives NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

try:
    import jax
    import jax.numpy as jnp
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("rampup.optax needs JAX: pip install 'rampup[jax]'") from exc

from rampup._checks import check_number
from rampup._errors import RampupError, fail, shown
from rampup.schedule import Bound, Schedule
from rampup.spec import from_dict, parse

__all__ = ["OptaxSchedule", "schedule"]

_FUNC = "optax.schedule"
_STEP_EXPECTED = "a finite step >= 0 (t = 0 is the first update)"


def _resolve(func: str, s: object, total_steps: object, steps_per_epoch: object) -> Schedule:
    """The schedule ``s`` (a Schedule, a spec string or plain data) bound to the run, resolved."""
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
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise fail(
                func, "total_steps", total_steps, "a positive int (the whole run, in updates)"
            )
        total = total_steps
    per_epoch: float | None = None
    if steps_per_epoch is not None:
        per_epoch = check_number(
            func,
            "steps_per_epoch",
            steps_per_epoch,
            low=0.0,
            low_open=True,
            what="a positive finite number (updates per epoch)",
        )
        if isinstance(steps_per_epoch, int):
            per_epoch = steps_per_epoch  # keep an int an int: it prints as it was given
    if isinstance(sched, Bound) and (total is not None or per_epoch is not None):
        # re-bind (e.g. a longer run), keeping what the call does not override
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


def _host_steps(func: str, step: object) -> npt.NDArray[Any] | None:
    """Check steps given as Python or NumPy numbers (None for a JAX array: it cannot be checked)."""
    if isinstance(step, jax.Array):
        return None
    try:
        raw = np.asarray(step)
    except (TypeError, ValueError):
        raise fail(func, "step", step, _STEP_EXPECTED) from None
    if raw.dtype.kind not in "biuf":  # strings, complex, objects: only real numbers are steps
        for x in raw.flat:
            item = x.item() if isinstance(x, np.generic) else x
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise fail(func, "step", item, _STEP_EXPECTED)
    t = raw.astype(np.float64)
    if t.size and not (t.min() >= 0 and np.isfinite(t.max())):
        bad = t[~(np.isfinite(t) & (t >= 0))].flat[0]
        raise fail(func, "step", float(bad), _STEP_EXPECTED)
    if raw.dtype.kind in "biu":
        top = np.iinfo(jnp.result_type(int)).max  # int32 unless 64-bit mode is on
        if raw.size == 0 or int(raw.max()) <= top:
            return raw.astype(jnp.result_type(int))
        return t  # too large for JAX's integers: as floats
    return t


class OptaxSchedule:
    """An optax schedule: ``f(count)`` is ``peak * s(count)`` as a JAX array.

    Built by :func:`schedule`. ``f.schedule`` is the bound rampup schedule it evaluates and
    ``f.peak`` its scale; ``f(count)`` traces under ``jax.jit``.
    """

    __slots__ = ("__weakref__", "_formula", "_jitted", "_last", "peak", "schedule")

    def __init__(self, schedule: Schedule, peak: float) -> None:
        self.schedule = schedule
        self.peak = peak
        self._formula = schedule.array_formula(jnp)
        bounds = schedule.bounds
        #: The largest integer the formula compares steps with.
        self._last = max(bounds) if bounds else 0
        # Called outside jit, one compiled call instead of one dispatch per operation; inside
        # an outer jit it is inlined.
        self._jitted = jax.jit(self._evaluate)

    def __call__(self, count: Any) -> jax.Array:
        """``peak * s(count)``: integer steps stay integers, float steps are JAX floats."""
        host = _host_steps("OptaxSchedule", count)
        value: jax.Array = self._jitted(jnp.asarray(count if host is None else host))
        return value

    def _evaluate(self, t: jax.Array) -> jax.Array:
        fdtype = jnp.result_type(float)  # float32 unless 64-bit mode is on
        if jnp.issubdtype(t.dtype, jnp.signedinteger) and self._last <= np.iinfo(t.dtype).max:
            valid = t >= 0  # integer steps stay integers: phase boundaries are exact
        else:
            t = t.astype(jnp.promote_types(t.dtype, fdtype) if t.dtype.kind == "f" else fdtype)
            valid = (t >= 0) & (t < math.inf)
        out = self.peak * self._formula(t)
        return jnp.where(valid, out, math.nan).astype(fdtype)

    def __repr__(self) -> str:
        peak = "" if self.peak == 1.0 else f", peak={self.peak!r}"
        return f"rampup.optax.schedule({str(self.schedule)!r}{peak})"


def schedule(
    s: Schedule | str | Mapping[str, Any],
    *,
    peak: float = 1.0,
    total_steps: int | None = None,
    steps_per_epoch: float | None = None,
) -> OptaxSchedule:
    """An optax schedule of ``s``: update ``count`` uses ``peak * s(count)``.

    ``s`` is a rampup schedule, a spec string (``"linear(5%) >> cosine"``) or
    :meth:`~rampup.Schedule.to_dict`'s plain data. ``peak`` is the value the multiplier 1 stands
    for, e.g. the peak learning rate ``3e-4`` (keep 1 for values written in absolute terms, such
    as momentum ``b1``). ``total_steps`` is the whole run in optimizer updates, warmup included:
    it binds lengths given as a fraction of the run (``"5%"``) and the phase that takes the rest
    of the run; ``steps_per_epoch`` binds lengths in epochs (``"2ep"``). A bad spec, a bad
    ``peak`` or a length that cannot be resolved is a :class:`~rampup.RampupError` raised here.

    The result is a callable ``f(count) -> jax.Array`` (float32, or float64 in 64-bit mode)
    that traces under ``jax.jit``; ``f.schedule`` is the bound rampup schedule it evaluates.

    >>> f = schedule("linear(4) >> cosine", total_steps=8, peak=0.1)
    >>> [round(float(f(t)), 4) for t in range(9)]
    [0.025, 0.05, 0.075, 0.1, 0.1, 0.0854, 0.05, 0.0146, 0.0]
    """
    p = check_number(_FUNC, "peak", peak, low=0.0, low_open=True, what="a finite number > 0")
    return OptaxSchedule(_resolve(_FUNC, s, total_steps, steps_per_epoch), p)
