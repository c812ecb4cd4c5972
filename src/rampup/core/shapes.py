r"""The phases schedules are made of: warmups, holds and decays, by family.

- :mod:`~rampup.core.ramps`: ``linear``, ``cosine``, ``poly``, ``sqrt``, ``log``, ``exp``,
  from ``start`` to ``to`` over a length (the conventions of their boundary values are there);
- here: the holds, step decays and cycles: ``constant``, ``step``, ``multistep``, ``invsqrt``,
  ``restarts``, ``onecycle``;
- :mod:`~rampup.core.warmups`: the warmups given by a rule: ``noam``, ``untuned``, ``radam``.

Every shape is importable from here (``rampup.core.shapes.Cosine``). Each writes its formula once,
as a factory ``make(xp)`` that the per-step, numpy and jax paths all call. Values are multipliers
of the optimizer's own learning rate: the peak is 1.

>>> from rampup import step
>>> [step(2, gamma=0.5)(t) for t in range(5)]
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from itertools import pairwise
from typing import Any, ClassVar

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import RampupError, fail
from rampup.core._fields import grown, length_field, set_field
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.kernel import Make
from rampup.core.ramps import Cosine, Exp, Linear, Log, Poly, Ramp, Sqrt
from rampup.core.schedule import Context, Phase, PhaseContext
from rampup.core.units import MAX_STEPS, Length, parse_length
from rampup.core.warmups import Noam, RAdam, Untuned, untuned_steps

__all__ = [
    "CLOCK_TOP",
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

#: The last step a formula with growing powers (restarts with ``mult``) tells apart: 2**64,
#: beyond 10**19 updates. Later steps take its value, so powers such as ``mult**i`` stay finite.
CLOCK_TOP = 2.0**64


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
        set_field(self, "length", length_field("constant", self.length))
        set_field(self, "value", check_number("constant", "value", self.value, low=0.0))

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
        set_field(self, "every", int(span.amount) if span.is_absolute else str(span))
        set_field(self, "gamma", check_number("step", "gamma", self.gamma, low=0.0))
        set_field(self, "length", length_field("step", self.length))
        set_field(self, "start", check_number("step", "start", self.start, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        every = float(pc.run.steps("step", "every", parse_length("step", "every", self.every)))
        a, g = self.start, self.gamma
        final = grown("step", "gamma", g, a, None if length is None else length // every)
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
        set_field(
            self, "milestones", tuple(int(s.amount) if s.is_absolute else str(s) for s in spans)
        )
        set_field(self, "gamma", check_number("multistep", "gamma", self.gamma, low=0.0))
        set_field(self, "length", length_field("multistep", self.length))
        set_field(self, "start", check_number("multistep", "start", self.start, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        ms = [
            pc.run.steps("multistep", "milestones", parse_length("multistep", "milestones", m))
            for m in self.milestones
        ]
        if any(b <= a for a, b in pairwise(ms)):
            raise fail("multistep", "milestones", self.milestones, "strictly increasing steps")
        a, g = self.start, self.gamma
        grown("multistep", "gamma", g, a, len(ms))  # the largest power used
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
        set_field(self, "length", length_field("invsqrt", self.length))
        if self.timescale is not None:
            span = parse_length("invsqrt", "timescale", self.timescale)
            set_field(self, "timescale", int(span.amount) if span.is_absolute else str(span))
        set_field(self, "start", check_number("invsqrt", "start", self.start, low=0.0))

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
        set_field(self, "length", length_field("restarts", self.length))
        if (self.period is None) == (self.cycles is None):
            raise fail("restarts", "period", self.period, "exactly one of period or cycles")
        if self.period is not None:
            span = parse_length("restarts", "period", self.period)
            set_field(self, "period", int(span.amount) if span.is_absolute else str(span))
        if self.cycles is not None:
            set_field(
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
        set_field(self, "mult", check_number("restarts", "mult", self.mult, low=1.0))
        if isinstance(self.period, int) and self.mult * self.period > MAX_STEPS:
            self._formula(None, PhaseContext(Context(), 0, 0))  # raises: mult is too large
        set_field(self, "decay", check_number("restarts", "decay", self.decay, low=0.0))
        set_field(self, "to", check_number("restarts", "to", self.to, low=0.0))
        set_field(self, "start", check_number("restarts", "start", self.start, low=0.0))

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        a, b, d, m = self.start, self.to, self.decay, self.mult
        if self.cycles is not None:
            if length is None:
                raise RampupError(f"{self}: cycles= needs the phase's length (or total_steps)")
            c, n = self.cycles, float(length)
            grown("restarts", "decay", d, a, math.floor(c * ((n - 1.0) / n)))

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
            grown("restarts", "decay", d, a, None if length is None else (length - 1) // p)

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
        grown("restarts", "decay", d, a, last)

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
        set_field(self, "length", length_field("onecycle", self.length))
        set_field(
            self,
            "peak_at",
            check_number("onecycle", "peak_at", self.peak_at, low=0, high=1, low_open=True),
        )
        set_field(self, "div", check_number("onecycle", "div", self.div, low=0, low_open=True))
        if not math.isfinite(1.0 / self.div):
            raise fail("onecycle", "div", self.div, "a divisor whose inverse 1/div is finite")
        set_field(
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
