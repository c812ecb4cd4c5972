r"""Warmups given by a rule: the Transformer's (noam), the untuned warmup, RAdam's rectifier.

Each is defined by constants of the model or the optimizer (``d_model``, Adam's ``beta2``), not
by a length: :func:`untuned_steps` is the one place the untuned rule
:math:`W = \mathrm{round}(2 / (1 - \beta_2))` is written.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import fail
from rampup.core._fields import set_field
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.kernel import Make
from rampup.core.ramps import linear_warmup
from rampup.core.schedule import Phase, PhaseContext
from rampup.core.units import MAX_STEPS, Length, Span, parse_length

__all__ = ["Noam", "RAdam", "Untuned", "untuned_steps"]


@dataclass(frozen=True, eq=True, repr=False)
class Noam(Phase):
    r"""The Transformer schedule (Vaswani et al. 2017), in absolute learning rates.

    .. math:: \eta(t) = factor \cdot d_{model}^{-1/2} \cdot \min(n^{-1/2}, n \cdot W^{-3/2}),
              \quad n = t + 1

    Update ``t`` uses ``n = t + 1``, so the first update is not at 0 and the peak
    :math:`factor \cdot (d_{model} W)^{-1/2}` is used by update ``W - 1``. Open-ended.

    >>> from rampup import noam
    >>> round(noam(d_model=128, warmup=4000)(3999), 8)
    0.00139754
    """

    _: KW_ONLY
    d_model: float = 512.0
    warmup: Length = 4000
    factor: float = 1.0
    spec_name: ClassVar[str] = "noam"
    positional: ClassVar[tuple[str, ...]] = ()
    open_ended: ClassVar[bool] = True

    def _length_span(self) -> Span | None:
        return None

    def _validate(self) -> None:
        d = check_number("noam", "d_model", self.d_model, low=0, low_open=True)
        set_field(self, "d_model", int(d) if d == int(d) and d <= MAX_STEPS else d)
        span = parse_length("noam", "warmup", self.warmup)
        set_field(self, "warmup", int(span.amount) if span.is_absolute else str(span))
        set_field(self, "factor", check_number("noam", "factor", self.factor, low=0, low_open=True))
        if not math.isfinite(self.factor * self.d_model**-0.5):
            raise fail(
                "noam",
                "factor",
                self.factor,
                f"a factor with factor / sqrt(d_model={self.d_model!r}) finite",
            )

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        w = pc.run.steps("noam", "warmup", parse_length("noam", "warmup", self.warmup))
        c = self.factor * (self.d_model**-0.5)
        w15 = w**-1.5
        final = math.nan if length is None else c * min((length + 1) ** -0.5, (length + 1) * w15)

        def make(xp: Ops) -> Formula:
            pw = xp.float_power  # Python's ``**`` on floats is this same libm pow
            return lambda t: c * xp.minimum(pw(t + 1.0, -0.5), (t + 1.0) * w15)

        return make, final


def untuned_steps(beta2: float) -> int:
    r"""The untuned warmup's length in steps for Adam's ``beta2`` (Ma & Yarats 2019).

    .. math:: W = \max\big(1, \mathrm{round}(2 / (1 - \beta_2))\big)

    The warmup lasts about as long as Adam's second-moment average needs to
    settle. The one place the rule is written (``untuned``, ``auto`` and the lab use it).

    >>> untuned_steps(0.999), untuned_steps(0.98)
    (2000, 100)
    """
    return max(1, round(2.0 / (1.0 - beta2)))


def _check_beta2(func: str, beta2: object) -> float:
    return check_number(
        func, "beta2", beta2, low=0.0, high=1.0, low_open=True, high_open=True,
        what="Adam's beta2 in (0, 1), e.g. 0.999",
    )  # fmt: skip


@dataclass(frozen=True, eq=True, repr=False)
class Untuned(Phase):
    r"""Untuned warmup from Adam's ``beta2`` (Ma & Yarats 2019).

    ``shape="linear"``: a linear warmup over :math:`\mathrm{round}(2 / (1 - \beta_2))` steps
    (2000 for 0.999), update ``t`` using ``(t + 1) / W``. ``shape="exp"``: the open-ended factor
    :math:`1 - \exp(-(1 - \beta_2)(t + 1))`, best multiplied onto a schedule with ``*``.
    """

    beta2: float = 0.999
    _: KW_ONLY
    shape: str = "linear"
    spec_name: ClassVar[str] = "untuned"
    positional: ClassVar[tuple[str, ...]] = ("beta2",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        set_field(self, "beta2", _check_beta2("untuned", self.beta2))
        check_choice("untuned", "shape", self.shape, ("linear", "exp"))
        if self.shape == "linear" and self.warmup_steps > MAX_STEPS:
            raise fail(
                "untuned",
                "beta2",
                self.beta2,
                "beta2 <= 1 - 2**-52 (its warmup round(2 / (1 - beta2)) of at most 2**53 steps)",
            )

    @property
    def warmup_steps(self) -> int:
        """The rule's warmup length in steps: round(2 / (1 - beta2)) (linear shape)."""
        return untuned_steps(self.beta2)

    def _length_span(self) -> Span | None:
        if self.shape == "exp":
            return None
        return Span(float(self.warmup_steps), "steps")

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        if self.shape == "linear":
            return linear_warmup(self.warmup_steps), 1.0
        rate = 1.0 - self.beta2
        # 1 - exp(-x) written as -expm1(-x): no cancellation while the factor is small
        final = math.nan if length is None else -math.expm1(-rate * (length + 1))
        return (lambda xp: lambda t: -xp.expm1(-rate * (t + 1.0))), final


