"""Adaptive warmup (public path): :class:`AdaptiveWarmup`, its :class:`Action`, the ``auto`` phase.

The controller lives in the guard package, :mod:`rampup.guard.adaptive` (what it does to the clock
is documented there), the cross-rank reduction in :mod:`rampup.guard.reduce`, and the ``auto``
warmup it runs with in the core, :mod:`rampup.core.auto_warmup`; this module re-exports them, so
``from rampup.adaptive import AdaptiveWarmup`` keeps working. ``rampup.AdaptiveWarmup`` is the
same class.
"""

from __future__ import annotations

from rampup.core.auto_warmup import SGD_WARMUP, Auto
from rampup.guard.adaptive import Action, AdaptiveWarmup, RestoreRequired
from rampup.guard.reduce import reduce_max

__all__ = ["SGD_WARMUP", "Action", "AdaptiveWarmup", "Auto", "RestoreRequired", "reduce_max"]
