"""Schedules: pure, closed-form functions from the training clock to a value.

Everything in rampup is a :class:`Schedule`. Phases (:mod:`rampup.core.shapes`) are joined with
``>>`` into a :class:`Chain`, in which every phase sees its own local step; ``*`` multiplies
schedules (a warmup factor dampening any schedule, or a constant scale); :meth:`Schedule.bind`
resolves epochs and fractions of the run to steps once.

The clock: step ``t = 0, 1, 2, ...`` is the t-th optimizer update and ``s(t)`` the value that
update uses. After the last phase of a chain the final value holds for ever.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from rampup.core._errors import RampupError, fail
from rampup.core._ops import Formula, Ops
from rampup.core.kernel import (
    Context,
    Kernel,
    PhaseContext,
    Segment,
    chain_make,
    chain_pieces,
    held,
    runner,
    segment,
)
from rampup.core.kernel import (
    values as values_at,
)
from rampup.core.units import MAX_STEPS, Span, parse_length

__all__ = [
    "Bound",
    "Chain",
    "Context",
    "Kernel",
    "Phase",
    "PhaseContext",
    "Product",
    "Schedule",
    "Segment",
]


class _CallSignature:
    """``inspect.signature(s)`` of a schedule instance: ``(step, /) -> float``.

    ``__call__`` is a slot (see :class:`Schedule`), which :mod:`inspect` cannot read. On the
    class the descriptor gives None, so ``inspect.signature(Linear)`` is still the constructor's.
    """

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return None
        import inspect  # noqa: PLC0415  # only when asked: not on the import path of rampup

        step = inspect.Parameter("step", inspect.Parameter.POSITIONAL_ONLY, annotation=float)
        return inspect.Signature([step], return_annotation=float)


class Schedule:
    """Base class of every schedule: a pure function from the step to a value.

    ``s(t)`` evaluates at one step with plain float math; ``s.values(steps)`` evaluates a numpy
    array of steps at once. ``a >> b`` joins phases, ``a * b`` multiplies schedules,
    ``s.bind(total_steps=..., steps_per_epoch=...)`` resolves relative lengths, ``str(s)`` is a
    spec that :func:`rampup.parse` reads back to an equal schedule.
    """

    #: The schedule's name in the spec language.
    spec_name: ClassVar[str] = ""

    if TYPE_CHECKING:

        def __call__(self, step: float) -> float:
            """The value at ``step`` (the value update number ``step`` uses)."""
            ...

    else:
        # The hot path: ``s(t)`` calls the compiled closure directly. ``__call__`` is a slot, so
        # the type's lookup of it finds a C member descriptor that reads the closure from the
        # instance: no Python frame between the caller and the formula (a Python-level __call__
        # forwarding to the closure costs a frame; a property over an attrgetter, a dict lookup).
        __slots__ = ("__call__", "__dict__", "__weakref__")
        __signature__ = _CallSignature()

    def __post_init__(self) -> None:
        self._validate()
        object.__setattr__(self, "__call__", self._first_call)

    def _validate(self) -> None:
        """Check the parameters; raise :class:`RampupError` naming the bad one."""

    # -- compilation -------------------------------------------------------------------------
    def _build(self, ctx: Context) -> Kernel:
        raise NotImplementedError

    def _kernel(self) -> Kernel:
        cached: Kernel | None = self.__dict__.get("_kernel_cache")
        if cached is None:
            cached = self._build(self._context())
            object.__setattr__(self, "_kernel_cache", cached)
        return cached

    def _context(self) -> Context:
        return Context()

    def _first_call(self, step: float) -> float:
        fn = runner(self._kernel())
        object.__setattr__(self, "__call__", fn)
        return fn(step)

    def __getstate__(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "__call__", self._first_call)

    # -- evaluation --------------------------------------------------------------------------
    def values(self, steps: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Evaluate at many steps at once (vectorised; equal to ``s(t)`` within an ulp).

        numpy's ``exp``, ``cos`` and ``power`` may round differently from :mod:`math`'s by one
        ulp, so each formula agrees within an ulp and a product of ``k`` factors within ``k``.

        >>> from rampup import linear
        >>> linear(4).values([0, 1, 2, 3, 4]).tolist()
        [0.25, 0.5, 0.75, 1.0, 1.0]
        """
        return values_at(self._kernel(), steps)

    def as_function(self) -> Callable[[float], float]:
        """The compiled per-step function: same values and checks as ``s(t)``, one call cheaper.

        ``s(t)`` pays Python's dispatch of a call on an instance; adapters and tight loops take
        the plain closure once and call it directly.

        >>> from rampup import linear
        >>> f = linear(4).as_function()
        >>> f(0), f(3), f(10)
        (0.25, 1.0, 1.0)
        """
        fn: Callable[[float], float] = self.__call__
        if fn == self._first_call:
            fn = runner(self._kernel())
            object.__setattr__(self, "__call__", fn)
        return fn

    def segment(self, step: float) -> Segment:
        """The stretch of the schedule around ``step`` that one formula covers.

        Returns ``(lo, hi, offset, formula)``: for every step ``lo <= t < hi`` the value is
        ``formula(t - offset)``, exactly ``s(t)``. An adapter that steps through a schedule
        keeps the segment and calls the phase's own formula while its clock stays inside,
        asking again only when the clock leaves it. The last segment of a schedule that ends
        holds its final value up to ``hi = inf``.

        >>> from rampup import parse
        >>> s = parse("linear(4) >> cosine(4)")
        >>> lo, hi, offset, f = s.segment(5)
        >>> (lo, hi, offset), f(5 - offset) == s(5)
        ((4, 8, 4), True)
        """
        return segment(self._kernel(), step)

    def array_formula(self, xp: Ops) -> Formula:
        """The whole schedule as one formula over an array namespace ``xp`` (e.g. ``jax.numpy``).

        Branch-free (``xp.where`` between phases), so it traces under ``jax.jit``.
        """
        return held(self._kernel(), xp)

    @property
    def bounds(self) -> tuple[int, ...]:
        """The global steps where a phase begins (after the first) and where the schedule ends."""
        kernel = self._kernel()
        return kernel.bounds

    @property
    def final_step(self) -> int | None:
        """The first step from which the final value holds, or None if open-ended."""
        return self._kernel().length

    # -- composition -------------------------------------------------------------------------
    def __rshift__(self, other: Schedule) -> Chain:
        if not isinstance(other, Phase | Chain):
            return NotImplemented
        return Chain((*_phases_of(self, ">>"), *_phases_of(other, ">>")))

    def __mul__(self, other: Schedule | float) -> Product:
        if isinstance(other, bool) or not isinstance(other, Schedule | int | float):
            return NotImplemented
        return _product(self, other)

    def __rmul__(self, other: float) -> Product:
        if isinstance(other, bool) or not isinstance(other, int | float):
            return NotImplemented
        return _product(other, self)

    def bind(self, total_steps: int | None = None, steps_per_epoch: float | None = None) -> Bound:
        """Resolve every length to steps for a run of ``total_steps`` updates.

        ``total_steps`` is the whole run including warmup; ``steps_per_epoch`` converts ``"ep"``
        lengths. Both are at most 2**53, as is every length they resolve. Binding an already
        bound schedule re-binds it (e.g. for a longer run).

        >>> from rampup import parse
        >>> s = parse("linear(10%) >> cosine").bind(total_steps=100)
        >>> s(0), s(9), s(10)
        (0.1, 1.0, 1.0)
        """
        total: object = total_steps
        if isinstance(total, np.integer):
            total = int(total)  # numpy's integers are ints too
        if total is not None and (
            isinstance(total, bool) or not isinstance(total, int) or not 1 <= total <= MAX_STEPS
        ):
            raise fail(
                "bind",
                "total_steps",
                total_steps,
                f"a positive int (the whole run) of at most 2**53 = {MAX_STEPS}",
            )
        per_epoch: object = steps_per_epoch
        if isinstance(per_epoch, np.integer | np.floating):
            per_epoch = float(per_epoch)  # numpy's numbers too
        if per_epoch is not None and (
            isinstance(per_epoch, bool)
            or not isinstance(per_epoch, int | float)
            or not 0 < per_epoch <= MAX_STEPS  # also NaN; an int too large for a float compares
        ):
            raise fail(
                "bind",
                "steps_per_epoch",
                steps_per_epoch,
                f"a positive finite number of at most 2**53 = {MAX_STEPS}",
            )
        inner = self.schedule if isinstance(self, Bound) else self
        bound = Bound(inner, total, per_epoch)
        bound._kernel()  # resolve now: errors belong to the bind() call
        return bound

    # -- printing ----------------------------------------------------------------------------
    def __str__(self) -> str:
        from rampup.core.spec import to_spec  # noqa: PLC0415  # spec imports this module

        return to_spec(self)

    def to_dict(self) -> dict[str, Any]:
        """The schedule as plain data (JSON/YAML-ready); :func:`rampup.from_dict` reads it back."""
        from rampup.core.spec import to_dict  # noqa: PLC0415  # spec imports this module

        return to_dict(self)


