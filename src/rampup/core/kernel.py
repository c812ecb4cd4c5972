"""Compiled schedules: the formula over arrays, and the segments one step at a time reads.

A schedule compiles once (per binding) to a :class:`Kernel`. ``make(xp)`` gives its whole formula
over an array namespace (numpy, ``jax.numpy``, Keras' ops); for single steps it is cut into
:class:`Segment` s, each a phase's own formula on the steps where it applies::

    s(t) = f(t - offset)    for lo <= t < hi

and a last segment ``[length, inf)`` that holds the final value. Nothing here writes a formula:
every shape's formula is its own ``make(xp)`` (:mod:`rampup.core.shapes`), called with ``xp =``
:data:`~rampup.core._ops.SCALAR` on the per-step path and with an array namespace otherwise.

One runner (:func:`runner`) evaluates single steps: it checks the step and keeps the segment
it last used, so while steps stay inside one segment a call costs the segment's formula and two
comparisons; it looks the segment up again (a bisection) only when a step crosses a boundary.
One function (:func:`held`) extends a kernel past its length by its final value.
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from rampup.core._errors import RampupError, fail
from rampup.core._ops import SCALAR, Formula, Ops
from rampup.core.units import Span

__all__ = [
    "Capped",
    "Context",
    "Kernel",
    "Make",
    "PhaseContext",
    "Segment",
    "bad_step",
    "chain_make",
    "chain_pieces",
    "held",
    "runner",
    "segment",
    "values",
]

#: A formula factory: ``make(xp)`` is the formula over the namespace ``xp``.
Make = Callable[[Ops], Formula]


@dataclass(frozen=True)
class Context:
    """What a schedule is bound to: the length of the run and of an epoch, in steps."""

    total_steps: int | None = None
    steps_per_epoch: float | None = None

    def steps(self, func: str, param: str, span: Span) -> int:
        """Resolve ``span`` to whole steps in this context."""
        return span.resolve(func, param, self.total_steps, self.steps_per_epoch)


@dataclass(frozen=True)
class PhaseContext:
    """Where a phase sits: the run's context, its index in the chain, its first global step."""

    run: Context
    index: int
    offset: int


#: A stretch of a schedule with one formula, ``(lo, hi, offset, formula)``:
#: ``s(t) = formula(t - offset)`` for ``lo <= t < hi``. A plain tuple: the per-step path
#: unpacks one per call, and only an exact tuple unpacks on CPython's fast path.
Segment = tuple[float, float, int, Formula]


class Capped:
    """A formula with its local step capped at ``den``: ``f(min(t, den))`` (a ramp's endpoint).

    A ramp with an endpoint is at its end value from local step ``den = length - 1`` on; a
    fractional step between ``den`` and ``length`` (a slowed clock, a plot) holds it there. The
    cap is kept apart from the formula, so that the per-step path cuts the ramp into two
    segments (the formula up to ``den``, then its value at ``den``) instead of calling the
    formula through a second function.
    """

    __slots__ = ("den", "make")

    def __init__(self, make: Make, den: float) -> None:
        self.make = make
        self.den = den

    def __call__(self, xp: Ops) -> Formula:
        """The capped formula over ``xp``."""
        f, den = self.make(xp), self.den
        if xp is SCALAR:
            return lambda t: f(t if t <= den else den)
        minimum = xp.minimum
        return lambda t: f(minimum(t, den))


def _constant(value: float) -> Formula:
    return lambda t: value


