"""Curves to draw: labelled (steps, values) arrays, from schedules or from any history.

:class:`Curve` is what both plots draw (:mod:`rampup.cli.plots`, a matplotlib figure, and
:mod:`rampup.cli.terminal`, text); :func:`curves` evaluates schedules over a run into curves,
:func:`sample_steps` picks the steps drawn, :func:`one_scale` rescales a curve far below the others
so that both show on one linear axis. numpy and the core only: no matplotlib, no typer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rampup import RampupError
from rampup.advice._runs import checked_run
from rampup.core.checks import check_count
from rampup.core.schedule import Bound, Schedule
from rampup.core.spec import parse

__all__ = ["MAX_POINTS", "SCALE_GAP", "Curve", "Schedules", "curves", "one_scale", "sample_steps"]

#: Most points drawn per curve by default; every step is drawn when the run is shorter.
MAX_POINTS = 4096
#: A curve whose peak lies more than this factor below the largest peak is drawn rescaled.
SCALE_GAP = 10.0

ScheduleLike = Schedule | str
Schedules = ScheduleLike | Sequence[ScheduleLike] | Mapping[str, ScheduleLike]


@dataclass(frozen=True)
class Curve:
    """One curve to draw: a legend ``label``, x ``steps``, y ``values``, boundaries to mark.

    ``steps`` and ``values`` are stored as float arrays of the same length, ``steps``
    increasing; ``bounds`` are the steps where a dotted line marks a phase boundary.
    """

    label: str
    steps: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    bounds: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.label, str):
            raise RampupError.invalid("Curve", "label", self.label, "a string (the legend entry)")
        try:
            steps = np.asarray(self.steps, dtype=np.float64).reshape(-1)
            values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise RampupError.invalid(
                "Curve", "values", self.values, "numbers (and numeric steps)"
            ) from None
        if steps.shape != values.shape:
            raise RampupError.invalid(
                "Curve", "values", f"{values.size} values", f"one value per step ({steps.size})"
            )
        if steps.size > 1 and not bool(np.all(np.diff(steps) > 0)):
            raise RampupError.invalid("Curve", "steps", self.steps, "increasing, finite steps")
        if not isinstance(self.bounds, tuple) or not all(
            isinstance(b, int | np.integer) and not isinstance(b, bool) for b in self.bounds
        ):
            raise RampupError.invalid("Curve", "bounds", self.bounds, "a tuple of int steps")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "values", values)


# -- inputs ---------------------------------------------------------------------------------------
def _one(func: str, item: object) -> Schedule:
    if isinstance(item, str):
        return parse(item)
    if isinstance(item, Schedule):
        return item
    raise RampupError.invalid(
        func, "schedules", item, "a Schedule or a spec string such as 'linear(5%)'"
    )


def _labelled(func: str, schedules: object) -> list[tuple[str, Schedule]]:
    """(label, schedule) pairs from one schedule, a sequence of them, or a label -> schedule map."""
    if isinstance(schedules, str | Schedule):
        items: list[tuple[str | None, object]] = [(None, schedules)]
    elif isinstance(schedules, Mapping):
        items = [(k, v) for k, v in schedules.items()]
        for k, _ in items:
            if not isinstance(k, str):
                raise RampupError.invalid(
                    func, "schedules", k, "labels (the mapping's keys) that are strings"
                )
    elif isinstance(schedules, Sequence):
        items = [(None, v) for v in schedules]
    else:
        raise RampupError.invalid(
            func, "schedules", schedules, "a Schedule, a spec string, or a list or dict of them"
        )
    if not items:
        raise RampupError.invalid(func, "schedules", schedules, "at least one schedule")
    out = []
    for given, item in items:
        s = _one(func, item)
        label = given
        if label is None:  # a spec string is shown as written; a Schedule as its spec
            plain = s.schedule if isinstance(s, Bound) else s
            label = " ".join(item.split()) if isinstance(item, str) else str(plain)
        out.append((label, s))
    return out


def sample_steps(
    total_steps: int, bounds: Sequence[int] = (), max_points: int = MAX_POINTS
) -> npt.NDArray[np.float64]:
    """The steps to draw: every step of a short run, else ``max_points`` evenly spread steps.

    Both sides of every phase boundary (``b - 1`` and ``b``) are always included, so jumps and
    the peak of a warmup show exactly. Steps are whole numbers in ``[0, total_steps - 1]``.
    """
    total = check_count("sample_steps", "total_steps", total_steps, 1, "a positive int")
    points = check_count("sample_steps", "max_points", max_points, 2, "an int >= 2")
    for b in bounds:
        if isinstance(b, bool) or not isinstance(b, int | np.integer):
            raise RampupError.invalid("sample_steps", "bounds", bounds, "int steps")
    if total <= points:
        return np.arange(total, dtype=np.float64)
    even = np.round(np.linspace(0, total - 1, points))
    edges = [x for b in bounds for x in (b - 1, b) if 0 <= x < total]
    return np.unique(np.concatenate([even, np.asarray(edges, dtype=np.float64)]))


def curves(
    schedules: Schedules,
    total_steps: int,
    steps_per_epoch: float | None = None,
    peak: float | None = None,
    max_points: int = MAX_POINTS,
) -> list[Curve]:
    """The curves :func:`plot` draws: each schedule bound to the run and evaluated.

    Values are the schedule's (multipliers of the base learning rate), times ``peak`` if given.
    """
    return _curves("curves", schedules, total_steps, steps_per_epoch, peak, max_points)


def _curves(
    func: str,
    schedules: Schedules,
    total_steps: int,
    steps_per_epoch: float | None,
    peak: float | None,
    max_points: int,
) -> list[Curve]:
    total, spe, scale = checked_run(func, total_steps, steps_per_epoch, peak)
    out = []
    for label, s in _labelled(func, schedules):
        bound = s.bind(total_steps=total, steps_per_epoch=spe)
        inner = tuple(b for b in bound.bounds if 0 < b < total)
        steps = sample_steps(total, inner, max_points)
        out.append(Curve(label, steps, scale * bound.values(steps), inner))
    return out


def one_scale(items: Sequence[Curve]) -> tuple[list[Curve], list[str]]:
    """The curves drawable on one linear y axis, and a note for each curve rescaled to fit it.

    Multipliers peak at 1, while an absolute learning rate such as
    ``noam(d_model=512, warmup=4000)`` peaks at about 7e-4: beside them it would be a flat line
    at 0. A curve whose peak ``p`` lies more than :data:`SCALE_GAP` times below the largest peak
    ``P`` of all the curves is drawn times ``P / p``, so its peak meets the largest; its legend
    label says so (``noam(...) (peak 0.000699, scaled up 1,431x)``). Other curves, and curves
    without a positive value, are returned as they are.

    >>> items, notes = one_scale(curves(["linear(10)", "noam(d_model=512, warmup=4)"], 20))
    >>> [c.label for c in items]
    ['linear(10)', 'noam(d_model=512, warmup=4) (peak 0.0221, scaled up 45.3x)']
    """
    peaks = [float(np.max(c.values[np.isfinite(c.values)], initial=0.0)) for c in items]
    top = max(peaks, default=0.0)
    out: list[Curve] = []
    notes: list[str] = []
    for c, p in zip(items, peaks, strict=True):
        if not 0 < p * SCALE_GAP < top:
            out.append(c)
            continue
        factor = top / p
        times = f"{factor:,.0f}x" if factor >= 100 else f"{factor:.3g}x"
        label = f"{c.label} (peak {p:.3g}, scaled up {times})"
        out.append(Curve(label, c.steps, c.values * factor, c.bounds))
        notes.append(
            f"{c.label} peaks at {p:.3g}, far below the largest peak ({top:.3g}): it is drawn"
            f" scaled up {times} so that its shape shows (a log y axis draws"
            " every curve to scale)"
        )
    return out, notes
