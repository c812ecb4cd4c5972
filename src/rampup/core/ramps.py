r"""The phases schedules are made of: warmups, holds and decays.

Values are multipliers of the optimizer's own learning rate: the peak is 1.

**Ramps** (``linear``, ``cosine``, ``poly``, ``exp``, ``log``, ``sqrt``) move from ``start`` to
``to`` over ``length`` steps with a shape :math:`f` (:math:`f(0)=0`, :math:`f(1)=1`)::

    value(t) = start + (to - start) * f(u),   u = t / (length - 1)   if endpoint (rises)
                                              u = t / length         otherwise (falls)

A rising ramp (a *warmup*) reaches ``to`` exactly on its last step; a falling ramp (a *decay*)
starts at ``start`` on its first step and reaches ``to`` on the step after its last one, the
value that then holds (``endpoint=`` overrides either). Unspecified endpoints are the peak, 1,
except when both are left out: the first phase of a schedule, when it has a length, is then a
warmup from ``1/length`` to 1 (update ``t`` uses ``(t + 1) / length``: no update at 0); a later
phase, and a ramp without a length (it takes the rest of the run), is a decay from 1 to 0. So a
bare ``cosine`` is a cosine decay everywhere: alone, after ``>>`` and as a factor of ``*``
(``linear(5%) * cosine`` is a warmup factor times a decay over the whole run). See
docs/conventions.md for the table of boundary values.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from rampup.core._checks import check_number, check_optional_number
from rampup.core._errors import RampupError, fail
from rampup.core._fields import grown, length_field, set_field
from rampup.core._ops import Formula, Ops
from rampup.core.kernel import Capped, Make
from rampup.core.schedule import Phase, PhaseContext
from rampup.core.units import Length

__all__ = ["Cosine", "Exp", "Linear", "Log", "Poly", "Ramp", "Sqrt", "linear_warmup"]

_PI = math.pi


def linear_warmup(n: int) -> Make:
    """The default linear warmup of ``n`` steps: update ``t`` uses ``(t + 1) / n``.

    :class:`Linear`'s default, and the formula of every warmup that follows that rule
    (``untuned``, ``auto``): written once, here.
    """
    nf = float(n)
    return lambda xp: lambda t: (t + 1.0) / nf


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=True, repr=False)
class Ramp(Phase):
    """Base of the ramps: a shape from ``start`` to ``to`` over ``length`` steps."""

    length: Length | None = None
    _: KW_ONLY
    start: float | None = None
    to: float | None = None
    endpoint: bool | None = None

    positional: ClassVar[tuple[str, ...]] = ("length",)

    def _validate(self) -> None:
        name = self.spec_name
        set_field(self, "length", length_field(name, self.length))
        set_field(self, "start", check_optional_number(name, "start", self.start))
        set_field(self, "to", check_optional_number(name, "to", self.to))
        if self.endpoint is not None and not isinstance(self.endpoint, bool):
            raise fail(name, "endpoint", self.endpoint, "True, False or None")

    def _endpoints(self, n: int, pc: PhaseContext) -> tuple[float, float, bool, bool]:
        """``(start, to, endpoint, default_warmup)`` for a ramp of ``n`` steps at ``pc``.

        With neither endpoint given, only a first phase with its own length is a warmup: a ramp
        that takes the rest of the run (no length) is a decay wherever it stands, so a bare
        ``cosine`` means the same alone, after ``>>`` and in a product.
        """
        if self.start is None and self.to is None:
            if pc.index == 0 and self.length is not None:
                a, b, default_warmup = 1.0 / n, 1.0, True
            else:
                a, b, default_warmup = 1.0, 0.0, False
        else:
            a = 1.0 if self.start is None else self.start
            b = 1.0 if self.to is None else self.to
            default_warmup = False
        endpoint = (b > a) if self.endpoint is None else self.endpoint
        return a, b, endpoint, default_warmup

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        if length is None:
            raise RampupError(
                f"{self}: a {self.spec_name} ramp needs a length (or total_steps to take the"
                " rest of the run)"
            )
        a, b, endpoint, default_warmup = self._endpoints(length, pc)
        self._check_endpoints(a, b)
        den = float(length - 1 if endpoint else length)
        if den == 0:  # a one-step ramp with endpoint: its only step is its last
            return (lambda xp: lambda t: 0.0 * t + b), b
        make = self._shape(a, b, den, b > a, default_warmup, length)
        if not endpoint:
            return make, b
        # With an endpoint the ramp is at ``to`` from local step den = length - 1 on; a
        # fractional step between den and length (a slowed clock, a plot) holds it there.
        return Capped(make, den), b

    def _check_endpoints(self, a: float, b: float) -> None:
        """Shapes with extra requirements on the endpoints override this."""

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        raise NotImplementedError


@dataclass(frozen=True, eq=True, repr=False)
class Linear(Ramp):
    r"""Linear ramp: :math:`f(u) = u`.

    As a first phase with a length (the default warmup) update ``t`` uses ``(t + 1) / length``:
    the classic recipes' "iteration i uses i * peak / n". As a decay from ``start`` to ``to``:
    :math:`to + (start - to)\,(D - t) / D`.

    >>> from rampup import linear
    >>> [linear(4)(t) for t in range(5)]
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    spec_name: ClassVar[str] = "linear"

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        if default_warmup:
            return linear_warmup(n)
        if rising:
            return lambda xp: lambda t: a + (b - a) * (t / den)
        return lambda xp: lambda t: b + (a - b) * ((den - t) / den)