@dataclass(frozen=True)
class Kernel:
    """A compiled schedule: ``make(xp)`` gives its formula on steps ``0 <= t < length``.

    ``length`` is None for an open-ended schedule (defined for every step); otherwise ``final`` is
    the value held from step ``length`` on. ``bounds`` lists the phase boundaries (global steps).
    ``pieces`` cuts the schedule into its phases for the per-step path, as ``(end, offset, make)``
    (the phase's formula on local steps ``t - offset`` up to global step ``end``); empty: one
    piece, ``make`` itself.
    """

    make: Make
    length: int | None
    final: float
    bounds: tuple[int, ...] = ()
    pieces: tuple[tuple[float, int, Make], ...] = ()

    @cached_property
    def segments(self) -> tuple[Segment, ...]:
        """The per-step segments, in order, covering every step ``0 <= t < inf``.

        A capped ramp gives two: its formula up to the cap (``t <= cap``: ``hi`` is the float
        after it) and its value there. A kernel that ends holds its final value from ``length``.
        """
        end: float = math.inf if self.length is None else self.length
        pieces = self.pieces or ((end, 0, self.make),)
        out: list[Segment] = []
        lo: float = 0
        for hi, offset, make in pieces:
            if isinstance(make, Capped):
                f = make.make(SCALAR)
                cap = math.nextafter(offset + make.den, math.inf)
                out.append((lo, cap, offset, f))
                out.append((cap, hi, offset, _constant(f(make.den))))
            else:
                out.append((lo, hi, offset, make(SCALAR)))
            lo = hi
        if self.length is not None:
            out.append((end, math.inf, 0, _constant(self.final)))
        return tuple(out)

    @cached_property
    def ends(self) -> list[float]:
        """Where each segment ends (``hi``), for the bisection of :meth:`segment_at`."""
        return [hi for _, hi, _, _ in self.segments]

    def segment_at(self, t: float) -> Segment:
        """The segment containing step ``t`` (``0 <= t < inf``, not checked)."""
        return self.segments[bisect_right(self.ends, t)]


def bad_step(step: object) -> RampupError:
    """The error for a step that is not a finite number >= 0."""
    return fail("Schedule", "step", step, "a finite step >= 0 (t = 0 is the first update)")


def runner(kernel: Kernel) -> Callable[[float], float]:
    """The per-step function of a whole schedule: checks the step, holds the final value.

    It keeps the segment of the last step (one tuple, replaced whole, so threads sharing the
    function never see half of one): steps inside it cost its formula and two comparisons.
    """
    segment_at = kernel.segment_at
    current = kernel.segments[0]
    inf = math.inf  # an infinite step is rejected, not answered with the final value

    def run(t: float) -> float:
        nonlocal current
        lo, hi, offset, f = current
        try:
            if lo <= t < hi:
                return f(t - offset)  # type: ignore[no-any-return]  # formulas return floats here
            if 0 <= t < inf:
                current = seg = segment_at(t)  # the local seg: another thread may move current
                return seg[3](t - seg[2])  # type: ignore[no-any-return]  # see above
        except (TypeError, OverflowError):  # not a number; an int beyond a float
            pass
        raise bad_step(t)

    return run


def segment(kernel: Kernel, t: float) -> Segment:
    """The segment containing step ``t``, which is checked as ``s(t)`` checks it."""
    try:
        if 0 <= t < math.inf:
            return kernel.segment_at(t)
    except TypeError:  # not a number
        pass
    raise bad_step(t)


def held(kernel: Kernel, xp: Ops) -> Formula:
    """A kernel's formula extended past its length by its final value (no step checks)."""
    if xp is SCALAR:
        segment_at = kernel.segment_at

        def at(t: Any) -> Any:
            _, _, offset, f = segment_at(t)
            return f(t - offset)

        return at
    f = kernel.make(xp)
    if kernel.length is None:
        return f
    end, final = kernel.length, kernel.final
    # steps past the end are moved to end - 1, so the unused branch stays in the domain;
    # a fractional step just before the end keeps its own value
    return lambda t: xp.where(t < end, f(xp.where(t < end, t, end - 1)), final)


