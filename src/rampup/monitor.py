"""The stability monitor (public path): :class:`Monitor`, :class:`Event` and its kinds.

It lives in the guard package, :mod:`rampup.guard.monitor` (the rules and their formulas are
documented there), :mod:`rampup.guard.events` and the modules beside them; this module re-exports
it, so ``from rampup.monitor import Monitor, Event`` keeps working. ``rampup.Monitor`` is the
same class.
"""

from __future__ import annotations

from rampup.guard.events import EVENT_KINDS, Event, EventKind
from rampup.guard.monitor import Monitor

__all__ = ["EVENT_KINDS", "Event", "EventKind", "Monitor"]
