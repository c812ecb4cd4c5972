"""The public path of :mod:`rampup.core.clock`: the protocol a controller implements."""

from __future__ import annotations

from rampup.core.clock import ClockController, checked_clock

__all__ = ["ClockController", "checked_clock"]
