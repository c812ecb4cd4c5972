r"""timm's ``CosineLRScheduler`` stepped per update, and its cosine cycles as a phase.

:func:`timm_cosine` builds timm's warmup and cycles from rampup's shapes where they are the same
curve, and from :class:`TimmDecay` (``timm_decay``) where they are not (timm's default
``warmup_prefix=False`` runs the cosine on the global step; cycles that grow or decay).
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

from rampup.core._checks import check_number
from rampup.core._errors import fail
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.compat._common import PI, Make, check_steps, join
from rampup.core.schedule import Phase, PhaseContext, Schedule
from rampup.core.shapes import (
    CLOCK_TOP,
    Cosine,
    Linear,
    Restarts,
)
from rampup.core.units import MAX_STEPS

__all__ = ["TimmDecay", "timm_cosine"]


@dataclass(frozen=True, eq=True, repr=False)
class TimmDecay(Phase):
    r"""timm's cosine cycles (``CosineLRScheduler`` after its warmup), as multipliers.

    At local step ``t`` the cycle clock is ``x = t + skip`` (``skip`` is the warmup length under
    timm's default ``warmup_prefix=False``, which runs the cosine on the global step, so its peak
    is never used; 0 otherwise). With ``T = t_initial`` and ``k = mult``:

    .. math::
        i = \lfloor x / T \rfloor,\ T_i = T,\ x_i = x - iT                      \quad (k = 1)

        i = \lfloor \log_k(1 - x (1 - k) / T) \rfloor,\ T_i = k^i T,\
        x_i = x - T (1 - k^i) / (1 - k)                                          \quad (k \ne 1)

        value = to + \tfrac12 (decay^i - to)(1 + \cos(\pi x_i / T_i))  \text{ if } i < limit,
        \text{ else } to

    computed in timm's order of operations. Open-ended: after ``limit`` cycles ``to`` holds.
    ``mult`` is at most ``2**53 / t_initial`` and ``decay**(limit - 1)`` must be finite; the
    cycle clock ``x`` stops at 2**64 (as :class:`~rampup.core.shapes.Restarts`), so every step gives
    a finite value.
    """

    t_initial: int
    _: KW_ONLY
    to: float = 0.0
    mult: float = 1.0
    decay: float = 1.0
    limit: int = 1
    skip: int = 0
    spec_name: ClassVar[str] = "timm_decay"
    positional: ClassVar[tuple[str, ...]] = ("t_initial",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        name = "timm_decay"
        object.__setattr__(self, "t_initial", check_steps(name, "t_initial", self.t_initial, low=1))
        object.__setattr__(self, "to", check_number(name, "to", self.to, low=0.0))
        object.__setattr__(self, "mult", check_number(name, "mult", self.mult, low=1.0))
        object.__setattr__(self, "decay", check_number(name, "decay", self.decay, low=0.0))
        object.__setattr__(self, "limit", check_steps(name, "limit", self.limit, low=1))
        object.__setattr__(self, "skip", check_steps(name, "skip", self.skip, low=0))
        if self.mult * self.t_initial > MAX_STEPS:
            raise fail(
                name,
                "mult",
                self.mult,
                f"a factor of at most 2**53 / t_initial = {MAX_STEPS / self.t_initial:g}: a second"
                " cycle longer than 2**53 steps never ends",
            )
        try:
            peak = self.decay ** (self.limit - 1)  # the largest power of decay a cycle uses
        except OverflowError:
            peak = math.inf
        if not math.isfinite(peak):
            raise fail(
                name, "decay", self.decay, f"a factor whose power {self.limit - 1} is finite"
            )

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        period, m, mult, decay = float(self.t_initial), self.to, self.mult, self.decay
        limit, skip = self.limit, float(self.skip)
        log_mult = math.log(mult)
        last = float(limit - 1)

        def make(xp: Ops) -> Formula:
            cos, floor, log, where, minimum = xp.cos, xp.floor, xp.log, xp.where, xp.minimum

            def f(t: Any) -> Any:
                x = minimum(t + skip, CLOCK_TOP)  # beyond it the powers would overflow
                if mult == 1.0:
                    i = floor(x / period)
                    t_i: Any = period
                    x_i = x - period * i
                else:
                    i = floor(log(1.0 - x / period * (1.0 - mult)) / log_mult)
                    t_i = mult**i * period
                    x_i = x - (1.0 - mult**i) / (1.0 - mult) * period
                # past the last cycle the wave is not used: its power of decay stays bounded
                wave = m + 0.5 * (decay ** minimum(i, last) - m) * (1.0 + cos(PI * x_i / t_i))
                return where(i < limit, wave, m)

            return f

        final = math.nan if length is None else float(make(SCALAR)(float(length)))
        return make, final


def timm_cosine(
    t_initial: int,
    *,
    base_lr: float,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    lr_min: float = 0.0,
    warmup_prefix: bool = False,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
) -> Schedule:
    r"""The lrs of timm's ``CosineLRScheduler(t_in_epochs=False)``, as multipliers.

    timm works in absolute learning rates; ``base_lr`` (the optimizer's lr) turns ``lr_min`` and
    ``warmup_lr_init`` into multipliers, so ``base_lr * s(t)`` is the lr timm gives update ``t``
    (``step_update(num_updates=t)`` after ``t`` updates; update 0 runs at the initial value).

    - Warmup, ``t < warmup_t``: :math:`w_0 + t (1 - w_0) / W`, ``w_0 = warmup_lr_init / base_lr``
      (``linear(W, start=w_0, endpoint=false)``: the peak would come at ``t = W``).
    - Then cycle ``i`` of the cosine (see :class:`TimmDecay`) from ``cycle_decay**i`` down to
      ``m = lr_min / base_lr``, for ``cycle_limit`` cycles of ``t_initial * cycle_mul**i``
      steps, then ``m`` holds.

    timm's default ``warmup_prefix=False`` runs the cosine on the global step ``t``: the cosine
    starts at its value for ``t = W``, so the peak is never used, and the cycles end ``W`` steps
    sooner. ``warmup_prefix=True`` starts the cosine at its peak at ``t = W``. timm's noise and
    ``k_decay`` are not reproduced.

    >>> from rampup.core import compat
    >>> s = compat.timm_cosine(10, base_lr=1.0, warmup_t=2, warmup_prefix=True)
    >>> [s(t) for t in (0, 1, 2, 12)]
    [0.0, 0.5, 1.0, 0.0]
    """
    func = "timm_cosine"
    period = check_steps(func, "t_initial", t_initial, low=1)
    base = check_number(func, "base_lr", base_lr, low=0.0, low_open=True)
    w = check_steps(func, "warmup_t", warmup_t, low=0)
    lr0 = check_number(func, "warmup_lr_init", warmup_lr_init, low=0.0)
    floor = check_number(func, "lr_min", lr_min, low=0.0, high=base, what="an lr in [0, base_lr]")
    if not isinstance(warmup_prefix, bool):
        raise fail(func, "warmup_prefix", warmup_prefix, "True or False")
    mult = check_number(func, "cycle_mul", cycle_mul, low=1.0)
    decay = check_number(func, "cycle_decay", cycle_decay, low=0.0)
    limit = check_steps(func, "cycle_limit", cycle_limit, low=1)
    m = floor / base
    phases: list[Phase] = [Linear(w, start=lr0 / base, endpoint=False)] if w else []
    skip = 0 if warmup_prefix else w
    if skip == 0 and limit == 1:
        phases.append(Cosine(period, start=1.0, to=m))
    elif skip == 0 and mult == 1.0:
        phases.append(Restarts(period * limit, period=period, decay=decay, to=m))
    else:
        phases.append(TimmDecay(period, to=m, mult=mult, decay=decay, limit=limit, skip=skip))
    return join(phases)
