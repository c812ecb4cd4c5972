"""The guard: the stability monitor and the adaptive warmup it drives (a tool).

Modules, lowest first, one concept each:

- :mod:`~rampup.guard.windows`: rolling windows, their running median and MAD (the baselines);
- :mod:`~rampup.guard.events`: :class:`Event` and the kinds of events (:data:`EVENT_KINDS`);
- :mod:`~rampup.guard.messages`: what each rule says, in words, with its advice;
- :mod:`~rampup.guard.history`: the per-update history and its exports (columns, curves, CSV,
  JSON);
- :mod:`~rampup.guard.stall`: the stall rule's arithmetic (the flat, high, collapsed test);
- :mod:`~rampup.guard.rule_checks`: the rules' per-update checks and thresholds, the base of
  :class:`Monitor`;
- :mod:`~rampup.guard.monitor`: :class:`Monitor`, the detector (its rules and their formulas);
- :mod:`~rampup.guard.monitor_state`: the monitor's checkpoint, written and read back checked;
- :mod:`~rampup.guard.reduce`: the signals reduced across ``torch.distributed`` ranks;
- :mod:`~rampup.guard.reads`: deferred values read once per ``read_every`` updates;
- :mod:`~rampup.guard.actions`, :mod:`~rampup.guard.adaptive_state`: the guard's actions and
  its checkpoint;
- :mod:`~rampup.guard.adaptive`: :class:`AdaptiveWarmup`, the clock controller that holds,
  slows, stretches and rewinds the warmup;
- ``_fields``: plain data for the states (non-finite floats as strings, a strict field reader),
  private to the guard.

The probe, which measures a model before training, is torch code: :mod:`rampup.torch.probe`.

Imports: the core's public modules (``rampup``, :mod:`rampup.core.checks`, the schedule and spec
modules), the standard library and numpy, and the guard itself. Never an adapter (torch is
imported lazily by :mod:`~rampup.guard.reduce`, and only under ``torch.distributed``), never
another tool, with one exception loaded on use: :meth:`Monitor.curves` builds
:class:`rampup.cli.curves.Curve` objects, importing them when called. The callbacks of
:mod:`rampup.torch.callbacks` feed a monitor or a guard without importing this package: they
depend on the protocols of :mod:`rampup.core.watch`, which :class:`Monitor`, :class:`Event`,
:class:`AdaptiveWarmup` and :class:`Action` satisfy. Public paths: ``rampup.Monitor``,
``rampup.AdaptiveWarmup`` (loaded from here on first use), and :mod:`rampup.monitor`,
:mod:`rampup.adaptive` (re-exports).
"""

from __future__ import annotations

from rampup.guard.adaptive import Action, AdaptiveWarmup, RestoreRequired
from rampup.guard.events import EVENT_KINDS, Event
from rampup.guard.monitor import Monitor
from rampup.guard.reduce import reduce_max

__all__ = [
    "EVENT_KINDS",
    "Action",
    "AdaptiveWarmup",
    "Event",
    "Monitor",
    "RestoreRequired",
    "reduce_max",
]