def _phases_of(s: Schedule, op: str) -> tuple[Phase, ...]:
    if isinstance(s, Chain):
        return s.phases
    if isinstance(s, Phase):
        return (s,)
    raise RampupError(
        f"{op}: only phases and chains can be joined with >>, got {type(s).__name__} {s}:"
        " multiply whole schedules with * instead"
    )


def _product(a: Schedule | float, b: Schedule | float) -> Product:
    factors: list[Schedule] = []
    scale = 1.0
    for x in (a, b):
        if isinstance(x, Product):
            factors.extend(x.factors)
            scale *= x.scale
        elif isinstance(x, Schedule):
            factors.append(x)
        else:
            scale *= float(x)
    return Product(tuple(factors), scale)


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=True, repr=False)
class Phase(Schedule):
    """One phase of a schedule: a shape over ``length`` steps (or open-ended / the rest of the run).

    Subclasses implement :meth:`_formula`. On its own a phase is a chain of one phase: after its
    length its final value holds.
    """

    #: Whether the shape is defined without a length (constant, step decays, noam, ...).
    open_ended: ClassVar[bool] = False

    def _length_span(self) -> Span | None:
        length = getattr(self, "length", None)
        return None if length is None else parse_length(self.spec_name, "length", length)

    def _steps(self, ctx: Context, span: Span) -> int:
        """The phase's length in whole steps in ``ctx``: its span resolved (``auto`` caps it)."""
        return ctx.steps(self.spec_name, "length", span)

    def _formula(
        self, length: int | None, pc: PhaseContext
    ) -> tuple[Callable[[Ops], Formula], float]:
        """Return ``(make, final)`` for a phase of ``length`` steps at ``pc``."""
        raise NotImplementedError

    def _build(self, ctx: Context) -> Kernel:
        return Chain((self,))._build(ctx)

    def __repr__(self) -> str:
        return f"rampup.parse({str(self)!r})"


