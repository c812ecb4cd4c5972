r"""torch's ``SequentialLR`` of a warmup and ``CosineAnnealingLR``, in closed form."""

from __future__ import annotations

from rampup.core._checks import check_choice, check_number
from rampup.core._errors import fail
from rampup.core.compat._common import check_steps
from rampup.core.schedule import Chain, Phase, Schedule
from rampup.core.shapes import (
    Constant,
    Cosine,
    Linear,
)

__all__ = ["torch_sequential"]


def torch_sequential(
    warmup: str = "linear",
    *,
    warmup_iters: int,
    t_max: int,
    start_factor: float | None = None,
    factor: float | None = None,
    eta_min_ratio: float = 0.0,
) -> Schedule:
    r"""The lrs of torch's ``SequentialLR(warmup, CosineAnnealingLR, milestones=[warmup_iters])``.

    ``warmup="linear"`` is ``LinearLR(start_factor, total_iters=warmup_iters)``: update ``t``
    uses :math:`s + (1 - s)\,t / W`, reaching the peak one step late, at ``t = W``, where the
    cosine starts. ``warmup="constant"`` is ``ConstantLR(factor, total_iters=warmup_iters)``:
    ``factor`` for ``W`` updates, then a jump to the peak. The cosine is
    ``CosineAnnealingLR(T_max=t_max, eta_min=eta_min_ratio * base_lr)``:

    .. math:: r + (1 - r)\,\tfrac12 (1 + \cos(\pi (t - W) / T_{max}))

    reaching ``r = eta_min_ratio`` at ``t = W + T_max``, after which it holds (torch's turns back
    up). The defaults of ``start_factor`` and ``factor`` are torch's, 1/3. torch computes these
    values recursively (each from the previous one), which drifts by rounding; these are its
    closed forms. One step is one call of ``scheduler.step()`` (an epoch if stepped per epoch).

    >>> from rampup.core import compat
    >>> s = compat.torch_sequential(warmup_iters=10, start_factor=0.1, t_max=90, eta_min_ratio=1e-3)
    >>> s(0), s(10), s(100)
    (0.1, 1.0, 0.001)
    """
    func = "torch_sequential"
    check_choice(func, "warmup", warmup, ("linear", "constant"))
    w = check_steps(func, "warmup_iters", warmup_iters, low=1)
    t = check_steps(func, "t_max", t_max, low=1)
    r = check_number(func, "eta_min_ratio", eta_min_ratio, low=0.0, high=1.0)
    first: Phase
    if warmup == "linear":
        if factor is not None:
            raise fail(func, "factor", factor, "start_factor= with warmup='linear'")
        sf = 1.0 / 3.0 if start_factor is None else start_factor
        sf = check_number(func, "start_factor", sf, low=0.0, high=1.0, low_open=True)
        first = Linear(w, start=sf, endpoint=False)
    else:
        if start_factor is not None:
            raise fail(func, "start_factor", start_factor, "factor= with warmup='constant'")
        f = 1.0 / 3.0 if factor is None else factor
        f = check_number(func, "factor", f, low=0.0, high=1.0)
        first = Constant(w, f)
    return Chain((first, Cosine(t, start=1.0, to=r)))
