"""What the monitor says: one :class:`~rampup.guard.events.Event` builder per rule, in words.

Each message says what happened, where (during the warmup or after it) and what to do, e.g.
``loss spiked x13.2 during warmup at step 9 (25 against a running median of 1.9): consider a
longer warmup or a lower peak learning rate``. The advice depends on whether the step is inside
the warmup (``warm``) and whether the warmup is known (``warmup_steps``, None if not).

>>> spike(9, 25.0, 1.9, True, 100).message[:42]
'loss spiked x13.2 during warmup at step 9 '
"""

from __future__ import annotations

import math

from rampup.guard.events import Event, EventKind

__all__ = ["classic", "divergence", "grad_spike", "nonfinite", "spike", "stall"]


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _spiked(
    kind: EventKind, what: str, t: int, v: float, m: float, warm: bool, advice: str
) -> Event:
    """A spike of ``what`` at step ``t``: value ``v`` above the running median ``m``."""
    ratio = f"x{v / m:.3g}" if m > 0 else f"by +{_fmt(v - m)}"
    where = " during warmup" if warm else ""
    msg = (
        f"{what} spiked {ratio}{where} at step {t} ({_fmt(v)} against a running median of"
        f" {_fmt(m)}): {advice}"
    )
    return Event(t, kind, v, m, warm, msg)


def spike(t: int, x: float, m: float, warm: bool, warmup_steps: int | None) -> Event:
    """A loss spike at step ``t``: loss ``x`` above the running median ``m``."""
    advice = (
        "consider a longer warmup or a lower peak learning rate"
        if warm or warmup_steps is None
        else "consider a lower learning rate, gradient clipping, or restoring a checkpoint"
    )
    return _spiked("spike", "loss", t, x, m, warm, advice)


def grad_spike(t: int, g: float, m: float, warm: bool, warmup_steps: int | None) -> Event:
    """A gradient spike at step ``t``: norm ``g`` above the running median ``m``."""
    advice = (
        "the warmup is too short for this peak learning rate: consider a longer warmup"
        if warm or warmup_steps is None
        else "consider gradient clipping or a lower learning rate"
    )
    return _spiked("grad_spike", "gradient norm", t, g, m, warm, advice)


def nonfinite(t: int, kind: EventKind, what: str, x: float, warm: bool) -> Event:
    """A NaN or infinite ``what`` (loss, gradient norm, update norm) at step ``t``."""
    where = " during warmup" if warm else ""
    msg = (
        f"{what} is {x}{where} at step {t}: the weights may already be corrupt; restore the"
        " last good checkpoint and use a longer warmup or a lower peak learning rate"
        " (with mixed precision, check the gradient scaler)"
    )
    return Event(t, kind, x, math.nan, warm, msg)


def divergence(
    t: int,
    x: float,
    l0: float,
    factor: float,
    above: int,
    warm: bool,
    warmup_steps: int | None,
) -> Event:
    """A divergence at step ``t``: above ``factor`` x the initial loss ``l0`` ``above`` times."""
    when = "during warmup" if warm else "after the warmup" if warmup_steps else ""
    advice = (
        "the warmup is too short or the peak learning rate too high: use a longer"
        " warmup or a lower peak"
        if warm or warmup_steps is None
        else "lower the learning rate or restore an earlier checkpoint"
    )
    msg = (
        f"loss diverged {when + ' ' if when else ''}at step {t}: above"
        f" {factor:g}x the initial loss ({_fmt(l0)}) for"
        f" {above} updates in a row (now {_fmt(x)}): {advice}"
    )
    return Event(t, "divergence", x, l0, warm, msg)


def classic(t: int, x: float, k: float, l0: float, level: float, warm: bool) -> Event:
    r"""The classic rule at step ``t``: loss ``x`` above ``level``.

    The level is :math:`\ell_0 + (k - 1)\,|\ell_0|` (:math:`k\,\ell_0` for a positive
    :math:`\ell_0`), ``k`` the classic factor and ``l0`` the initial loss.
    """
    how = (
        f"above {k:g}x the initial loss ({_fmt(l0)})"
        if l0 > 0
        else f"above {_fmt(level)}, the initial loss ({_fmt(l0)}) plus {k - 1:g}x its magnitude"
    )
    msg = (
        f"loss unstable during warmup at step {t}: {_fmt(x)} is {how} (the classic rule:"
        f" a warmup loss above {k:g}x its initial value): consider a longer warmup"
    )
    return Event(t, "classic_rule", x, l0, warm, msg)


def stall(
    t: int,
    m: float,
    then: float,
    l0: float,
    patience: int,
    grads: tuple[float, float],
    warm: bool,
    warmup_steps: int | None,
) -> Event:
    """A stall at step ``t``: smoothed loss ``m`` (``then`` ``patience`` updates ago) stuck.

    ``l0`` is the initial loss, ``grads`` the gradient's recent level and its peak.
    """
    r, peak = grads
    where = " during warmup" if warm else ""
    advice = (
        "the warmup is too short for this peak learning rate (the model is stuck at a trivial"
        " solution): rewind to an earlier checkpoint and use a longer warmup or a lower peak"
        if warm or warmup_steps is None or t < 4 * warmup_steps
        else "lower the learning rate or restore an earlier checkpoint"
    )
    msg = (
        f"loss stalled{where} at step {t}: {_fmt(m)} (smoothed), {_fmt(then)} {patience}"
        f" updates earlier, still {m / l0:.2g}x the initial loss ({_fmt(l0)}), while the"
        f" gradient norm fell to {r / peak:.2g}x its peak ({_fmt(r)} against {_fmt(peak)}):"
        f" {advice}"
    )
    return Event(t, "stall", m, l0, warm, msg)