@dataclass(frozen=True, eq=True, repr=False)
class Chain(Schedule):
    """Phases one after another; each phase sees its own local step ``t - start_of_phase``.

    At most one phase may leave out its length: it takes the rest of the run (``total_steps``
    minus the other phases). An open-ended last phase (constant, step, noam, inverse sqrt, ...)
    runs for ever when no ``total_steps`` is known. After the last phase the final value holds.
    """

    phases: tuple[Phase, ...]
    spec_name: ClassVar[str] = ">>"

    def _validate(self) -> None:
        if not isinstance(self.phases, tuple) or not self.phases:
            raise fail("Chain", "phases", self.phases, "a non-empty tuple of phases")
        for p in self.phases:
            if not isinstance(p, Phase):
                raise fail("Chain", "phases", p, "phases (linear, cosine, ...) to join with >>")
        loose = [p for p in self.phases if p._length_span() is None]
        if len(loose) > 1:
            names = ", ".join(str(p) for p in loose)
            raise RampupError(
                f">>: more than one phase leaves out its length ({names}): at most one phase may"
                " take the rest of the run; give the others a length"
            )

    def _build(self, ctx: Context) -> Kernel:
        spans = [p._length_span() for p in self.phases]
        lengths: list[int | None] = [
            None if sp is None else p._steps(ctx, sp)
            for p, sp in zip(self.phases, spans, strict=True)
        ]
        fixed = sum(n for n in lengths if n is not None)
        if fixed > MAX_STEPS:
            raise RampupError(
                f">>: {self} takes {fixed} steps: expected a schedule of at most 2**53 ="
                f" {MAX_STEPS} steps (every step below that is exact in a float64)"
            )
        if None in lengths:
            k = lengths.index(None)
            is_last = k == len(lengths) - 1
            if ctx.total_steps is not None:
                rest = ctx.total_steps - fixed
                if rest < 1:
                    raise RampupError(
                        f"bind(): total_steps={ctx.total_steps} is invalid: the phases with a"
                        f" length take {fixed} steps, leaving {rest} for {self.phases[k]}; expected"
                        " a run longer than the other phases"
                    )
                lengths[k] = rest
            elif not (is_last and self.phases[k].open_ended):
                what = "the last phase" if is_last else "a phase before the last"
                raise RampupError(
                    f"{self.phases[k]}: {what} has no length, so it takes the rest of the run,"
                    " but no total_steps is known: give it a length or call"
                    " .bind(total_steps=...)"
                )
        if ctx.total_steps is not None and fixed > ctx.total_steps:
            raise RampupError(
                f"bind(): total_steps={ctx.total_steps} is invalid: the phases take {fixed}"
                " steps; expected a run at least as long as the warmup and the phases with a"
                " length"
            )
        makes: list[Callable[[Ops], Formula]] = []
        starts: list[int] = []
        ends: list[float] = []
        offset = 0
        final = math.nan
        for i, (p, n) in enumerate(zip(self.phases, lengths, strict=True)):
            make, final = p._formula(n, PhaseContext(ctx, i, offset))
            makes.append(make)
            starts.append(offset)
            if n is None:
                ends.append(math.inf)
                break
            offset += n
            ends.append(offset)
        open_end = ends[-1] == math.inf
        length = None if open_end else offset
        bounds = tuple(int(e) for e in ends if e != math.inf)
        pieces = chain_pieces(makes, starts, ends)
        return Kernel(chain_make(makes, starts, ends), length, final, bounds, pieces)


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=True, repr=False)
class Product(Schedule):
    """The product of schedules (and a constant ``scale``), each evaluated at the global step.

    ``untuned(0.999) * (linear(5%) >> cosine)`` dampens a schedule with a warmup factor;
    ``1e-3 * schedule`` turns multipliers into absolute values.
    """

    factors: tuple[Schedule, ...]
    scale: float = 1.0
    spec_name: ClassVar[str] = "*"

    def _validate(self) -> None:
        if not isinstance(self.factors, tuple) or not all(
            isinstance(f, Schedule) for f in self.factors
        ):
            raise fail("Product", "factors", self.factors, "a tuple of schedules")
        if not math.isfinite(self.scale) or self.scale < 0:
            raise fail("*", "scale", self.scale, "a finite number >= 0 (values are never negative)")

    def _build(self, ctx: Context) -> Kernel:
        kernels = [f._build(ctx) for f in self.factors]
        scale = self.scale
        lengths = [k.length for k in kernels]
        length = None if None in lengths or not kernels else max(n for n in lengths if n)
        final = scale
        for k in kernels:
            final *= k.final
        bounds = tuple(sorted({b for k in kernels for b in k.bounds}))

        def make(xp: Ops) -> Formula:
            parts = [held(k, xp) for k in kernels]
            if len(parts) == 1:
                (p0,) = parts
                return lambda t: scale * p0(t)
            if len(parts) == 2:
                p0, p1 = parts
                if scale == 1.0:
                    return lambda t: p0(t) * p1(t)
                return lambda t: scale * (p0(t) * p1(t))

            def prod(t: Any) -> Any:
                out: Any = scale
                for p in parts:
                    out = out * p(t)
                return out

            return prod

        return Kernel(make, length, final, bounds)


