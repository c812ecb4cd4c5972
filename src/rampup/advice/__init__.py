"""The advice: what a schedule does over a run, and which warmup to use (a tool).

- :mod:`rampup.advice.summary`: :func:`~rampup.advice.summary.summarize`, the table behind
  ``rampup show`` (the values at steps 0 and 1, the peak, each boundary, the end, warnings);
- :mod:`rampup.advice.suggestion`: :func:`~rampup.advice.suggestion.suggest` and
  :class:`~rampup.advice.suggestion.Suggestion` (public as ``rampup.suggest`` and
  ``rampup.Suggestion``), a warmup derived from published rules, capped at a quarter of the run
  and measured when a probe's result or a critical lr is given (its batch, cap and measurement
  rules in the private :mod:`rampup.advice._rules`).

Imports: the standard library, numpy, the core's public modules (``rampup.core.schedule``,
``rampup.core.shapes``, ``rampup.core.spec``, ``rampup.core.checks``, ``rampup.core.measured``)
and the tools' shared run check (``rampup.advice._runs``). Never an adapter, the CLI, the guard
or the lab; nothing in the core imports this package.
"""

from __future__ import annotations

from rampup.advice.suggestion import Suggestion, suggest
from rampup.advice.summary import Boundary, Summary, summarize

__all__ = ["Boundary", "Suggestion", "Summary", "suggest", "summarize"]
