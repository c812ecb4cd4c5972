r"""Compatibility: the peers' own curves (HF transformers, torch, timm, pytorch_warmup), exactly.

Each function returns an ordinary rampup schedule whose values equal the peer's for the same
configuration, conventions included (a step-0 learning rate of 0, a peak one step late, a cosine
that never reaches its peak, ...), so a user can switch to rampup without their training changing.
The values are multipliers of the optimizer's own learning rate, as everywhere in rampup.

Where the peer runs on after the end of its run (HF's cosine rising again, torch's cosine
annealing turning back up), the rampup schedule holds its final value instead: within the run the
curves are the same; past it rampup never rises again.

The four constructors, each also a name of the spec language:

- :func:`transformers` -- HF transformers' ``get_*_schedule_with_warmup`` family;
- :func:`torch_sequential` -- ``SequentialLR(LinearLR | ConstantLR, CosineAnnealingLR)``;
- :func:`timm_cosine` -- timm's ``CosineLRScheduler`` stepped per update;
- :func:`pytorch_warmup` -- the warmup factors of the ``pytorch_warmup`` package.

Four peer conventions have no equivalent among rampup's shapes and are defined here as phases
(spec names in brackets): :class:`HFCosine` (``hf_cosine``: HF's cosine with ``num_cycles``),
:class:`HFSqrtWarmup` (``hf_sqrt_warmup``: HF's "1-sqrt" warmup), :class:`TimmDecay`
(``timm_decay``: timm's cosine cycles, on the global step by default) and :class:`ExpoWarmup`
(``expo_warmup``: pytorch_warmup's exponential factor). Everything else is built from the
ordinary shapes, so the schedules print, compare and compose like any other.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import RampupError, fail
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.schedule import Chain, Phase, PhaseContext, Schedule
from rampup.core.shapes import (
    CLOCK_TOP,
    Constant,
    Cosine,
    InvSqrt,
    Linear,
    Poly,
    RAdam,
    Restarts,
    Sqrt,
)
from rampup.core.units import MAX_STEPS, Length, parse_length

__all__ = [
    "ExpoWarmup",
    "HFCosine",
    "HFSqrtWarmup",
    "TimmDecay",
    "pytorch_warmup",
    "timm_cosine",
    "torch_sequential",
    "transformers",
]

_PI = math.pi
Make = Callable[[Ops], Formula]


def _check_int(func: str, param: str, value: object, *, low: int, what: str = "") -> int:
    """Return ``value`` if it is an int (not a bool) in ``[low, 2**53]`` (a count of steps)."""
    expected = (what or f"an int >= {low}") + f" and <= 2**53 = {MAX_STEPS}"
    if isinstance(value, bool):
        raise fail(func, param, value, expected)
    try:
        n = operator.index(value)  # type: ignore[arg-type]  # any integral type is accepted
    except TypeError:
        raise fail(func, param, value, expected) from None
    if not low <= n <= MAX_STEPS:
        raise fail(func, param, value, expected)
    return n


def _length(func: str, value: object) -> Length | None:
    """A phase length in its canonical form (int steps, or '5%' / '2ep'), or None."""
    if value is None:
        return None
    span = parse_length(func, "length", value)
    return int(span.amount) if span.is_absolute else str(span)


def _need_length(phase: Phase, length: int | None) -> int:
    if length is None:
        raise RampupError(f"{phase}: {phase.spec_name} needs a length (or total_steps)")
    return length


def _join(phases: list[Phase]) -> Schedule:
    """One phase on its own, or the chain of several."""
    return phases[0] if len(phases) == 1 else Chain(tuple(phases))


# ------------------------------------------------------------------------------------------------
# Phases for peer conventions that rampup's shapes do not express.
@dataclass(frozen=True, eq=True, repr=False)
class HFCosine(Phase):
    r"""HF's cosine decay with ``num_cycles`` waves and a floor, over ``length`` steps.

    .. math:: value(t) = \tfrac12\,(1 + \cos(2 \pi c\, t / D))\,(1 - to) + to

    with ``c = cycles`` and ``D = length``; written in HF's own order of operations. With
    ``cycles=0.5`` it is ``cosine(D, start=1.0, to=to)`` (which :func:`transformers` then uses);
    other values make the curve turn back up within the phase. After ``length`` steps the value
    at ``t = D`` holds.
    """

    length: Length | None = None
    _: KW_ONLY
    cycles: float = 0.5
    to: float = 0.0
    spec_name: ClassVar[str] = "hf_cosine"
    positional: ClassVar[tuple[str, ...]] = ("length",)

    def _validate(self) -> None:
        object.__setattr__(self, "length", _length("hf_cosine", self.length))
        cycles = check_number(
            "hf_cosine", "cycles", self.cycles, low=0.0, high=1e300, low_open=True,
            what="a number of waves in (0, 1e300]",
        )  # fmt: skip
        object.__setattr__(self, "cycles", cycles)
        to = check_number("hf_cosine", "to", self.to, low=0.0, high=1.0)
        object.__setattr__(self, "to", to)

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        d = float(_need_length(self, length))
        k = _PI * self.cycles * 2.0
        m = self.to

        def make(xp: Ops) -> Formula:
            cos = xp.cos
            return lambda t: 0.5 * (1.0 + cos(k * (t / d))) * (1.0 - m) + m

        return make, float(make(SCALAR)(d))


@dataclass(frozen=True, eq=True, repr=False)
class HFSqrtWarmup(Phase):
    r"""HF's "1-sqrt" warmup (``get_wsd_schedule(warmup_type="1-sqrt")``) over ``length`` steps.

    .. math:: value(t) = (1 - \sqrt{1 - t / W})\,(1 - start) + start

    Update 0 uses ``start``; the peak 1 is reached at ``t = W``, the first step after the phase
    (HF's convention). Fast at first, then slower: the mirror image of the 1-sqrt cooldown.
    """

    length: Length | None = None
    _: KW_ONLY
    start: float = 0.0
    spec_name: ClassVar[str] = "hf_sqrt_warmup"
    positional: ClassVar[tuple[str, ...]] = ("length",)

    def _validate(self) -> None:
        object.__setattr__(self, "length", _length("hf_sqrt_warmup", self.length))
        start = check_number("hf_sqrt_warmup", "start", self.start, low=0.0, high=1.0)
        object.__setattr__(self, "start", start)

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        w = float(_need_length(self, length))
        m = self.start

        def make(xp: Ops) -> Formula:
            sqrt = xp.sqrt
            return lambda t: (1.0 - sqrt(1.0 - t / w)) * (1.0 - m) + m

        return make, float(make(SCALAR)(w))


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
        object.__setattr__(self, "t_initial", _check_int(name, "t_initial", self.t_initial, low=1))
        object.__setattr__(self, "to", check_number(name, "to", self.to, low=0.0))
        object.__setattr__(self, "mult", check_number(name, "mult", self.mult, low=1.0))
        object.__setattr__(self, "decay", check_number(name, "decay", self.decay, low=0.0))
        object.__setattr__(self, "limit", _check_int(name, "limit", self.limit, low=1))
        object.__setattr__(self, "skip", _check_int(name, "skip", self.skip, low=0))
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
                wave = m + 0.5 * (decay ** minimum(i, last) - m) * (1.0 + cos(_PI * x_i / t_i))
                return where(i < limit, wave, m)

            return f

        final = math.nan if length is None else float(make(SCALAR)(float(length)))
        return make, final


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
        period = _check_int("expo_warmup", "period", self.period, low=1)
        object.__setattr__(self, "period", period)

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        tau = float(self.period)

        def make(xp: Ops) -> Formula:
            exp = xp.exp
            return lambda t: 1.0 - exp(-(t + 1.0) / tau)

        final = math.nan if length is None else float(make(SCALAR)(float(length)))
        return make, final


# ------------------------------------------------------------------------------------------------
# HF transformers
_HF = "transformers"
_HF_TYPES = ("linear", "cosine", "1-sqrt")


def _hf_warmup(w: int) -> list[Phase]:
    """HF's linear warmup ``t / W`` (update 0 at 0, the peak at ``t = W``), or none for W = 0."""
    return [Linear(w, start=0.0, endpoint=False)] if w else []


def _hf_decay_length(name: str, w: int, total: int | None) -> int:
    if total is None:
        raise fail(_HF, "num_training_steps", total, f"the length of the run for {name!r}")
    if total <= w:
        raise fail(
            _HF,
            "num_training_steps",
            total,
            f"more steps than num_warmup_steps={w} (the decay needs at least one step)",
        )
    return total - w


def _hf_cycles(kw: dict[str, Any], default: float) -> float:
    return check_number(_HF, "num_cycles", kw.get("num_cycles", default), low=0.0, low_open=True)


def _hf_cosine_phase(length: int, cycles: float, floor: float) -> Phase:
    """HF's cosine decay: rampup's own cosine when it is one (half a wave), else :class:`HFCosine`.

    With ``cycles=0.5`` HF's ``0.5 * (1 + cos(pi * 0.5 * 2 * p)) * (1 - m) + m`` is, operation for
    operation, ``cosine(start=1, to=m)`` (``pi * 0.5 * 2`` is exactly ``pi``).
    """
    if cycles == 0.5:
        return Cosine(length, start=1.0, to=floor)
    return HFCosine(length, cycles=cycles, to=floor)


def _hf_linear(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    d = _hf_decay_length("linear", w, total)
    return [*_hf_warmup(w), Linear(d, start=1.0, to=0.0)]


def _hf_cosine(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    d = _hf_decay_length("cosine", w, total)
    return [*_hf_warmup(w), _hf_cosine_phase(d, _hf_cycles(kw, 0.5), 0.0)]


def _hf_cosine_min_lr(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    d = _hf_decay_length("cosine_with_min_lr", w, total)
    if "min_lr_rate" not in kw:
        raise fail(_HF, "min_lr_rate", None, "the floor as a fraction of the peak, in [0, 1]")
    floor = check_number(_HF, "min_lr_rate", kw["min_lr_rate"], low=0.0, high=1.0)
    return [*_hf_warmup(w), _hf_cosine_phase(d, _hf_cycles(kw, 0.5), floor)]


def _hf_restarts(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    d = _hf_decay_length("cosine_with_restarts", w, total)
    return [*_hf_warmup(w), Restarts(d, cycles=_hf_cycles(kw, 1.0), to=0.0)]


def _hf_polynomial(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    d = _hf_decay_length("polynomial", w, total)
    if "lr_init" not in kw:
        raise fail(_HF, "lr_init", None, "the optimizer's learning rate (lr_end is relative to it)")
    lr_init = check_number(_HF, "lr_init", kw["lr_init"], low=0.0, low_open=True)
    lr_end = check_number(
        _HF,
        "lr_end",
        kw.get("lr_end", 1e-7),
        low=0.0,
        high=lr_init,
        high_open=True,
        what=f"a learning rate >= 0 and below lr_init={lr_init!r}",
    )
    power = check_number(_HF, "power", kw.get("power", 1.0), low=0.0, low_open=True)
    return [*_hf_warmup(w), Poly(d, start=1.0, to=lr_end / lr_init, power=power)]


def _hf_constant(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    if w:
        raise fail(_HF, "num_warmup_steps", w, "0 for 'constant' (use 'constant_with_warmup')")
    return [Constant()]


def _hf_constant_warmup(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    return [*_hf_warmup(w), Constant()]


def _hf_inverse_sqrt(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    timescale = kw.get("timescale")
    if timescale is None:
        timescale = w or 10_000
    ts = _check_int(_HF, "timescale", timescale, low=1, what="a positive int (steps) or None")
    # After the warmup HF uses 1 / sqrt((t + ts - W) / ts): with the local step s = t - W this is
    # invsqrt's 1 / sqrt((s + ts) / ts).
    decay = InvSqrt() if ts == w else InvSqrt(timescale=ts)
    return [*_hf_warmup(w), decay]


def _hf_wsd(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    if "num_decay_steps" not in kw:
        raise fail(_HF, "num_decay_steps", None, "the length of the decay, a positive int")
    n_decay = _check_int(_HF, "num_decay_steps", kw["num_decay_steps"], low=1)
    stable = kw.get("num_stable_steps")
    if stable is None:
        if total is None:
            raise fail(
                _HF, "num_training_steps", None, "num_training_steps or num_stable_steps for wsd"
            )
        stable = total - w - n_decay
        if stable < 0:
            raise fail(
                _HF,
                "num_training_steps",
                total,
                f"at least num_warmup_steps + num_decay_steps = {w + n_decay}",
            )
    n_stable = _check_int(_HF, "num_stable_steps", stable, low=0)
    if total is not None and total != w + n_stable + n_decay:
        raise fail(
            _HF,
            "num_training_steps",
            total,
            f"num_warmup_steps + num_stable_steps + num_decay_steps = {w + n_stable + n_decay}",
        )
    floor = check_number(_HF, "min_lr_ratio", kw.get("min_lr_ratio", 0.0), low=0.0, high=1.0)
    warmup_type = check_choice(_HF, "warmup_type", kw.get("warmup_type", "linear"), _HF_TYPES)
    decay_type = check_choice(_HF, "decay_type", kw.get("decay_type", "cosine"), _HF_TYPES)
    cycles = _hf_cycles(kw, 0.5)
    phases: list[Phase] = []
    if w:
        # HF: f(t / W) * (1 - m) + m, rising from m (update 0) to 1 at t = W.
        if warmup_type == "linear":
            phases.append(Linear(w, start=floor, endpoint=False))
        elif warmup_type == "cosine":
            phases.append(Cosine(w, start=floor, endpoint=False))
        else:
            phases.append(HFSqrtWarmup(w, start=floor))
    if n_stable:
        phases.append(Constant(n_stable))
    # HF: g(s / D) * (1 - m) + m, falling from 1 (local step 0) to m at s = D, then m holds.
    if decay_type == "linear":
        phases.append(Linear(n_decay, start=1.0, to=floor))
    elif decay_type == "1-sqrt":
        phases.append(Sqrt(n_decay, start=1.0, to=floor))
    else:
        phases.append(_hf_cosine_phase(n_decay, cycles, floor))
        if cycles != 0.5:  # other waves do not end at the floor; HF drops to it after the decay
            phases.append(Constant(value=floor))
    return phases


_HF_BUILDERS: dict[
    str, tuple[Callable[[int, int | None, dict[str, Any]], list[Phase]], tuple[str, ...]]
] = {
    "linear": (_hf_linear, ()),
    "cosine": (_hf_cosine, ("num_cycles",)),
    "cosine_with_restarts": (_hf_restarts, ("num_cycles",)),
    "polynomial": (_hf_polynomial, ("lr_init", "lr_end", "power")),
    "constant": (_hf_constant, ()),
    "constant_with_warmup": (_hf_constant_warmup, ()),
    "inverse_sqrt": (_hf_inverse_sqrt, ("timescale",)),
    "warmup_stable_decay": (
        _hf_wsd,
        (
            "num_decay_steps",
            "num_stable_steps",
            "min_lr_ratio",
            "warmup_type",
            "decay_type",
            "num_cycles",
        ),
    ),
    "cosine_with_min_lr": (_hf_cosine_min_lr, ("min_lr_rate", "num_cycles")),
}


def transformers(
    name: str,
    *,
    num_warmup_steps: int,
    num_training_steps: int | None = None,
    **kwargs: Any,
) -> Schedule:
    r"""HF transformers' ``get_*_schedule_with_warmup`` schedules, value for value.

    ``name`` is the ``SchedulerType`` of ``transformers.get_scheduler``. Every HF schedule but
    ``constant`` starts with HF's linear warmup

    .. math:: \lambda(t) = t / W \qquad (0 \le t < W)

    which runs update 0 at a learning rate of 0 and reaches the peak one step late, at ``t = W``
    (rampup's default warmup uses ``(t + 1) / W``); here it is
    ``linear(W, start=0.0, endpoint=false)``. With ``p = (t - W) / (T - W)`` the decays are:

    - ``linear``: :math:`1 - p` (``linear(T - W, start=1.0, to=0.0)``);
    - ``cosine`` (``num_cycles=0.5``): :math:`\tfrac12 (1 + \cos(2\pi c\,p))`, a cosine decay to 0
      for the default half wave, :class:`HFCosine` otherwise;
    - ``cosine_with_restarts`` (``num_cycles=1``): :math:`\tfrac12 (1 + \cos(\pi\,(c\,p \bmod 1)))`
      (``restarts(T - W, cycles=c)``), 0 from ``T`` on;
    - ``polynomial`` (``lr_init`` = the optimizer's lr, ``lr_end=1e-7``, ``power=1``):
      :math:`r + (1 - r)(1 - p)^{power}`, ``r = lr_end / lr_init``, then ``r`` holds;
    - ``constant``: 1 (``num_warmup_steps`` must be 0); ``constant_with_warmup``: 1 after warmup;
    - ``inverse_sqrt`` (``timescale`` = ``W`` or 10000): :math:`1 / \sqrt{(t - W + \tau) / \tau}`;
    - ``warmup_stable_decay`` (``num_decay_steps``, ``num_stable_steps`` or
      ``num_training_steps``, ``min_lr_ratio=0``, ``warmup_type`` and ``decay_type`` among
      ``linear``, ``cosine``, ``1-sqrt``, ``num_cycles=0.5``): ``f(t / W)(1 - m) + m``, 1, then
      ``g(s / D)(1 - m) + m`` and ``m`` after the run;
    - ``cosine_with_min_lr`` (``min_lr_rate`` required, ``num_cycles``): the cosine decay to
      ``min_lr_rate``.

    Within ``[0, num_training_steps)`` the values equal HF's ``lr_lambda``; past the end HF's
    cosine turns back up, while this schedule holds its final value. ``num_training_steps`` is
    the whole run including the warmup; ``constant``, ``constant_with_warmup`` and
    ``inverse_sqrt`` do not use it (as in HF).

    >>> from rampup.core import compat
    >>> s = compat.transformers("linear", num_warmup_steps=2, num_training_steps=6)
    >>> [s(t) for t in range(7)]
    [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    if not isinstance(name, str) or name not in _HF_BUILDERS:
        raise fail(_HF, "name", name, "one of " + ", ".join(repr(n) for n in _HF_BUILDERS))
    w = _check_int(_HF, "num_warmup_steps", num_warmup_steps, low=0)
    total = None
    if num_training_steps is not None:
        total = _check_int(_HF, "num_training_steps", num_training_steps, low=1)
    build, allowed = _HF_BUILDERS[name]
    for key, value in kwargs.items():
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no other argument"
            raise fail(_HF, key, value, f"an argument of {name!r}, which takes {takes}")
    return _join(build(w, total, kwargs))


# ------------------------------------------------------------------------------------------------
# torch
def torch_sequential(
    warmup: str = "linear",
    *,
    warmup_iters: int,
    t_max: int,
    start_factor: float | None = None,
    factor: float | None = None,
    eta_min_ratio: float = 0.0,
) -> Schedule:
    r"""The lrs of torch's ``SequentialLR(warmup, CosineAnnealingLR, milestones=[warmup_iters])``.

    ``warmup="linear"`` is ``LinearLR(start_factor, total_iters=warmup_iters)``: update ``t``
    uses :math:`s + (1 - s)\,t / W`, reaching the peak one step late, at ``t = W``, where the
    cosine starts. ``warmup="constant"`` is ``ConstantLR(factor, total_iters=warmup_iters)``:
    ``factor`` for ``W`` updates, then a jump to the peak. The cosine is
    ``CosineAnnealingLR(T_max=t_max, eta_min=eta_min_ratio * base_lr)``:

    .. math:: r + (1 - r)\,\tfrac12 (1 + \cos(\pi (t - W) / T_{max}))

    reaching ``r = eta_min_ratio`` at ``t = W + T_max``, after which it holds (torch's turns back
    up). The defaults of ``start_factor`` and ``factor`` are torch's, 1/3. torch computes these
    values recursively (each from the previous one), which drifts by rounding; these are its
    closed forms. One step is one call of ``scheduler.step()`` (an epoch if stepped per epoch).

    >>> from rampup.core import compat
    >>> s = compat.torch_sequential(warmup_iters=10, start_factor=0.1, t_max=90, eta_min_ratio=1e-3)
    >>> s(0), s(10), s(100)
    (0.1, 1.0, 0.001)
    """
    func = "torch_sequential"
    check_choice(func, "warmup", warmup, ("linear", "constant"))
    w = _check_int(func, "warmup_iters", warmup_iters, low=1)
    t = _check_int(func, "t_max", t_max, low=1)
    r = check_number(func, "eta_min_ratio", eta_min_ratio, low=0.0, high=1.0)
    first: Phase
    if warmup == "linear":
        if factor is not None:
            raise fail(func, "factor", factor, "start_factor= with warmup='linear'")
        sf = 1.0 / 3.0 if start_factor is None else start_factor
        sf = check_number(func, "start_factor", sf, low=0.0, high=1.0, low_open=True)
        first = Linear(w, start=sf, endpoint=False)
    else:
        if start_factor is not None:
            raise fail(func, "start_factor", start_factor, "factor= with warmup='constant'")
        f = 1.0 / 3.0 if factor is None else factor
        f = check_number(func, "factor", f, low=0.0, high=1.0)
        first = Constant(w, f)
    return Chain((first, Cosine(t, start=1.0, to=r)))


# ------------------------------------------------------------------------------------------------
# timm
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
    period = _check_int(func, "t_initial", t_initial, low=1)
    base = check_number(func, "base_lr", base_lr, low=0.0, low_open=True)
    w = _check_int(func, "warmup_t", warmup_t, low=0)
    lr0 = check_number(func, "warmup_lr_init", warmup_lr_init, low=0.0)
    floor = check_number(func, "lr_min", lr_min, low=0.0, high=base, what="an lr in [0, base_lr]")
    if not isinstance(warmup_prefix, bool):
        raise fail(func, "warmup_prefix", warmup_prefix, "True or False")
    mult = check_number(func, "cycle_mul", cycle_mul, low=1.0)
    decay = check_number(func, "cycle_decay", cycle_decay, low=0.0)
    limit = _check_int(func, "cycle_limit", cycle_limit, low=1)
    m = floor / base
    phases: list[Phase] = [Linear(w, start=lr0 / base, endpoint=False)] if w else []
    skip = 0 if warmup_prefix else w
    if skip == 0 and limit == 1:
        phases.append(Cosine(period, start=1.0, to=m))
    elif skip == 0 and mult == 1.0:
        phases.append(Restarts(period * limit, period=period, decay=decay, to=m))
    else:
        phases.append(TimmDecay(period, to=m, mult=mult, decay=decay, limit=limit, skip=skip))
    return _join(phases)


# ------------------------------------------------------------------------------------------------
# pytorch_warmup
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
        tau = _check_int(func, "warmup_period", warmup_period, low=1, what="a positive int")
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


#: Phase classes defined here, registered in the spec language.
PHASES: tuple[type[Phase], ...] = (HFCosine, HFSqrtWarmup, TimmDecay, ExpoWarmup)
#: Named constructors defined here, registered in the spec language.
RECIPES: dict[str, Callable[..., Schedule]] = {
    "pytorch_warmup": pytorch_warmup,
    "timm_cosine": timm_cosine,
    "torch_sequential": torch_sequential,
    "transformers": transformers,
}