@dataclass(frozen=True, eq=True, repr=False)
class Bound(Schedule):
    """A schedule bound to a run: ``total_steps`` and ``steps_per_epoch`` resolve its lengths."""

    schedule: Schedule
    total_steps: int | None = None
    steps_per_epoch: float | None = None
    spec_name: ClassVar[str] = "bind"

    def _validate(self) -> None:
        if not isinstance(self.schedule, Schedule) or isinstance(self.schedule, Bound):
            raise fail("bind", "schedule", self.schedule, "an unbound schedule")

    def _context(self) -> Context:
        return Context(self.total_steps, self.steps_per_epoch)

    def _build(self, ctx: Context) -> Kernel:
        return self.schedule._build(self._context())


def map_phases(s: Schedule, fn: Callable[[Phase], Phase]) -> Schedule:
    """``s`` with every phase ``p`` replaced by ``fn(p)``; chains, products and binds kept."""
    if isinstance(s, Phase):
        return fn(s)
    if isinstance(s, Chain):
        return Chain(tuple(fn(p) for p in s.phases))
    if isinstance(s, Product):
        return Product(tuple(map_phases(f, fn) for f in s.factors), s.scale)
    if isinstance(s, Bound):
        return Bound(map_phases(s.schedule, fn), s.total_steps, s.steps_per_epoch)
    return s


def iter_phases(s: Schedule) -> Iterator[Phase]:
    """Every phase inside ``s``, in order."""
    if isinstance(s, Phase):
        yield s
    elif isinstance(s, Chain):
        yield from s.phases
    elif isinstance(s, Product):
        for f in s.factors:
            yield from iter_phases(f)
    elif isinstance(s, Bound):
        yield from iter_phases(s.schedule)
