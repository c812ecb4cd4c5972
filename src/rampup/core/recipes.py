"""Named compositions: the warmup-plus-decay recipes practitioners ask for by name.

Each returns an ordinary :class:`~rampup.core.schedule.Chain`, so it prints as the phases it is made
of and composes like any other schedule.
"""

from __future__ import annotations

from rampup.core._checks import check_choice, check_number
from rampup.core.schedule import Chain
from rampup.core.shapes import Constant, Cosine, Exp, Linear, Poly, Ramp, Sqrt
from rampup.core.units import Length, parse_length

__all__ = ["tri_stage", "warmup_cosine", "warmup_linear", "wsd"]


def _length(func: str, param: str, value: object) -> Length:
    """Check a recipe's length under the recipe's own name; return it in canonical form."""
    span = parse_length(func, param, value)
    return int(span.amount) if span.is_absolute else str(span)


_WARMUPS: dict[str, type[Ramp]] = {"linear": Linear, "cosine": Cosine, "poly": Poly}
_COOLDOWNS: dict[str, type[Ramp]] = {"linear": Linear, "cosine": Cosine, "sqrt": Sqrt}


def warmup_cosine(warmup: Length, *, to: float = 0.0, shape: str = "linear") -> Chain:
    """A warmup of ``warmup`` steps, then a cosine decay to ``to`` over the rest of the run.

    ``warmup_cosine("5%", to=0.01)`` is ``linear(5%) >> cosine(to=0.01)``; the peak is used by
    the last warmup update and the first decay update (nanoGPT, and the classic recipes' warmup
    + cosine).
    """
    warmup = _length("warmup_cosine", "warmup", warmup)
    check_choice("warmup_cosine", "shape", shape, tuple(_WARMUPS))
    to = check_number("warmup_cosine", "to", to, low=0.0)
    return _WARMUPS[shape](warmup) >> Cosine(to=to)


def warmup_linear(warmup: Length, *, to: float = 0.0) -> Chain:
    r"""A linear warmup, then a linear decay to ``to`` over the rest of the run (BERT, HF).

    With ``W`` warmup steps of a run of ``T``, ``D = T - W``:
    :math:`s(t) = (t + 1) / W` for :math:`t < W`, then
    :math:`to + (1 - to)\,(D - (t - W)) / D`, which reaches ``to`` at ``t = T``, where it holds.

    >>> from rampup import warmup_linear
    >>> [warmup_linear(2).bind(total_steps=6)(t) for t in range(7)]
    [0.5, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    warmup = _length("warmup_linear", "warmup", warmup)
    to = check_number("warmup_linear", "to", to, low=0.0)
    return Linear(warmup) >> Linear(to=to)


def wsd(warmup: Length, *, decay: Length = "20%", to: float = 0.0, shape: str = "sqrt") -> Chain:
    r"""Warmup-stable-decay (Hu et al. 2024, MiniCPM; Hägele et al. 2024).

    A linear warmup, a constant stable phase that takes the rest of the run, and a cooldown of
    length ``decay`` (a fraction of the run by default) with ``shape`` ``"sqrt"`` (1-sqrt),
    ``"linear"`` or ``"cosine"`` down to ``to``. With ``W`` warmup steps, a cooldown of ``D`` and
    a run of ``T``: :math:`s(t) = (t + 1) / W` for :math:`t < W`, 1 up to ``T - D``, then with
    :math:`u = t - (T - D)` the 1-sqrt cooldown :math:`to + (1 - to)(1 - \sqrt{u / D})`.
    """
    warmup = _length("wsd", "warmup", warmup)
    decay = _length("wsd", "decay", decay)
    check_choice("wsd", "shape", shape, tuple(_COOLDOWNS))
    to = check_number("wsd", "to", to, low=0.0)
    return Linear(warmup) >> Constant() >> _COOLDOWNS[shape](decay, start=1.0, to=to)


def tri_stage(
    warmup: Length,
    hold: Length,
    decay: Length,
    *,
    start: float = 0.01,
    to: float = 0.01,
) -> Chain:
    r"""Tri-stage (fairseq, wav2vec 2.0): linear from ``start`` to 1, hold, exponential to ``to``.

    With ``W`` warmup, ``H`` hold and ``D`` decay steps:
    :math:`s(t) = start + (1 - start)\,t / (W - 1)` for :math:`t < W` (1 on the last warmup
    step), 1 for ``H`` steps, then with :math:`u = t - W - H` the geometric decay
    :math:`to^{u / D}`, which reaches ``to`` at the step after its last; ``to`` then holds.
    """
    warmup = _length("tri_stage", "warmup", warmup)
    hold = _length("tri_stage", "hold", hold)
    decay = _length("tri_stage", "decay", decay)
    start = check_number("tri_stage", "start", start, low=0.0, low_open=True)
    to = check_number("tri_stage", "to", to, low=0.0, low_open=True)
    return Linear(warmup, start=start) >> Constant(hold) >> Exp(decay, start=1.0, to=to)
