"""The few math operations every formula uses, for scalars and for arrays alike.

Each shape writes its formula once as a factory ``make(xp)``; ``xp`` is :data:`SCALAR` for the
per-step path (plain float math, no numpy) or an array namespace (``numpy``, ``jax.numpy``) for
the vectorised path. The same expression in the same order on both paths keeps them within an
ulp of each other. Powers go through ``xp.float_power`` (libm's ``pow`` on both paths): numpy's
``**`` may use a SIMD power that differs from libm's by an ulp, which later operations magnify.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

__all__ = ["SCALAR", "Formula", "Ops"]

#: An operations namespace: ``math``-like for scalars, ``numpy``-like for arrays.
Ops = Any

#: A compiled formula: local step (float or array) to value (float or array).
Formula = Callable[[Any], Any]


def _where(cond: bool, yes: float, no: float) -> float:
    return yes if cond else no


SCALAR: Ops = SimpleNamespace(
    cos=math.cos,
    sqrt=math.sqrt,
    exp=math.exp,
    expm1=math.expm1,
    float_power=math.pow,
    log=math.log,
    floor=math.floor,
    minimum=min,
    maximum=max,
    where=_where,
)