@dataclass(frozen=True, eq=True, repr=False)
class RAdam(Phase):
    r"""RAdam's variance rectification term as a warmup factor (Liu et al. 2019).

    .. math:: \rho_\infty = \frac{2}{1-\beta_2} - 1,\quad
              \rho_n = \rho_\infty - \frac{2 n \beta_2^n}{1 - \beta_2^n},\quad
              r_n = \sqrt{\frac{(\rho_n - 4)(\rho_n - 2)\rho_\infty}
                               {(\rho_\infty - 4)(\rho_\infty - 2)\rho_n}}

    RAdam itself skips the updates where :math:`\rho_n \le 4` (the rectifier is undefined
    there). As a warmup factor, update ``t`` uses :math:`r_{t + \delta}` with :math:`\delta` the
    first ``n`` where :math:`\rho_n > 4` (as pytorch_warmup's RAdamWarmup), so no update is at 0.
    Needs :math:`\beta_2 > 0.6` (otherwise :math:`\rho_\infty \le 4`). Open-ended, tends to 1.
    """

    beta2: float = 0.999
    spec_name: ClassVar[str] = "radam"
    positional: ClassVar[tuple[str, ...]] = ("beta2",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        b2 = _check_beta2("radam", self.beta2)
        if not b2 > 0.6:
            raise fail("radam", "beta2", b2, "beta2 > 0.6 (RAdam needs rho_inf > 4)")
        set_field(self, "beta2", b2)

    @property
    def offset(self) -> int:
        r"""The first ``n`` (1-based) at which :math:`\rho_n > 4`."""
        b2 = self.beta2
        rho_inf = 2.0 / (1 - b2) - 1
        n = 1
        while rho_inf - 2 * n * b2**n / (1 - b2**n) <= 4:
            n += 1
        return n

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        b2 = self.beta2
        rho_inf = 2.0 / (1 - b2) - 1
        delta = float(self.offset)
        den_const = (rho_inf - 4) * (rho_inf - 2)

        def make(xp: Ops) -> Formula:
            def f(t: Any) -> Any:
                n = t + delta
                # float_power: numpy's SIMD power can differ from libm's by an ulp, which the
                # rectifier's cancellation near rho = 4 would magnify; float_power is libm's pow
                b2t = xp.float_power(b2, n)
                rho = rho_inf - 2 * (n * b2t) / (1 - b2t)  # 2 * (n * b): no inf * 0 at huge n
                return xp.sqrt((rho - 4) * (rho - 2) * rho_inf / (den_const * rho))

            return f

        final = math.nan if length is None else float(make(SCALAR)(float(length)))
        return make, final
