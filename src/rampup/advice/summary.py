"""What a schedule does over a run: the table behind ``rampup show``.

:func:`summarize` reads a schedule over a run of ``total_steps`` updates and reports what matters
before training: the values at steps 0 and 1, where the peak is reached, the values on both sides
of every phase boundary, the last step, the effective warmup length and warnings.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rampup import RampupError
from rampup.advice._runs import checked_run
from rampup.core.schedule import Bound, Phase, Product, Schedule
from rampup.core.shapes import Ramp
from rampup.core.spec import parse

__all__ = ["JUMP", "LONG_WARMUP", "Boundary", "Summary", "summarize"]

#: A warmup longer than this fraction of the run is flagged (by :func:`summarize` and
#: :func:`rampup.suggest`): most of the run would be spent below the peak.
LONG_WARMUP = 0.30
#: A rise at a phase boundary larger than this fraction of the peak is reported as a jump.
JUMP = 0.05

#: Steps evaluated at once when scanning a long run (bounded memory for any run length).
_CHUNK = 1 << 20
#: Values within this relative distance of the maximum count as "the peak" (float rounding).
_PEAK_RTOL = 1e-12


def _as_schedule(func: str, schedule: object) -> Schedule:
    """A schedule from a Schedule or a spec string (parse errors keep their column and caret)."""
    if isinstance(schedule, str):
        return parse(schedule)
    if not isinstance(schedule, Schedule):
        raise RampupError.invalid(
            func, "schedule", schedule, "a Schedule or a spec string such as 'linear(5%)'"
        )
    return schedule


def _unbound(s: Schedule) -> Schedule:
    return s.schedule if isinstance(s, Bound) else s


def _product_note(s: Schedule) -> list[str]:
    """A note for ``warmup * decay``: the decay runs from step 0, under the warmup, not after it.

    A product's factors are all evaluated at the same global step, and a ramp without a length is
    a decay over the whole run: ``linear(5%) * cosine`` is ``min(1, (t+1)/50)`` times a cosine
    from step 0, so the decay has already begun when the warmup ends. That is one documented
    meaning, but a reader of ``a * b`` as "a warmup factor onto a decay" may mean ``a >> b``.
    """
    if not isinstance(s, Product) or len(s.factors) < 2:
        return []
    first, rest = s.factors[0], s.factors[1:]
    if not (isinstance(first, Phase) and getattr(first, "length", None) is not None):
        return []
    if not any(isinstance(f, Ramp) and f.length is None for f in rest):
        return []
    tail = " * ".join(str(f) for f in rest)
    return [
        f"product: {s} multiplies its factors at the same step, so {tail} decays from step 0,"
        f" under {first}, not after it; for a decay that starts at the peak once the warmup"
        f" ends, write {first} >> {tail}"
    ]


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Boundary:
    """A phase boundary: ``step`` is the first update of the next phase.

    ``before`` is the value at ``step - 1`` (the last update of the previous phase), ``value`` the
    value at ``step``; they differ where the schedule jumps (a constant warmup).
    """

    step: int
    before: float
    value: float


@dataclass(frozen=True)
class Summary:
    r"""What a schedule does over a run of ``total_steps`` updates (the ``rampup show`` table).

    Values are the schedule's (multipliers of the base learning rate) times ``peak`` when a peak
    learning rate was given. ``warmup_steps`` is the number of updates up to and including the
    first one at the peak; ``effective_warmup`` is Ma & Yarats' (2019) effective warmup length
    :math:`\sum_t (1 - w_t)` over those updates, with :math:`w_t` the value divided by the peak
    value (a linear warmup of ``W`` steps has ``(W - 1) / 2``).
    """

    spec: str
    total_steps: int
    steps_per_epoch: float | None
    peak: float | None
    step_0: float
    step_1: float | None
    peak_step: int
    peak_value: float
    boundaries: tuple[Boundary, ...]
    last_step: int
    last_value: float
    after_run: float
    warmup_steps: int
    effective_warmup: float
    zero_steps: int
    first_zero_step: int | None
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the ``rampup show --json`` schema); boundaries become a list of dicts."""
        data = asdict(self)
        data["boundaries"] = [asdict(b) for b in self.boundaries]
        data["warnings"] = list(self.warnings)
        return data


