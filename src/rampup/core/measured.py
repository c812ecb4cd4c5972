r"""Measured warmup: from a critical learning rate to a warmup, and the probe's result.

The probe (:func:`rampup.probe`, torch in :mod:`rampup.torch.probe`) measures the **critical
learning rate** :math:`\eta_c` of a model at initialisation: the largest lr whose first update
does not raise the loss on its batch (Kalra & Barkeshli 2024, arXiv 2406.09405: the "loss
catapult" threshold). This module turns it into a warmup, in pure arithmetic, so that ``auto``,
``suggest`` and the probe share one rule:

- **the cap.** No warmup is longer than :data:`WARMUP_CAP` (a quarter) of the run: past that the
  peak is held too briefly for the decay to use it. The β2 rule of Ma & Yarats (2019),
  :math:`2 / (1 - \beta_2)` updates, is cut to the cap when the run is short (:func:`rule_steps`).
- **without a β2** (SGD, momentum): the warmup starts at half the critical lr,
  :math:`s = \min(1, \eta_c / (2\eta))` of the peak :math:`\eta` (:data:`START_FRACTION`; on a
  quadratic model the threshold is :math:`2/\lambda` and the fastest one-step descent half of
  it), and keeps the rule's slope from there: the rule climbs :math:`\eta / W` per update from
  0, so from :math:`s\eta` it reaches the peak after :math:`W' = \lceil W (1 - s) \rceil` updates
  (:func:`measured_warmup`). A peak at or below :math:`\eta_c / 2` needs no warmup.
- **with a β2** (Adam and its kin) the β2 rule's length and start are kept: an adaptive update's
  size is about the lr in every coordinate whatever the gradient, and the lab measured the
  one-step :math:`\eta_c` 2-10x above the peak where Adam without warmup fails (the failure comes
  later, while the second-moment estimate rests on few gradients: the rule's own reason).
  :math:`\eta_c` is reported, and a peak above it is flagged: even the first update overshoots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rampup.core._checks import check_number
from rampup.core._errors import RampupError
from rampup.core.shapes import untuned_steps

__all__ = [
    "START_FRACTION",
    "WARMUP_CAP",
    "MeasuredWarmup",
    "ProbeResult",
    "ProbeTrial",
    "measured_warmup",
    "rule_steps",
    "slope_steps",
]

#: The longest warmup, as a fraction of the run: a quarter.
WARMUP_CAP = 0.25
#: Where a measured warmup starts, as a fraction of the critical lr: half.
START_FRACTION = 0.5


def rule_steps(total_steps: int, beta2: float | None = None) -> int:
    r"""The warmup rule's length in updates, before any measurement.

    :math:`\min(\mathrm{round}(2 / (1 - \beta_2)), \lfloor c\,T \rfloor)` for Adam-like
    optimizers (``beta2`` given), :math:`\lfloor c\,T \rfloor` without a :math:`\beta_2` (SGD),
    :math:`c` = :data:`WARMUP_CAP`, :math:`T` = ``total_steps``; at least 1.

    >>> rule_steps(400, 0.98), rule_steps(400, 0.999), rule_steps(400)
    (100, 100, 100)
    >>> rule_steps(10_000, 0.999)
    2000
    """
    cap = max(1, math.floor(WARMUP_CAP * total_steps))
    if beta2 is None:
        return cap
    return max(1, min(untuned_steps(beta2), cap))


def slope_steps(steps: int, start: float) -> int:
    r"""The length of the rule's ramp of ``steps`` updates started at ``start``, same slope.

    :math:`\max(1, \lceil W (1 - s) \rceil)` updates (a hair below an integer rounds down).

    >>> slope_steps(100, 0.25), slope_steps(25, 0.0625), slope_steps(10, 0.0)
    (75, 24, 10)
    """
    return max(1, math.ceil(steps * (1.0 - start) - 1e-9))


@dataclass(frozen=True)
class MeasuredWarmup:
    """A warmup derived from a critical lr: ``linear(steps, start=start)``, then the decay."""

    steps: int  # 0: no warmup
    start: float  # the first update's lr, as a fraction of the peak
    reasons: tuple[str, ...]

    def spec(self, decay: str = "cosine") -> str:
        """The spec string of this warmup followed by ``decay``; it parses."""
        if self.steps == 0:
            return decay
        start = f", start={self.start!r}" if self.start > 0 else ""
        return f"linear({self.steps}{start}) >> {decay}"


def measured_warmup(
    critical_lr: float, peak_lr: float, total_steps: int, beta2: float | None = None
) -> MeasuredWarmup:
    r"""The warmup for a peak lr given the measured critical lr (see the module's docstring).

    Without ``beta2``: :math:`W = ` :func:`rule_steps`, :math:`s = \min(1, \eta_c / (2\eta))`,
    :math:`W' = \lceil W (1 - s) \rceil` updates starting at ``start`` :math:`= s` (none when
    :math:`s = 1`). With ``beta2``: the rule, ``linear(W)`` from 0.

    >>> m = measured_warmup(0.4, 3.2, 100)  # SGD: start at 0.2 = 1/16 of the peak
    >>> m.steps, m.start, m.spec()
    (24, 0.0625, 'linear(24, start=0.0625) >> cosine')
    >>> measured_warmup(4.0, 1.6, 100).steps  # the peak is below half the critical lr
    0
    >>> measured_warmup(0.06, 1e-2, 200, beta2=0.999).spec()  # Adam: the rule, cut to fit
    'linear(50) >> cosine'
    """
    func = "measured_warmup"
    crit = check_number(func, "critical_lr", critical_lr, low=0.0, what="a finite lr >= 0")
    peak = check_number(func, "peak_lr", peak_lr, low=0.0, low_open=True, what="a finite lr > 0")
    if not isinstance(total_steps, int) or isinstance(total_steps, bool) or total_steps < 1:
        raise RampupError.invalid(func, "total_steps", total_steps, "an int >= 1")
    w = rule_steps(total_steps, beta2)
    cap = math.floor(WARMUP_CAP * total_steps)
    if beta2 is not None:
        b2 = check_number(func, "beta2", beta2, low=0.0, high=1.0, low_open=True, high_open=True)
        above = (
            f"the peak {peak:.3g} is above the critical lr {crit:.3g}: even the first update at "
            "the peak raises the loss"
            if crit < peak
            else f"the critical lr {crit:.3g} is above the peak {peak:.3g}: the first update is "
            "stable, but with Adam the failure comes later"
        )
        return MeasuredWarmup(w, 0.0, (
            f"the beta2 rule: min(2 / (1 - {b2:g}) = {untuned_steps(b2)}, {WARMUP_CAP:g} of the "
            f"run = {cap}) = {w} updates, from 0 (an adaptive optimizer's early updates are "
            "about the lr in every coordinate; its second moment rests on few gradients)",
            above,
        ))  # fmt: skip
    s = float(f"{min(1.0, START_FRACTION * crit / peak):.4g}")  # as the spec prints it
    if s >= 1.0:
        return MeasuredWarmup(0, 1.0, (
            f"the peak {peak:.3g} is at or below half the critical lr {crit:.3g}: updates at the "
            "peak are stable from the first one, no warmup is needed",
        ))  # fmt: skip
    steps = slope_steps(w, s)
    return MeasuredWarmup(steps, s, (
        f"without a beta2 the rule's length is {WARMUP_CAP:g} of the run: {w} updates",
        f"start at half the critical lr: {START_FRACTION * crit:.3g} = {s:.3g} x the peak "
        f"{peak:.3g}",
        f"the rule's slope from there: {w} x (1 - {s:.3g}) = {steps} updates",
    ))  # fmt: skip


@dataclass(frozen=True)
class ProbeTrial:
    """One trial of the probe: one update at ``lr`` from the initial state, on batch ``batch``."""

    lr: float
    loss_before: float
    loss_after: float  # nan when the update made the loss non-finite
    stable: bool  # the loss did not rise (and stayed finite)
    batch: int = 0


@dataclass(frozen=True)
class ProbeResult:
    r"""What :func:`rampup.probe` measured and what it advises.

    ``critical_lr`` is the largest lr found stable (every trial at or below it kept the loss from
    rising); ``unstable_lr`` the smallest found unstable (inf if none was). ``warmup`` is
    :func:`measured_warmup` for ``peak_lr``; ``cost`` the forward/backward passes spent, in
    updates (a forward-only pass counts 1/3), against ``budget`` (3 % of the run's updates).
    """

    critical_lr: float
    unstable_lr: float
    peak_lr: float
    peak_given: bool
    total_steps: int
    beta2: float | None
    warmup: MeasuredWarmup
    trials: tuple[ProbeTrial, ...]
    cost: float
    budget: float
    reasons: tuple[str, ...] = field(default=())

    @property
    def spec(self) -> str:
        """The advised schedule as a spec string (the warmup, then ``cosine``); it parses."""
        return self.warmup.spec()

    @property
    def auto_spec(self) -> str:
        """The same warmup as ``auto`` with its guard: ``Scheduler(opt, result.auto_spec, ...)``.

        ``auto(beta2) >> cosine`` with a beta2; ``auto(optimizer=sgd, start=s) >> cosine``
        without (the same length: ``auto`` applies the same rule to ``start``); ``cosine`` when
        no warmup is needed.
        """
        if self.warmup.steps == 0:
            return "cosine"
        if self.beta2 is not None:
            return f"auto({self.beta2!r}) >> cosine"
        start = f", start={self.warmup.start!r}" if self.warmup.start > 0 else ""
        return f"auto(optimizer=sgd{start}) >> cosine"

    @property
    def warmup_steps(self) -> int:
        """The advised warmup's length in updates (0: none)."""
        return self.warmup.steps

    @property
    def start(self) -> float:
        """The advised warmup's first value, as a fraction of the peak."""
        return self.warmup.start

    def __str__(self) -> str:
        lines = [
            f"critical lr {self.critical_lr:.4g} (first unstable {self.unstable_lr:.4g}), "
            f"peak {self.peak_lr:.4g} ({'given' if self.peak_given else 'the optimizer lr'}): "
            f"{self.spec}",
            f"cost: {self.cost:.3g} updates of forward/backward, within the budget of "
            f"{self.budget:.3g} ({100 * self.budget / self.total_steps:.3g} % of "
            f"{self.total_steps})",
        ]
        lines += [f"- {r}" for r in (*self.reasons, *self.warmup.reasons)]
        return "\n".join(lines)
