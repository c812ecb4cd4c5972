"""The former home of the plots, kept so existing imports keep working.

``rampup.plotting`` re-exports the curves (:mod:`rampup.cli.curves`), the matplotlib figures
(:mod:`rampup.cli.plots`) and the terminal plot (:mod:`rampup.cli.terminal`). It imports
neither matplotlib nor typer. New code imports from those modules.
"""

from __future__ import annotations

from rampup.cli.curves import MAX_POINTS, SCALE_GAP, Curve, curves, one_scale, sample_steps
from rampup.cli.plots import FORMATS, plot, plot_curves, save
from rampup.cli.terminal import (
    MARKERS,
    MIN_HEIGHT,
    MIN_WIDTH,
    TerminalPlot,
    render_terminal,
    terminal_plot,
    terminal_schedules,
)

__all__ = [
    "FORMATS",
    "MARKERS",
    "MAX_POINTS",
    "MIN_HEIGHT",
    "MIN_WIDTH",
    "SCALE_GAP",
    "Curve",
    "TerminalPlot",
    "curves",
    "one_scale",
    "plot",
    "plot_curves",
    "render_terminal",
    "sample_steps",
    "save",
    "terminal_plot",
    "terminal_schedules",
]
