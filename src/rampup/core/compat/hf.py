r"""HF transformers' schedules (``get_*_schedule_with_warmup``), and the two phases they need.

:func:`transformers` builds each ``SchedulerType`` of ``transformers.get_scheduler`` from
rampup's shapes, plus two phases rampup's shapes do not express: :class:`HFCosine`
(``hf_cosine``, HF's cosine with ``num_cycles``) and :class:`HFSqrtWarmup` (``hf_sqrt_warmup``,
HF's "1-sqrt" warmup).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import fail
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.compat._common import PI, Make, check_steps, join, need_length, phase_length
from rampup.core.schedule import Phase, PhaseContext, Schedule
from rampup.core.shapes import (
    Constant,
    Cosine,
    InvSqrt,
    Linear,
    Poly,
    Restarts,
    Sqrt,
)
from rampup.core.units import Length

__all__ = ["HFCosine", "HFSqrtWarmup", "transformers"]


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
        object.__setattr__(self, "length", phase_length("hf_cosine", self.length))
        cycles = check_number(
            "hf_cosine", "cycles", self.cycles, low=0.0, high=1e300, low_open=True,
            what="a number of waves in (0, 1e300]",
        )  # fmt: skip
        object.__setattr__(self, "cycles", cycles)
        to = check_number("hf_cosine", "to", self.to, low=0.0, high=1.0)
        object.__setattr__(self, "to", to)

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        d = float(need_length(self, length))
        k = PI * self.cycles * 2.0
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
        object.__setattr__(self, "length", phase_length("hf_sqrt_warmup", self.length))
        start = check_number("hf_sqrt_warmup", "start", self.start, low=0.0, high=1.0)
        object.__setattr__(self, "start", start)

    def _formula(self, length: int | None, pc: PhaseContext) -> tuple[Make, float]:
        w = float(need_length(self, length))
        m = self.start

        def make(xp: Ops) -> Formula:
            sqrt = xp.sqrt
            return lambda t: (1.0 - sqrt(1.0 - t / w)) * (1.0 - m) + m

        return make, float(make(SCALAR)(w))


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
    ts = check_steps(_HF, "timescale", timescale, low=1, what="a positive int (steps) or None")
    # After the warmup HF uses 1 / sqrt((t + ts - W) / ts): with the local step s = t - W this is
    # invsqrt's 1 / sqrt((s + ts) / ts).
    decay = InvSqrt() if ts == w else InvSqrt(timescale=ts)
    return [*_hf_warmup(w), decay]


def _hf_wsd(w: int, total: int | None, kw: dict[str, Any]) -> list[Phase]:
    if "num_decay_steps" not in kw:
        raise fail(_HF, "num_decay_steps", None, "the length of the decay, a positive int")
    n_decay = check_steps(_HF, "num_decay_steps", kw["num_decay_steps"], low=1)
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
    n_stable = check_steps(_HF, "num_stable_steps", stable, low=0)
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
    w = check_steps(_HF, "num_warmup_steps", num_warmup_steps, low=0)
    total = None
    if num_training_steps is not None:
        total = check_steps(_HF, "num_training_steps", num_training_steps, low=1)
    build, allowed = _HF_BUILDERS[name]
    for key, value in kwargs.items():
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no other argument"
            raise fail(_HF, key, value, f"an argument of {name!r}, which takes {takes}")
    return join(build(w, total, kwargs))
