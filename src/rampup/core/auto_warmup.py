r"""The ``auto`` warmup: a core phase that brings its controller (the stability guard).

``auto(beta2)`` is the untuned warmup of Ma & Yarats (2019), linear over
:math:`W = \mathrm{round}(2 / (1 - \beta_2))` updates (:func:`rampup.core.shapes.untuned_steps`),
meant to run with :class:`rampup.adaptive.AdaptiveWarmup`. The phase is core (it imports only
the core); the controller is a tool, looked up only when :meth:`Auto.guard` is called, so the
spec registry and ``import rampup`` never load it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, ClassVar

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import RampupError
from rampup.core._ops import Formula, Ops
from rampup.core.ramps import linear_warmup
from rampup.core.schedule import Bound, Phase, PhaseContext, Schedule
from rampup.core.shapes import untuned_steps
from rampup.core.units import Span

if TYPE_CHECKING:
    from rampup.guard import AdaptiveWarmup

__all__ = ["SGD_WARMUP", "Auto"]

#: The warmup of ``auto(optimizer=sgd)``: 5 % of the run (Goyal et al. 2017 warm up large-batch
#: SGD for 5 of 90 epochs, about 5.6 %).
SGD_WARMUP = "5%"


@dataclass(frozen=True, eq=True, repr=False)
class Auto(Phase):
    r"""The ``auto`` warmup: untuned length, linear shape, meant to run with the guard.

    ``optimizer="adam"`` (default): linear over :math:`W = \mathrm{round}(2 / (1 - \beta_2))`
    updates (Ma & Yarats 2019; 2000 for ``beta2=0.999``, 100 for 0.98); update ``t`` uses
    ``(t + 1) / W`` and the peak is reached on update ``W - 1``, as ``linear(W)``.
    ``optimizer="sgd"``: SGD has no :math:`\beta_2`; the warmup is 5 % of the run (needs
    ``total_steps``), after Goyal et al. (2017). Pair it with
    :class:`~rampup.adaptive.AdaptiveWarmup` (see :meth:`guard`), which holds or slows it while
    training is unstable.

    >>> import rampup
    >>> s = rampup.parse("auto(0.98) >> cosine").bind(total_steps=400)
    >>> s(0), s(99), s(100)
    (0.01, 1.0, 1.0)
    """

    beta2: float = 0.999
    _: KW_ONLY
    optimizer: str = "adam"
    spec_name: ClassVar[str] = "auto"
    positional: ClassVar[tuple[str, ...]] = ("beta2",)

    def _validate(self) -> None:
        b2 = check_number(
            "auto", "beta2", self.beta2, low=0.0, high=1.0, low_open=True, high_open=True,
            what="Adam's beta2 in (0, 1), e.g. 0.999",
        )  # fmt: skip
        object.__setattr__(self, "beta2", b2)
        check_choice("auto", "optimizer", self.optimizer, ("adam", "sgd"))

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
        if self.optimizer == "sgd":
            return Span(float(SGD_WARMUP[:-1]), "percent")
        return Span(float(untuned_steps(self.beta2)), "steps")

    def _formula(
        self, length: int | None, pc: PhaseContext
    ) -> tuple[Callable[[Ops], Formula], float]:
        if length is None:  # pragma: no cover - the length span is always set
            raise RampupError(f"{self}: the auto warmup has no length")
        # linear(W)'s default warmup, (t + 1) / W, wherever the phase stands in the chain
        return linear_warmup(length), 1.0
