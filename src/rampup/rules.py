"""The former home of the advice, kept so existing imports keep working.

``rampup.rules`` re-exports :mod:`rampup.advice`: :func:`summarize` (behind ``rampup show``)
and :func:`suggest` with :class:`Suggestion`. New code imports from :mod:`rampup.advice`.
"""

from __future__ import annotations

from rampup.advice._runs import checked_run
from rampup.advice.suggestion import MODELS, OPTIMIZERS, SIZES, Suggestion, suggest
from rampup.advice.summary import JUMP, LONG_WARMUP, Boundary, Summary, summarize

__all__ = [
    "JUMP",
    "LONG_WARMUP",
    "MODELS",
    "OPTIMIZERS",
    "SIZES",
    "Boundary",
    "Suggestion",
    "Summary",
    "checked_run",
    "suggest",
    "summarize",
]