def _scan(s: Schedule, total: int) -> tuple[float, int, int | None]:
    """One pass over steps ``0 .. total - 1``: (maximum, number of zeros, first zero step)."""
    top = -math.inf
    zeros = 0
    first_zero: int | None = None
    for lo in range(0, total, _CHUNK):
        v = s.values(np.arange(lo, min(lo + _CHUNK, total), dtype=np.float64))
        top = max(top, float(v.max()))
        is_zero = v == 0.0
        n = int(is_zero.sum())
        if n and first_zero is None:
            first_zero = lo + int(np.argmax(is_zero))
        zeros += n
    return top, zeros, first_zero


def _warmup(s: Schedule, total: int, top: float) -> tuple[int, float]:
    """(first step at the peak, sum of 1 - value/peak over steps 0 .. that step)."""
    threshold = top - _PEAK_RTOL * abs(top)
    acc = 0.0
    for lo in range(0, total, _CHUNK):
        v = s.values(np.arange(lo, min(lo + _CHUNK, total), dtype=np.float64))
        at_peak = v >= threshold
        if at_peak.any():
            k = int(np.argmax(at_peak))
            acc += float(np.sum(1.0 - v[: k + 1] / top)) if top != 0 else 0.0
            return lo + k, acc
        acc += float(np.sum(1.0 - v / top)) if top != 0 else 0.0
    return total - 1, acc  # pragma: no cover - the maximum is always reached within the run


def summarize(
    schedule: Schedule | str,
    total_steps: int,
    steps_per_epoch: float | None = None,
    peak: float | None = None,
) -> Summary:
    """The key values of ``schedule`` over a run of ``total_steps`` updates (``rampup show``).

    ``schedule`` is a :class:`~rampup.Schedule` or a spec string; it is bound to the run
    (``steps_per_epoch`` converts epoch lengths). ``peak``, if given, is the peak learning rate the
    values are multiplied by. Warnings flag a warmup longer than 30 % of the run, updates at a
    learning rate of exactly 0, a run without warmup (update 0 already at the peak; then
    there is no warmup to call long, however short the run), and a rise of more than 5 % of the
    peak at a phase boundary (``linear(20, to=0.9) >> constant`` holds 1, not 0.9).

    >>> s = summarize("linear(4) >> cosine", total_steps=8)
    >>> s.step_0, s.peak_step, s.effective_warmup, round(s.last_value, 4)
    (0.25, 3, 1.5, 0.1464)
    """
    func = "summarize"
    total, steps_per_epoch, scale = checked_run(func, total_steps, steps_per_epoch, peak)
    s = _as_schedule(func, schedule).bind(total_steps=total, steps_per_epoch=steps_per_epoch)
    top, zeros, first_zero = _scan(s, total)
    if not math.isfinite(top):  # pragma: no cover - the core refuses non-finite values
        raise RampupError.invalid(
            func, "schedule", str(s), "a schedule with finite values over the run"
        )
    peak_step, effective = _warmup(s, total, top)

    def at(t: int) -> float:
        return scale * s(t)

    bounds = tuple(Boundary(b, at(b - 1), at(b)) for b in s.bounds if 0 < b < total)
    warnings: list[str] = []
    warmup_steps = peak_step + 1
    if peak_step > 0 and warmup_steps > LONG_WARMUP * total:  # peak at update 0: no warmup
        warnings.append(
            f"long warmup: the peak is first reached at step {peak_step}, after"
            f" {warmup_steps / total:.0%} of the run (more than {LONG_WARMUP:.0%}): most of the"
            " run is spent below the peak"
        )
    if zeros:
        warnings.append(
            f"{zeros} update{'s' if zeros > 1 else ''} at a learning rate of exactly 0 (first at"
            f" step {first_zero}): {'it is' if zeros == 1 else 'they are'} wasted"
        )
    if peak_step == 0 and total > 1:
        warnings.append("no warmup: update 0 already uses the peak value")
    warnings.extend(
        f"jump at step {b.step}: from {b.before:.4g} to {b.value:.4g}; intended for a constant"
        " warmup, otherwise give the next phase its start (start=, or value= for constant): a"
        " phase without one starts at the peak, 1"
        for b in bounds
        if b.value - b.before > JUMP * abs(scale * top)
    )
    warnings.extend(_product_note(_unbound(s)))
    return Summary(
        spec=str(_unbound(s)),
        total_steps=total,
        steps_per_epoch=steps_per_epoch,
        peak=peak,
        step_0=at(0),
        step_1=at(1) if total > 1 else None,
        peak_step=peak_step,
        peak_value=scale * top,
        boundaries=bounds,
        last_step=total - 1,
        last_value=at(total - 1),
        after_run=at(total),
        warmup_steps=warmup_steps,
        effective_warmup=effective,
        zero_steps=zeros,
        first_zero_step=first_zero,
        warnings=tuple(warnings),
    )