@dataclass(frozen=True, eq=True, repr=False)
class Cosine(Ramp):
    r"""Half-cosine ramp: :math:`f(u) = (1 - \cos \pi u) / 2`.

    As a decay: :math:`to + (start - to) \cdot \tfrac12 (1 + \cos(\pi t / D))` (SGDR, Loshchilov &
    Hutter 2017), the value of torch's CosineAnnealingLR and HF's cosine schedule.
    """

    spec_name: ClassVar[str] = "cosine"

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        d = b - a if rising else a - b
        base = a if rising else b

        def make(xp: Ops) -> Formula:
            cos, pi = xp.cos, _PI  # bound once: locals are the fast path
            if rising:
                return lambda t: base + d * (0.5 * (1.0 - cos(pi * (t / den))))
            return lambda t: base + d * (0.5 * (1.0 + cos(pi * (t / den))))

        return make


@dataclass(frozen=True, eq=True, repr=False)
class Poly(Ramp):
    r"""Polynomial ramp of degree ``power``.

    Rising: :math:`start + (to - start)\,u^{p}`; falling (HF's polynomial decay):
    :math:`to + (start - to)(1 - u)^{p}`.
    """

    _: KW_ONLY
    power: float = 1.0
    spec_name: ClassVar[str] = "poly"

    def _validate(self) -> None:
        super()._validate()
        set_field(self, "power", check_number("poly", "power", self.power, low=0.0, low_open=True))

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        p = self.power
        if rising:
            return lambda xp: lambda t: a + (b - a) * xp.float_power(t / den, p)
        # clamped at 0: with endpoint=True a fractional step after the last one has u > 1
        return lambda xp: lambda t: b + (a - b) * xp.float_power(xp.maximum(1.0 - t / den, 0.0), p)


@dataclass(frozen=True, eq=True, repr=False)
class Sqrt(Ramp):
    r"""Square-root ramp: :math:`f(u) = \sqrt{u}`.

    Falling, it is the "1-sqrt" cooldown of Hägele et al. 2024:
    :math:`to + (start - to)(1 - \sqrt{t / D})`.
    """

    spec_name: ClassVar[str] = "sqrt"

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        if rising:
            return lambda xp: lambda t: a + (b - a) * xp.sqrt(t / den)
        return lambda xp: lambda t: b + (a - b) * (1.0 - xp.sqrt(t / den))


@dataclass(frozen=True, eq=True, repr=False)
class Log(Ramp):
    r"""Logarithmic ramp (DeepSpeed's ``warmup_type="log"``): :math:`f = \log(t+1) / \log(d+1)`.

    With ``d = length - 1`` for a warmup: fast at first, then slower.
    """

    spec_name: ClassVar[str] = "log"

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        log_den = math.log(den + 1.0)
        if rising:
            return lambda xp: lambda t: a + (b - a) * (xp.log(t + 1.0) / log_den)
        return lambda xp: lambda t: b + (a - b) * (1.0 - xp.log(t + 1.0) / log_den)


@dataclass(frozen=True, eq=True, repr=False)
class Exp(Ramp):
    r"""Exponential (geometric) ramp: :math:`start \cdot (to / start)^{u}`.

    The classic recipes' exponential warmup :math:`\eta \gamma^{W - t}` is the rising form. With
    ``gamma`` instead of ``to`` it is torch's ExponentialLR, open-ended:
    :math:`start \cdot \gamma^{t}`.
    Both endpoints must be positive.
    """

    _: KW_ONLY
    gamma: float | None = None
    spec_name: ClassVar[str] = "exp"
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        super()._validate()
        for name in ("start", "to"):  # a geometric ramp cannot start or end at 0
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise fail("exp", name, value, "a value > 0 (a geometric ramp never reaches 0)")
        if self.gamma is not None:
            set_field(
                self,
                "gamma",
                check_number(
                    "exp", "gamma", self.gamma, low=0.0, low_open=True, what="a factor > 0"
                ),
            )
            if self.to is not None:
                raise fail("exp", "gamma", self.gamma, "either gamma or to, not both")
            if self.endpoint is not None:
                raise fail("exp", "endpoint", self.endpoint, "no endpoint with gamma")

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        if self.gamma is None:
            return super()._formula(length, pc)
        a = 1.0 if self.start is None else self.start
        g = self.gamma
        final = grown("exp", "gamma", g, a, length)
        return (lambda xp: lambda t: a * xp.float_power(g, t)), final

    def _check_endpoints(self, a: float, b: float) -> None:
        if a <= 0 or b <= 0:
            raise fail("exp", "start" if a <= 0 else "to", a if a <= 0 else b, "a value > 0")

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        # a**(1 - u) * b**u rather than a * (b / a)**u: exactly a at u = 0 and b at u = 1
        return lambda xp: lambda t: xp.float_power(a, 1.0 - t / den) * xp.float_power(b, t / den)
