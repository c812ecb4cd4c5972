"""The guard under ``torch.distributed``: every rank decides on the same, reduced, numbers.

:func:`reduced` takes one update's signals (loss, gradient norm, update norm) to their maximum
over the ranks with a single ``all_reduce(MAX)``: the largest loss and norm of any rank, and a
non-finite value on any rank is non-finite (NaN) everywhere. NaN never enters the reduction
(``max`` with NaN is not defined across backends): each signal travels as three numbers,
``(given, bad, value)`` with ``value = -inf`` when it is not given or not finite. torch is
imported only when a reduction runs; :func:`distributed_active` never imports it.
"""

from __future__ import annotations

import math
import sys

__all__ = ["distributed_active", "reduce_max", "reduced", "reduced_rows"]


def reduce_max(values: list[float], group: object = None) -> list[float]:
    """Element-wise maximum of ``values`` over every rank of ``torch.distributed``.

    One ``all_reduce(MAX)`` of a float64 CPU tensor (gloo; with NCCL, pass a group of a gloo
    backend or call it on tensors yourself). NaN never enters the reduction: callers encode
    non-finite values as flags (see :func:`reduced`).
    """
    import torch  # noqa: PLC0415  # the framework is imported only when distributed
    import torch.distributed as dist  # noqa: PLC0415

    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX, group=group)
    return [float(x) for x in t.tolist()]


def distributed_active() -> bool:
    """True if torch.distributed is initialised with more than one rank (never imports torch)."""
    dist = sys.modules.get("torch.distributed")
    if dist is None:
        return False
    try:
        return bool(dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1)
    except Exception:  # pragma: no cover - a half-initialised process group
        return False


def reduced(
    x: float, g: float | None, u: float | None, group: object = None
) -> tuple[float, float | None, float | None]:
    """The signals' maximum over the ranks; non-finite anywhere is NaN everywhere.

    ``g`` and ``u`` are None where not given; a signal given on no rank stays None (a loss given
    nowhere cannot happen: every rank passes one).
    """
    ((loss, g, u),) = reduced_rows([(x, g, u)], group)
    return loss, g, u


def reduced_rows(
    rows: list[tuple[float, float | None, float | None]], group: object = None
) -> list[tuple[float, float | None, float | None]]:
    """:func:`reduced` for several updates at once, with one ``all_reduce`` for all of them."""
    vec: list[float] = []
    for row in rows:
        for v in row:
            if v is None:
                vec += [0.0, 0.0, -math.inf]  # not given on this rank
            elif math.isfinite(v):
                vec += [1.0, 0.0, v]
            else:
                vec += [1.0, 1.0, -math.inf]  # NaN never enters the reduction: a flag does
    out = reduce_max(vec, group)
    result = []
    for r in range(len(rows)):
        res: list[float | None] = []
        for i in range(3 * r, 3 * r + 3):
            flag, bad, value = out[3 * i : 3 * i + 3]
            res.append(None if not flag else (math.nan if bad else value))
        loss = res[0]
        result.append(((math.nan if loss is None else loss), res[1], res[2]))
    return result
