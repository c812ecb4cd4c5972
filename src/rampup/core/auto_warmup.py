r"""The ``auto`` warmup: a core phase that brings its controller (the stability guard).

``auto`` is the untuned warmup of Ma & Yarats (2019), linear over
:math:`2 / (1 - \beta_2)` updates, cut to a quarter of the run when the run is short
(:func:`rampup.core.measured.rule_steps`), started at a measured critical lr when one is given
(``start``), and meant to run with :class:`rampup.adaptive.AdaptiveWarmup`. The phase is core (it
imports only the core); the controller is a tool, looked up only when :meth:`Auto.guard` is
called, so the spec registry and ``import rampup`` never load it.

A bare ``auto`` reads :math:`\beta_2` from the optimizer it is attached to
(:func:`fit_optimizer`, which :class:`rampup.torch.Scheduler` calls): Adam's own, or the SGD rule
for an optimizer without one. Unattached it assumes Adam's default 0.999.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, ClassVar

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import RampupError
from rampup.core._ops import Formula, Ops
from rampup.core.kernel import Context
from rampup.core.measured import WARMUP_CAP, rule_steps, slope_steps
from rampup.core.ramps import Linear, linear_warmup
from rampup.core.schedule import Bound, Phase, PhaseContext, Schedule, map_phases
from rampup.core.shapes import untuned_steps
from rampup.core.units import Span

if TYPE_CHECKING:
    from rampup.guard import AdaptiveWarmup

__all__ = ["DEFAULT_BETA2", "SGD_WARMUP", "Auto", "fit_optimizer"]

#: The beta2 a bare ``auto`` assumes when no optimizer tells it one: Adam's default.
DEFAULT_BETA2 = 0.999
#: The warmup of ``auto(optimizer=sgd)`` before any measurement: the cap, a quarter of the run
#: (:data:`rampup.core.measured.WARMUP_CAP`). The lab measured 5 % (Goyal et al.'s 5 of 90
#: epochs) too short for large-batch SGD at a high peak (docs/results.md).
SGD_WARMUP = f"{100 * WARMUP_CAP:g}%"


@dataclass(frozen=True, eq=True, repr=False)
class Auto(Phase):
    r"""The ``auto`` warmup: the rule's length, capped to fit, linear, meant to run with the guard.

    The length :math:`W` in updates, for a run of :math:`T` updates (``total_steps``):

    - ``optimizer="adam"`` (default): :math:`W = \min(\mathrm{round}(2 / (1 - \beta_2)),
      \lfloor T/4 \rfloor)` (Ma & Yarats 2019; 2000 for ``beta2=0.999``, 100 for 0.98), cut to a
      quarter of the run when the rule does not fit (:func:`rampup.core.measured.rule_steps`);
      unbound (no :math:`T`) the rule's length is used as it is. ``beta2`` left out: the
      optimizer's (see :func:`fit_optimizer`), else 0.999.
    - ``optimizer="sgd"``: no :math:`\beta_2`; :math:`W = \lfloor T/4 \rfloor` (needs
      ``total_steps``).
    - ``start`` :math:`s` (default 0): the first update's fraction of the peak, e.g. the probe's
      (:func:`rampup.probe`: half the measured critical lr over the peak). The ramp keeps the
      rule's slope from there: :math:`W' = \lceil W (1 - s) \rceil` updates, the values of
      ``linear(W', start=s)``: :math:`s + (1 - s)\, t / (W' - 1)`. With :math:`s = 0` update
      :math:`t` uses :math:`(t + 1) / W`, as ``linear(W)``.

    Pair it with :class:`~rampup.adaptive.AdaptiveWarmup` (see :meth:`guard`), which holds or
    slows it while training is unstable.

    >>> import rampup
        >>> s = rampup.parse("auto(0.98) >> cosine").bind(total_steps=400)
        >>> s(0), s(99), s(100)
        (0.01, 1.0, 1.0)
        >>> rampup.parse("auto(0.999) >> cosine").bind(total_steps=400).bounds[0]  # 2000 cut to 100
        100
        >>> rampup.parse("auto(0.98, start=0.5) >> cosine").bind(total_steps=400).bounds[0]
        50
    """

    beta2: float | None = None
    _: KW_ONLY
    optimizer: str = "adam"
    start: float = 0.0
    spec_name: ClassVar[str] = "auto"
    positional: ClassVar[tuple[str, ...]] = ("beta2",)

    def _validate(self) -> None:
        check_choice("auto", "optimizer", self.optimizer, ("adam", "sgd"))
        if self.beta2 is not None:
            b2 = check_number(
                "auto", "beta2", self.beta2, low=0.0, high=1.0, low_open=True, high_open=True,
                what="Adam's beta2 in (0, 1), e.g. 0.999 (or leave it out: the optimizer's)",
            )  # fmt: skip
            if self.optimizer == "sgd":
                raise RampupError.invalid(
                    "auto", "beta2", self.beta2, "no beta2 with optimizer=sgd (SGD has none)"
                )
            object.__setattr__(self, "beta2", b2)
        start = check_number(
            "auto", "start", self.start, low=0.0, high=1.0, high_open=True,
            what="the first update's fraction of the peak, in [0, 1), e.g. a measured "
            "critical lr over the peak",
        )  # fmt: skip
        object.__setattr__(self, "start", start)

    @property
    def effective_beta2(self) -> float | None:
        """The beta2 the length uses: the given one, 0.999 when left out, None with SGD."""
        if self.optimizer == "sgd":
            return None
        return DEFAULT_BETA2 if self.beta2 is None else self.beta2

    def guard(self, schedule: Schedule) -> AdaptiveWarmup:
        """The controller this warmup runs with: :class:`~rampup.adaptive.AdaptiveWarmup`.

        ``rampup.torch.Scheduler`` attaches it on its own when the learning-rate schedule
        starts with ``auto`` and no controller is given; feed it with
        ``scheduler.controller.observe(loss)`` before each ``scheduler.step()``. The controller
        is a tool: it is imported here, on use, never when the core is imported.
        """
        from rampup.guard import AdaptiveWarmup  # noqa: PLC0415  # a tool: looked up on use

        total = schedule.total_steps if isinstance(schedule, Bound) else None
        return AdaptiveWarmup.for_schedule(schedule, total_steps=total)

    def _length_span(self) -> Span:
        b2 = self.effective_beta2
        if b2 is None:
            return Span(100 * WARMUP_CAP, "percent")
        return Span(float(untuned_steps(b2)), "steps")

    def _steps(self, ctx: Context, span: Span) -> int:
        b2 = self.effective_beta2
        if ctx.total_steps is None:  # unbound: the rule as it is (SGD's percent raises here)
            w = ctx.steps(self.spec_name, "length", span)
        else:
            w = rule_steps(ctx.total_steps, b2)
        if self.start > 0:
            w = slope_steps(w, self.start)
        return w

    def _formula(
        self, length: int | None, pc: PhaseContext
    ) -> tuple[Callable[[Ops], Formula], float]:
        if length is None:  # pragma: no cover - the length span is always set
            raise RampupError(f"{self}: the auto warmup has no length")
        if self.start > 0:  # linear(W', start=s): the same ramp, written once in Linear
            return Linear(length, start=self.start)._formula(length, pc)
        # linear(W)'s default warmup, (t + 1) / W, wherever the phase stands in the chain
        return linear_warmup(length), 1.0


def fit_optimizer(schedule: Schedule, beta2s: Sequence[float | None]) -> Schedule:
    """``schedule`` with each bare ``auto`` told the optimizer's beta2 (one per param group).

    A phase ``auto`` with no ``beta2`` (and ``optimizer="adam"``) becomes ``auto(b2)`` with the
    largest of the groups' ``beta2s`` (the longest rule: every group's second moment settles),
    or ``auto(optimizer=sgd)`` when no group has one (SGD, momentum, Adagrad ...). A given
    ``beta2`` or ``optimizer=sgd`` is kept as it is.

    >>> import rampup
    >>> str(fit_optimizer(rampup.parse("auto >> cosine"), [0.98, 0.95]))
    'auto(0.98) >> cosine'
    >>> str(fit_optimizer(rampup.parse("auto >> cosine"), [None]))
    'auto(optimizer=sgd) >> cosine'
    """
    known = [b for b in beta2s if b is not None]

    def fit(p: Phase) -> Phase:
        if not isinstance(p, Auto) or p.beta2 is not None or p.optimizer != "adam":
            return p
        if known:
            return Auto(max(known), start=p.start)
        return Auto(optimizer="sgd", start=p.start)

    return map_phases(schedule, fit)
