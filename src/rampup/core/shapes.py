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
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from itertools import pairwise
from typing import Any, ClassVar

from rampup.core._checks import check_choice, check_number, check_optional_number
from rampup.core._errors import RampupError, fail
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.kernel import Capped
from rampup.core.schedule import Context, Phase, PhaseContext
from rampup.core.units import MAX_STEPS, Length, Span, parse_length

__all__ = [
    "Constant",
    "Cosine",
    "Exp",
    "InvSqrt",
    "Linear",
    "Log",
    "MultiStep",
    "Noam",
    "OneCycle",
    "Poly",
    "RAdam",
    "Ramp",
    "Restarts",
    "Sqrt",
    "Step",
    "Untuned",
    "untuned_steps",
]

_PI = math.pi
Make = Callable[[Ops], Formula]

#: The last step a formula with growing powers (restarts with ``mult``) tells apart: 2**64,
#: beyond 10**19 updates. Later steps take its value, so powers such as ``mult**i`` stay finite.
CLOCK_TOP = 2.0**64


def _length_field(func: str, value: object) -> Length | None:
    """Normalise a length to its canonical form (int steps, or '5%' / '2ep')."""
    if value is None:
        return None
    span = parse_length(func, "length", value)
    return int(span.amount) if span.unit == "steps" else str(span)


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _grown(func: str, param: str, factor: float, start: float, times: float | None) -> float:
    """``start * factor**times``: the value a geometric phase reaches, checked to stay finite.

    ``times=None`` is an open-ended phase: a factor above 1 would grow without bound (and overflow
    at large steps), so it needs a length; the result is then NaN (no final value).
    """
    if times is None:
        if factor > 1:
            raise fail(func, param, factor, "a factor <= 1, or a length: it grows without bound")
        return math.nan
    try:
        value = float(start * factor**times)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise fail(func, param, factor, f"a factor whose power {times:g} stays finite")
    return value


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
        _set(self, "length", _length_field(name, self.length))
        _set(self, "start", check_optional_number(name, "start", self.start))
        _set(self, "to", check_optional_number(name, "to", self.to))
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
            nf = float(n)
            return lambda xp: lambda t: (t + 1.0) / nf
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
        _set(self, "power", check_number("poly", "power", self.power, low=0.0, low_open=True))

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
            _set(
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
        final = _grown("exp", "gamma", g, a, length)
        return (lambda xp: lambda t: a * xp.float_power(g, t)), final

    def _check_endpoints(self, a: float, b: float) -> None:
        if a <= 0 or b <= 0:
            raise fail("exp", "start" if a <= 0 else "to", a if a <= 0 else b, "a value > 0")

    def _shape(
        self, a: float, b: float, den: float, rising: bool, default_warmup: bool, n: int
    ) -> Make:
        # a**(1 - u) * b**u rather than a * (b / a)**u: exactly a at u = 0 and b at u = 1
        return lambda xp: lambda t: xp.float_power(a, 1.0 - t / den) * xp.float_power(b, t / den)


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=True, repr=False)
class Constant(Phase):
    """Hold ``value`` for ``length`` steps (for ever when last and no length).

    ``constant(500, 0.1) >> cosine`` is the classic constant warmup (He et al. 2016): a low factor,
    then a jump.
    """

    length: Length | None = None
    value: float = 1.0
    spec_name: ClassVar[str] = "constant"
    positional: ClassVar[tuple[str, ...]] = ("length", "value")
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        _set(self, "length", _length_field("constant", self.length))
        _set(self, "value", check_number("constant", "value", self.value, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        v = self.value
        return (lambda xp: lambda t: 0.0 * t + v), v


@dataclass(frozen=True, eq=True, repr=False)
class Step(Phase):
    r"""Step decay: :math:`start \cdot \gamma^{\lfloor t / every \rfloor}` (torch's StepLR)."""

    every: Length = 1
    _: KW_ONLY
    gamma: float = 0.1
    length: Length | None = None
    start: float = 1.0
    spec_name: ClassVar[str] = "step"
    positional: ClassVar[tuple[str, ...]] = ("every",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        span = parse_length("step", "every", self.every)
        _set(self, "every", int(span.amount) if span.is_absolute else str(span))
        _set(self, "gamma", check_number("step", "gamma", self.gamma, low=0.0))
        _set(self, "length", _length_field("step", self.length))
        _set(self, "start", check_number("step", "start", self.start, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        every = float(pc.run.steps("step", "every", parse_length("step", "every", self.every)))
        a, g = self.start, self.gamma
        final = _grown("step", "gamma", g, a, None if length is None else length // every)
        return (lambda xp: lambda t: a * xp.float_power(g, xp.floor(t / every))), final


@dataclass(frozen=True, eq=True, repr=False)
class MultiStep(Phase):
    r""":math:`start \cdot \gamma^{k}`, k = milestones passed (torch's MultiStepLR)."""

    milestones: Sequence[Length] = ()
    _: KW_ONLY
    gamma: float = 0.1
    length: Length | None = None
    start: float = 1.0
    spec_name: ClassVar[str] = "multistep"
    positional: ClassVar[tuple[str, ...]] = ("milestones",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        ms: object = self.milestones
        if isinstance(ms, list):
            ms = tuple(ms)
        if not isinstance(ms, tuple) or not ms:
            raise fail("multistep", "milestones", ms, "a non-empty list of lengths")
        spans = [parse_length("multistep", "milestones", m) for m in ms]
        _set(self, "milestones", tuple(int(s.amount) if s.is_absolute else str(s) for s in spans))
        _set(self, "gamma", check_number("multistep", "gamma", self.gamma, low=0.0))
        _set(self, "length", _length_field("multistep", self.length))
        _set(self, "start", check_number("multistep", "start", self.start, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        ms = [
            pc.run.steps("multistep", "milestones", parse_length("multistep", "milestones", m))
            for m in self.milestones
        ]
        if any(b <= a for a, b in pairwise(ms)):
            raise fail("multistep", "milestones", self.milestones, "strictly increasing steps")
        a, g = self.start, self.gamma
        _grown("multistep", "gamma", g, a, len(ms))  # the largest power used
        final = math.nan if length is None else a * g ** bisect_right(ms, length)
        fms = [float(m) for m in ms]

        def make(xp: Ops) -> Formula:
            if xp is SCALAR:
                return lambda t: a * g ** bisect_right(fms, t)
            return lambda t: a * xp.float_power(g, sum((t >= m) * 1.0 for m in fms))

        return make, final


@dataclass(frozen=True, eq=True, repr=False)
class InvSqrt(Phase):
    r"""Inverse square root decay: :math:`start / \sqrt{(t + \tau) / \tau}`.

    ``timescale`` :math:`\tau` defaults to the length of the warmup before it, which makes it
    continuous with the warmup's peak (HF's ``get_inverse_sqrt_schedule``).
    """

    length: Length | None = None
    _: KW_ONLY
    timescale: Length | None = None
    start: float = 1.0
    spec_name: ClassVar[str] = "invsqrt"
    positional: ClassVar[tuple[str, ...]] = ("length",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        _set(self, "length", _length_field("invsqrt", self.length))
        if self.timescale is not None:
            span = parse_length("invsqrt", "timescale", self.timescale)
            _set(self, "timescale", int(span.amount) if span.is_absolute else str(span))
        _set(self, "start", check_number("invsqrt", "start", self.start, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        if self.timescale is None:
            if pc.offset == 0:
                raise RampupError(
                    f"{self}: no warmup precedes it to set the timescale: give"
                    " invsqrt(timescale=...) in steps"
                )
            ts = float(pc.offset)
        else:
            ts = float(
                pc.run.steps(
                    "invsqrt", "timescale", parse_length("invsqrt", "timescale", self.timescale)
                )
            )
        a = self.start
        final = math.nan if length is None else a * (1.0 / math.sqrt((length + ts) / ts))
        return (lambda xp: lambda t: a * (1.0 / xp.sqrt((t + ts) / ts))), final


@dataclass(frozen=True, eq=True, repr=False)
class Restarts(Phase):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    Cycle ``i`` lasts :math:`P m^i` steps and falls from :math:`start \cdot decay^{i}` to ``to``
    along a half cosine. Give ``period`` (a length) or ``cycles`` (how many equal cycles fill the
    phase's length, possibly fractional: HF's hard restarts; at most 2**53). After its length
    it holds ``to``.

    ``mult`` is at most ``2**53 / P``: the second cycle, of :math:`P m` steps, must end within a
    run rampup can count. With growing cycles the clock stops at step 2**64
    (:data:`CLOCK_TOP`, far beyond any run): later steps take its value, so every step gives a
    finite value and the scalar and vectorised paths agree.
    """

    length: Length | None = None
    _: KW_ONLY
    period: Length | None = None
    cycles: float | None = None
    mult: float = 1.0
    decay: float = 1.0
    to: float = 0.0
    start: float = 1.0
    spec_name: ClassVar[str] = "restarts"
    positional: ClassVar[tuple[str, ...]] = ("length",)
    open_ended: ClassVar[bool] = True

    def _validate(self) -> None:
        _set(self, "length", _length_field("restarts", self.length))
        if (self.period is None) == (self.cycles is None):
            raise fail("restarts", "period", self.period, "exactly one of period or cycles")
        if self.period is not None:
            span = parse_length("restarts", "period", self.period)
            _set(self, "period", int(span.amount) if span.is_absolute else str(span))
        if self.cycles is not None:
            _set(
                self,
                "cycles",
                check_number(
                    "restarts",
                    "cycles",
                    self.cycles,
                    low=0,
                    high=MAX_STEPS,
                    low_open=True,
                    what=f"a number of cycles in (0, 2**53 = {MAX_STEPS}]",
                ),
            )
        _set(self, "mult", check_number("restarts", "mult", self.mult, low=1.0))
        if isinstance(self.period, int) and self.mult * self.period > MAX_STEPS:
            self._formula(None, PhaseContext(Context(), 0, 0))  # raises: mult is too large
        _set(self, "decay", check_number("restarts", "decay", self.decay, low=0.0))
        _set(self, "to", check_number("restarts", "to", self.to, low=0.0))
        _set(self, "start", check_number("restarts", "start", self.start, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        a, b, d, m = self.start, self.to, self.decay, self.mult
        if self.cycles is not None:
            if length is None:
                raise RampupError(f"{self}: cycles= needs the phase's length (or total_steps)")
            c, n = self.cycles, float(length)
            _grown("restarts", "decay", d, a, math.floor(c * ((n - 1.0) / n)))

            def make_cycles(xp: Ops) -> Formula:
                def f(t: Any) -> Any:
                    y = c * t  # the cycle is floor(y / n); y / n can land an ulp off a whole
                    i = xp.floor(y / n)  # number (XLA divides by a reciprocal), so correct it
                    i = xp.where((i + 1.0) * n <= y, i + 1.0, i)
                    i = xp.where(i * n > y, i - 1.0, i)
                    peak = a * xp.float_power(d, i)
                    return b + (peak - b) * (0.5 * (1.0 + xp.cos(_PI * ((y - i * n) / n))))

                return f

            return make_cycles, b
        period = parse_length("restarts", "period", self.period)  # set: _validate checked
        p = float(pc.run.steps("restarts", "period", period))
        if m * p > MAX_STEPS:
            raise fail(
                "restarts",
                "mult",
                m,
                f"a factor of at most 2**53 / period = {MAX_STEPS / p:g} (period = {p:g} steps):"
                " a second cycle longer than 2**53 steps never ends",
            )
        if m == 1.0:
            _grown("restarts", "decay", d, a, None if length is None else (length - 1) // p)

            def make_fixed(xp: Ops) -> Formula:
                def f(t: Any) -> Any:
                    peak = a * xp.float_power(d, xp.floor(t / p))
                    return b + (peak - b) * (0.5 * (1.0 + xp.cos(_PI * ((t % p) / p))))

                return f

            return make_fixed, b
        log_m = math.log(m)

        def cycle(xp: Ops, t: Any) -> tuple[Any, Any]:
            """The cycle ``i`` containing ``t`` (at most :data:`CLOCK_TOP`) and where it begins."""
            i = xp.floor(xp.log(1.0 + t * (m - 1.0) / p) / log_m)
            # The logarithm can land an ulp off a whole number at a cycle's first step (e.g.
            # log(243) / log(3) < 5): the cycle is the one whose begin t has reached.
            pw = xp.float_power
            i = xp.where(t >= p * (pw(m, i + 1.0) - 1.0) / (m - 1.0), i + 1.0, i)
            i = xp.where(t < p * (pw(m, i) - 1.0) / (m - 1.0), i - 1.0, i)
            return i, p * (pw(m, i) - 1.0) / (m - 1.0)

        last = None if length is None else cycle(SCALAR, float(length - 1))[0]
        _grown("restarts", "decay", d, a, last)

        def make_growing(xp: Ops) -> Formula:
            minimum = xp.minimum

            def f(t: Any) -> Any:
                # beyond CLOCK_TOP m**i would overflow: the clock stops there (t + 0.0: an int
                # step beyond the float range is refused, as by the other open-ended shapes)
                t = minimum(t + 0.0, CLOCK_TOP)
                i, begin = cycle(xp, t)
                u = (t - begin) / (p * xp.float_power(m, i))
                return b + (a * xp.float_power(d, i) - b) * (0.5 * (1.0 + xp.cos(_PI * u)))

            return f

        return make_growing, b


@dataclass(frozen=True, eq=True, repr=False)
class OneCycle(Phase):
    r"""The one-cycle policy (Smith & Topor 2017), with torch's OneCycleLR boundaries.

    From ``1/div`` up to the peak 1 at step ``peak_at * length - 1``, then down to
    ``1/(div * final_div)`` at the last step ``length - 1`` (``anneal`` ``"cos"`` or
    ``"linear"``); ``three_phase`` first returns to ``1/div`` at ``2 * peak_at * length - 2``.
    """

    length: Length | None = None
    _: KW_ONLY
    peak_at: float = 0.3
    div: float = 25.0
    final_div: float = 1e4
    anneal: str = "cos"
    three_phase: bool = False
    spec_name: ClassVar[str] = "onecycle"
    positional: ClassVar[tuple[str, ...]] = ("length",)

    def _validate(self) -> None:
        _set(self, "length", _length_field("onecycle", self.length))
        _set(
            self,
            "peak_at",
            check_number("onecycle", "peak_at", self.peak_at, low=0, high=1, low_open=True),
        )
        _set(self, "div", check_number("onecycle", "div", self.div, low=0, low_open=True))
        if not math.isfinite(1.0 / self.div):
            raise fail("onecycle", "div", self.div, "a divisor whose inverse 1/div is finite")
        _set(
            self,
            "final_div",
            check_number("onecycle", "final_div", self.final_div, low=0, low_open=True),
        )
        if not math.isfinite(1.0 / self.div / self.final_div):
            raise fail(
                "onecycle", "final_div", self.final_div, "a divisor with 1/(div * final_div) finite"
            )
        check_choice("onecycle", "anneal", self.anneal, ("cos", "linear"))
        if not isinstance(self.three_phase, bool):
            raise fail("onecycle", "three_phase", self.three_phase, "True or False")

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        if length is None:
            raise RampupError(f"{self}: onecycle needs a length (or total_steps)")
        initial = 1.0 / self.div
        low = initial / self.final_div
        up = float(self.peak_at * length) - 1
        if self.three_phase:
            segments = [(up, initial, 1.0), (2 * up, 1.0, initial), (length - 1.0, initial, low)]
        else:
            segments = [(up, initial, 1.0), (length - 1.0, 1.0, low)]
        ends = [e for e, _, _ in segments]
        if any(b <= a for a, b in pairwise([0.0, *ends])):
            raise fail(
                "onecycle", "length", self.length, "enough steps for every part of the cycle"
            )
        cos = self.anneal == "cos"

        def make(xp: Ops) -> Formula:
            def part(t: Any, lo: float, hi: float, s: float, e: float) -> Any:
                pct = (t - lo) / (hi - lo)
                if cos:
                    return e + (s - e) / 2.0 * (xp.cos(_PI * pct) + 1)
                return (e - s) * pct + s

            if xp is SCALAR:

                def f(t: Any) -> Any:
                    lo = 0.0
                    for i, (hi, s, e) in enumerate(segments):
                        if t <= hi or i == len(segments) - 1:
                            return part(t, lo, hi, s, e)
                        lo = hi
                    return low

                return f

            def g(t: Any) -> Any:
                out = part(t, ends[-2], ends[-1], segments[-1][1], segments[-1][2])
                for k in range(len(segments) - 2, -1, -1):
                    lo = 0.0 if k == 0 else ends[k - 1]
                    hi, s, e = segments[k]
                    out = xp.where(t <= hi, part(t, lo, hi, s, e), out)
                return out

            return g

        return make, low


# ------------------------------------------------------------------------------------------------
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
        _set(self, "d_model", int(d) if d == int(d) and d <= MAX_STEPS else d)
        span = parse_length("noam", "warmup", self.warmup)
        _set(self, "warmup", int(span.amount) if span.is_absolute else str(span))
        _set(self, "factor", check_number("noam", "factor", self.factor, low=0, low_open=True))
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
        _set(self, "beta2", _check_beta2("untuned", self.beta2))
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
            n = float(self.warmup_steps)
            return (lambda xp: lambda t: (t + 1.0) / n), 1.0
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
        _set(self, "beta2", b2)

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
