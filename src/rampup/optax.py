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
infinite step is a :class:`~rampup.RampupError`, and so is a bool); a JAX array cannot raise
inside ``jit``, so a negative or NaN step in one gives NaN.
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
    raise ImportError(f"rampup.optax needs JAX: pip install 'rampup[jax]' ({exc})") from exc

from rampup.core.adapting import checked_steps, resolve
from rampup.core.checks import check_number
from rampup.core.schedule import Schedule

__all__ = ["OptaxSchedule", "schedule"]

_FUNC = "optax.schedule"


def _host_steps(func: str, step: object) -> npt.NDArray[Any] | None:
    """Check steps given as Python or NumPy numbers (None for a JAX array: it cannot be checked)."""
    if isinstance(step, jax.Array):
        return None
    raw, t = checked_steps(func, step)
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
    beta2: float | None = None,
) -> OptaxSchedule:
    """An optax schedule of ``s``: update ``count`` uses ``peak * s(count)``.

    ``s`` is a rampup schedule, a spec string (``"linear(5%) >> cosine"``) or
    :meth:`~rampup.Schedule.to_dict`'s plain data. ``peak`` is the value the multiplier 1 stands
    for, e.g. the peak learning rate ``3e-4`` (keep 1 for values written in absolute terms, such
    as momentum ``b1``). ``total_steps`` is the whole run in optimizer updates, warmup included:
    it binds lengths given as a fraction of the run (``"5%"``) and the phase that takes the rest
    of the run; ``steps_per_epoch`` binds lengths in epochs (``"2ep"``). A bad spec, a bad
    ``peak`` or a length that cannot be resolved is a :class:`~rampup.RampupError` raised here.
    ``beta2`` is the optimizer's Adam beta2 (``optax.adamw(b2=...)``: optax's optimizers do not
    expose it to a schedule), which a bare ``auto`` then uses instead of 0.999.

    The result is a callable ``f(count) -> jax.Array`` (float32, or float64 in 64-bit mode)
    that traces under ``jax.jit``; ``f.schedule`` is the bound rampup schedule it evaluates.

    >>> f = schedule("linear(4) >> cosine", total_steps=8, peak=0.1)
    >>> [round(float(f(t)), 4) for t in range(9)]
    [0.025, 0.05, 0.075, 0.1, 0.1, 0.0854, 0.05, 0.0146, 0.0]
    """
    p = check_number(_FUNC, "peak", peak, low=0.0, low_open=True, what="a finite number > 0")
    return OptaxSchedule(resolve(_FUNC, s, total_steps, steps_per_epoch, beta2=beta2), p)