# -- chains over arrays -----------------------------------------------------------------------
def chain_make(makes: list[Make], starts: list[int], ends: list[float]) -> Make:
    """Join phase formulas over arrays: the phase containing t gets ``t - start``.

    The per-step path does not use this: it reads the chain's segments (:func:`runner`); with
    :data:`~rampup.core._ops.SCALAR` it is the branch-free form, phase by phase.
    """

    def make(xp: Ops) -> Formula:
        fs = [m(xp) for m in makes]
        if len(fs) == 1:
            return fs[0]
        if xp is np:
            return _numpy_chain(fs, starts, ends)

        def where_chain(t: Any) -> Any:
            out = fs[-1](xp.maximum(t - starts[-1], 0))
            for f, s, e in zip(fs[-2::-1], starts[-2::-1], ends[-2::-1], strict=True):
                local = xp.where(t < e, xp.maximum(t - s, 0), 0)
                out = xp.where(t < e, f(local), out)
            return out

        return where_chain

    return make


def chain_pieces(
    makes: list[Make], starts: list[int], ends: list[float]
) -> tuple[tuple[float, int, Make], ...]:
    """The per-step pieces of a chain: ``(end, start, make)`` for each phase."""
    return tuple(zip(ends, starts, makes, strict=True))


def _numpy_chain(fs: list[Formula], starts: list[int], ends: list[float]) -> Formula:
    def chain(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        t = np.asarray(t, dtype=np.float64)
        out = np.empty_like(t)
        flat_t, flat_out = t.reshape(-1), out.reshape(-1)
        if flat_t.size > 1 and bool(np.all(flat_t[1:] >= flat_t[:-1])):
            cuts = np.searchsorted(flat_t, ends[:-1], side="left").tolist()
            lo = 0
            for f, s, hi in zip(fs, starts, [*cuts, flat_t.size], strict=True):
                if hi > lo:
                    flat_out[lo:hi] = f(flat_t[lo:hi] - s)
                lo = hi
            return out
        idx = np.searchsorted(np.asarray(ends[:-1]), flat_t, side="right")
        for i, (f, s) in enumerate(zip(fs, starts, strict=True)):
            mask = idx == i
            if mask.any():
                flat_out[mask] = f(flat_t[mask] - s)
        return out

    return chain


# -- many steps at once -----------------------------------------------------------------------
def values(kernel: Kernel, steps: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The kernel at many steps at once (numpy), checked as ``s(t)`` checks one step."""
    raw = np.asarray(steps)
    if raw.dtype.kind not in "biuf":  # strings, complex, objects: only real numbers are steps
        for x in raw.flat:
            item = x.item() if isinstance(x, np.generic) else x
            if not isinstance(item, int | float):
                raise bad_step(item)
    try:
        t = raw.astype(np.float64, copy=False)  # no copy of an array that is float64 already
    except OverflowError:  # an int beyond the float range: as s(t), past the end or an error
        t = _huge_steps(kernel, raw)
    if t.size and not (t.min() >= 0 and np.isfinite(t.max())):
        bad = t[~(np.isfinite(t) & (t >= 0))].flat[0]
        raise bad_step(float(bad))
    f = kernel.make(np)
    if kernel.length is None or (inside := t < kernel.length).all():
        return _full(f(t), t)
    out = np.full_like(t, kernel.final)
    if inside.any():
        out[inside] = f(t[inside])
    return out


def _huge_steps(kernel: Kernel, raw: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Steps with ints beyond the float range: the largest float when the schedule ends.

    ``s(10**400)`` of a schedule that ends is its final value (the comparison with the end
    is exact for ints), so the vectorised path gives the same; an open-ended schedule has no
    value there, and both paths refuse the step.
    """
    end = kernel.length
    out = np.empty(raw.shape, dtype=np.float64)
    for index, x in np.ndenumerate(raw):
        if isinstance(x, int) and abs(x) > sys.float_info.max:
            if end is None or x < 0:
                raise bad_step(x)
            out[index] = sys.float_info.max  # past the end: the final value
        else:
            out[index] = float(x)
    return out


def _full(values: Any, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``values`` as a new float64 array of ``t``'s shape (a constant formula gives a scalar)."""
    arr: npt.NDArray[np.float64] = np.asarray(values, dtype=np.float64)
    if arr.shape == t.shape and arr is not t and arr.base is None:
        return arr  # already a fresh array of its own: no second pass over 10**7 steps
    full: npt.NDArray[np.float64] = np.broadcast_to(arr, t.shape).copy()
    return full
