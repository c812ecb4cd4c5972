r"""The warmup factors of the ``pytorch_warmup`` package, and its exponential factor as a phase.

:func:`pytorch_warmup` gives each kind of the package as a rampup schedule to multiply onto the
lr schedule; its exponential factor has no rampup shape and is :class:`ExpoWarmup`
(``expo_warmup``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import fail
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.compat._common import Make, check_steps
from rampup.core.schedule import Phase, PhaseContext, Schedule
from rampup.core.shapes import (
    Linear,
    RAdam,
)
from rampup.core.units import MAX_STEPS

__all__ = ["ExpoWarmup", "pytorch_warmup"]


@dataclass(frozen=True, eq=True, repr=False)
class ExpoWarmup(Phase):
    r"""pytorch_warmup's exponential warmup factor with time constant ``period`` (:math:`\tau`).

    .. math:: \omega(t) = 1 - \exp(-(t + 1) / \tau)

    Update ``t`` uses :math:`\omega(t)` (pytorch_warmup's ``ExponentialWarmup``: its first
    dampening is of step 0), so no update is at 0. Open-ended, tends to 1; multiply it onto a
    schedule with ``*``.
    """

    period: int
    spec_name: ClassVar[str] = "expo_warmup"
    positional: ClassVar[tuple[str, ...]] = ("period",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        period = check_steps("expo_warmup", "period", self.period, low=1)
        object.__setattr__(self, "period", period)

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        tau = float(self.period)

        def make(xp: Ops) -> Formula:
            exp = xp.exp
            return lambda t: 1.0 - exp(-(t + 1.0) / tau)

        final = math.nan if length is None else float(make(SCALAR)(float(length)))
        return make, final


_PW_KINDS = ("linear", "exponential", "untuned_linear", "untuned_exponential", "radam")


def pytorch_warmup(
    kind: str, *, beta2: float = 0.999, warmup_period: int | None = None
) -> Schedule:
    r"""The warmup factor :math:`\omega_t` of the ``pytorch_warmup`` package, update for update.

    pytorch_warmup multiplies the learning rate of update ``t`` (its step ``t``, counted from 0)
    by :math:`\omega_t`; multiply this schedule onto the lr schedule with ``*`` to get the same
    dampened rates (``pytorch_warmup("radam") * (linear(5%) >> cosine)``).

    - ``linear`` (``LinearWarmup``, ``warmup_period`` :math:`\tau`):
      :math:`\min(1, (t + 1) / \tau)`, i.e. ``linear(tau)``;
    - ``exponential`` (``ExponentialWarmup``): :math:`1 - e^{-(t + 1)/\tau}`
      (:class:`ExpoWarmup`);
    - ``untuned_linear``: ``linear`` with :math:`\tau = \mathrm{int}(2 / (1 - \beta_2))`;
    - ``untuned_exponential``: ``exponential`` with :math:`\tau = \mathrm{int}(1 / (1 - \beta_2))`;
    - ``radam`` (``RAdamWarmup``): RAdam's rectification term, ``radam(beta2)``.

    The untuned periods truncate as pytorch_warmup does: ``int(2 / (1 - 0.999))`` is 1999 and
    ``int(1 / (1 - 0.999))`` is 999 (rampup's own ``untuned`` rounds to 2000 and uses the rate
    ``1 - beta2``). ``beta2`` is Adam's, used by the untuned kinds and ``radam``;
    ``warmup_period`` is required by ``linear`` and ``exponential`` and refused by the others.

    >>> from rampup.core import compat
    >>> compat.pytorch_warmup("untuned_linear", beta2=0.999)
    rampup.parse('linear(1999)')
    """
    func = "pytorch_warmup"
    check_choice(func, "kind", kind, _PW_KINDS)
    b2 = check_number(
        func,
        "beta2",
        beta2,
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        what="Adam's beta2 in (0, 1), e.g. 0.999",
    )
    if kind in ("linear", "exponential"):
        tau = check_steps(func, "warmup_period", warmup_period, low=1, what="a positive int")
        return Linear(tau) if kind == "linear" else ExpoWarmup(tau)
    if warmup_period is not None:
        raise fail(
            func, "warmup_period", warmup_period, f"None: {kind!r} derives its period from beta2"
        )
    period = int((2.0 if kind == "untuned_linear" else 1.0) / (1.0 - b2))
    if kind in ("untuned_linear", "untuned_exponential") and period > MAX_STEPS:
        raise fail(func, "beta2", b2, f"a beta2 whose warmup period {period} is <= 2**53 steps")
    if kind == "untuned_linear":
        return Linear(period)
    if kind == "untuned_exponential":
        return ExpoWarmup(period)
    if not b2 > 0.6:
        raise fail(func, "beta2", b2, "beta2 > 0.6 for 'radam' (RAdam needs rho_inf > 4)")
    return RAdam(b2)
