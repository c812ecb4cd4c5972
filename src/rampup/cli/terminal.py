"""Plots of schedules as text for the terminal: :func:`render_terminal`, :func:`terminal_plot`.

plotext (the ``cli`` extra, imported when a plot is drawn) draws the curves in braille dots, each
in a colour that names its curve; rampup lays out the frame around them: the title, a y axis of
3 ticks, the x axis with ``┴`` under each phase boundary, the x range and the legend, every line
within the width. In plain text (a pipe, a log file) each curve after the first is written in its
own glyph (:data:`MARKERS`), the legend showing the same glyph, so the curves stay apart without
colour.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rampup import RampupError
from rampup.advice._runs import checked_run
from rampup.cli.curves import MAX_POINTS, Curve, Schedules, _curves, one_scale
from rampup.core.checks import check_count

__all__ = [
    "MARKERS",
    "MIN_HEIGHT",
    "MIN_WIDTH",
    "TerminalPlot",
    "render_terminal",
    "terminal_plot",
    "terminal_schedules",
]

#: Narrowest terminal plot, in characters (a narrower terminal gets a plot this wide).
MIN_WIDTH = 20
#: Lowest terminal plot, in text rows of the plotting area.
MIN_HEIGHT = 4
#: The glyphs of curves 1, 2, ... in plain text (curve 0 keeps the braille dots), in order.
MARKERS = ("+", "x", "o", "*", "#", "%", "=", "@")

Segment = tuple[str, int | None]


def _marker(curve: int) -> str | None:
    """The glyph of curve ``curve`` in plain text: None (braille dots) for curve 0, then MARKERS."""
    return None if curve == 0 else MARKERS[(curve - 1) % len(MARKERS)]


@dataclass
class TerminalPlot:
    """A plot as text: ``lines`` of segments ``(text, curve)``, ``curve`` the index to colour by.

    ``str(plot)`` is the plain text, in which each curve has its own glyph (curve 0 braille dots,
    then ``+``, ``x``, ``o``, ... as in :data:`MARKERS`; the legend shows the same glyph), so the
    curves can be told apart without colour. :meth:`text` with ``markers=False`` keeps every
    curve in braille dots, for a console that colours each segment by its curve.
    ``notes`` says which curves were rescaled to share the y axis (:func:`one_scale`).
    """

    lines: list[list[Segment]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text(markers=True)

    def text(self, markers: bool = True) -> str:
        """The plot as plain text; with ``markers`` each curve after the first in its own glyph."""
        return "\n".join("".join(t for t, _ in line) for line in self.segments(markers))

    def segments(self, markers: bool) -> list[list[Segment]]:
        """``lines``, with each curve's cells written in its glyph when ``markers`` is true."""
        if not markers:
            return self.lines
        out = []
        for line in self.lines:
            row: list[Segment] = []
            for part, curve in line:
                glyph = None if curve is None else _marker(curve)
                shown = (
                    part if glyph is None else "".join(ch if ch == " " else glyph for ch in part)
                )
                row.append((shown, curve))
            out.append(row)
        return out

    @property
    def width(self) -> int:
        """The widest line, in characters."""
        return max((sum(len(t) for t, _ in line) for line in self.lines), default=0)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters at most, an ellipsis marking the cut."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 0 else ""


def _x_axis_labels(x_hi: float, xlabel: str, cols: int) -> str:
    """The line under the x axis, exactly ``cols`` characters: 0, the label, the last step.

    The label is left out when it does not fit with a space on each side; a last step too long
    for the line is written in 3 significant digits (``1e+15``), and the 0 is dropped last.
    """
    left, right = "0", f"{x_hi:,.0f}"
    if len(left) + 1 + len(right) > cols:
        right = f"{x_hi:.3g}"
    if len(left) + 1 + len(right) > cols:
        left = ""
    right = _clip(right, cols)
    room = cols - len(left) - len(right)
    middle = xlabel if len(xlabel) + 2 <= room else ""
    gap = room - len(middle)
    return left + " " * (gap // 2) + middle + " " * (gap - gap // 2) + right


def _curve_colour(curve: int) -> tuple[int, int, int]:
    """The RGB colour curve ``curve`` is drawn in by plotext: its index, written in base 256."""
    return ((curve >> 16) & 0xFF, (curve >> 8) & 0xFF, curve & 0xFF)


def _plot_area(
    points: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
    rows: int,
    cols: int,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> list[list[Segment]]:
    """The plotting area, ``rows`` x ``cols`` braille cells drawn by plotext, as segments.

    Each curve ``(x, y)`` is drawn with lines between its points, x from ``x_range[0]`` at the
    left edge to ``x_range[1]`` at the right, y from ``y_range[0]`` at the bottom to
    ``y_range[1]`` at the top. plotext draws curve ``i`` in the colour :func:`_curve_colour`,
    from which each cell's owner (the last curve drawn in it) is read back. plotext's figure and
    terminal limits are global: they are cleared before and reset after.
    """
    try:
        import plotext as plt  # noqa: PLC0415  # the library's import stays light
    except ImportError as exc:
        raise ImportError(
            f"rampup.cli.terminal needs plotext: pip install 'rampup[cli]' ({exc})"
        ) from exc
    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)  # the width asked for, not the terminal's
    try:
        for idx, (x, y) in enumerate(points):
            if x.size:
                marker = plt.marker("braille", pixel=_curve_colour(idx))
                fig.draw(fig.signal(x.tolist(), y.tolist(), marker=marker).lines().density("full"))
        fig.plot_size(cols, rows)
        fig.axes(False)
        fig.legend(False)
        rulers = fig.ruler("both")
        rulers.frequency(0)
        rulers.alignment(lim="edge")
        fig.ruler("x").lim(*x_range)
        fig.ruler("y").lim(*y_range)
        matrix = fig.build()
        chars = matrix.string(colorless=True).split("\n")
        out: list[list[Segment]] = []
        for r in range(rows):
            line = chars[r].ljust(cols)[:cols] if r < len(chars) else " " * cols
            row: list[Segment] = []
            for c, ch in enumerate(line):
                colour = matrix.get(r, c).foreground() if ch.strip() else None
                tag = None if colour is None else (colour[0] << 16) | (colour[1] << 8) | colour[2]
                if row and row[-1][1] == tag:
                    row[-1] = (row[-1][0] + ch, tag)
                else:
                    row.append((ch, tag))
            out.append(row)
        return out
    finally:
        fig.clear()
        plt.terminal.limit()


def _finite_xy(
    items: Sequence[Curve], log: bool
) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Each curve's drawable points; on a log scale, log10 of the positive values."""
    out = []
    for c in items:
        x = np.asarray(c.steps, dtype=np.float64)
        y = np.asarray(c.values, dtype=np.float64)
        keep = np.isfinite(y) & np.isfinite(x)
        if log:
            keep &= y > 0
        y = y[keep]
        out.append((x[keep], np.log10(y) if log else y))
    return out


def terminal_plot(
    items: Sequence[Curve],
    *,
    width: int | None = None,
    height: int = 12,
    log: bool = False,
    title: str = "",
    xlabel: str = "step",
) -> TerminalPlot:
    """Draw labelled curves in braille characters, within ``width`` columns (default: terminal).

    The plotting area, drawn by plotext, is ``height`` text rows of 4 dots each (2 dots a
    column); a value v sits at dot row about ``(hi - v) / (hi - lo) * (4 height - 1)`` and step x
    at dot column about ``x / x_max * (2 columns - 1)``, lines joining the points. Around it: a
    y axis of 3 ticks on the left, an x axis below with ``┴`` under each boundary, the x range,
    and a legend. A linear y axis
    starts at 0; a log one (``log``) leaves out values <= 0. Every line fits in ``width``
    characters; the default is the terminal's width, or :data:`MIN_WIDTH` if it is narrower.
    """
    func = "terminal_plot"
    if not isinstance(items, Sequence) or not items:
        raise RampupError.invalid(func, "items", items, "a non-empty sequence of Curve")
    for c in items:
        if not isinstance(c, Curve):
            raise RampupError.invalid(func, "items", c, "Curve objects")
    for param, text in (("title", title), ("xlabel", xlabel)):
        if not isinstance(text, str):
            raise RampupError.invalid(func, param, text, "a string")
    if not isinstance(log, bool):
        raise RampupError.invalid(func, "log", log, "True or False")
    if width is None:
        width = max(MIN_WIDTH, shutil.get_terminal_size((80, 24)).columns)
    width = check_count(func, "width", width, MIN_WIDTH, f"an int >= {MIN_WIDTH} (characters)")
    height = check_count(func, "height", height, MIN_HEIGHT, f"an int >= {MIN_HEIGHT} (text rows)")
    points = _finite_xy(items, log)
    if not any(y.size for _, y in points):
        what = "a positive value (log scale)" if log else "a finite value"
        raise RampupError.invalid(
            func, "items", [c.label for c in items], f"curves with {what} to draw"
        )
    lo = min(float(y.min()) for _, y in points if y.size)
    hi = max(float(y.max()) for _, y in points if y.size)
    x_hi = max(1.0, *(float(np.max(c.steps)) for c in items if np.size(c.steps)))
    if not log:
        lo = min(lo, 0.0)
    if hi == lo:
        hi, lo = hi + 0.5 * (abs(hi) or 1.0), lo - 0.5 * (abs(lo) or 1.0)
    labels = [_fmt(10**v if log else v) for v in (hi, (hi + lo) / 2, lo)]
    margin = max(len(s) for s in labels) + 1
    cols = width - margin - 1
    area = _plot_area(points, height, cols, (0.0, x_hi), (lo, hi))

    out = TerminalPlot()
    if title:
        out.lines.append([(_clip(title, width), None)])
    ticks = {0: labels[0], height // 2: labels[1], height - 1: labels[2]}
    for r in range(height):
        label = ticks.get(r)
        axis = "┤" if label is not None else "│"
        out.lines.append([((label or "").rjust(margin - 1) + " " + axis, None), *area[r]])
    axis_chars = ["─"] * cols
    for c in items:
        for bound in c.bounds:  # the cell holding the bound's dot column (2 dots a cell)
            dot = round(float(bound) / x_hi * (2 * cols - 1))
            axis_chars[min(max(dot, 0), 2 * cols - 1) // 2] = "┴"
    out.lines.append([(" " * margin + "└" + "".join(axis_chars), None)])
    out.lines.append([(" " * (margin + 1) + _x_axis_labels(x_hi, xlabel, cols), None)])
    for idx, c in enumerate(items):
        out.lines.append([("  ", None), ("⣿", idx), (" " + _clip(c.label, width - 4), None)])
    if any(c.bounds for c in items):
        out.lines.append([(_clip("  ┴ phase boundary", width), None)])
    return out


def render_terminal(
    schedules: Schedules,
    total_steps: int,
    steps_per_epoch: float | None = None,
    peak: float | None = None,
    width: int | None = None,
    height: int = 12,
    log: bool = False,
) -> str:
    """Plot schedules as text for the terminal (braille characters), ``width`` columns at most.

    The same curves as :func:`plot`, one or two values per character column, the legend below.
    """
    return str(
        terminal_schedules(schedules, total_steps, steps_per_epoch, peak, width, height, log)
    )


def terminal_schedules(
    schedules: Schedules,
    total_steps: int,
    steps_per_epoch: float | None,
    peak: float | None,
    width: int | None,
    height: int,
    log: bool,
) -> TerminalPlot:
    """The :class:`TerminalPlot` behind :func:`render_terminal`, its segments tagged by curve."""
    total, spe, _ = checked_run("render_terminal", total_steps, steps_per_epoch, peak)
    if not isinstance(log, bool):
        raise RampupError.invalid("render_terminal", "log", log, "True or False")
    cols = width if width is not None else shutil.get_terminal_size((80, 24)).columns
    points = max(2, 8 * 2 * cols) if isinstance(cols, int) and cols > 0 else MAX_POINTS
    items = _curves("render_terminal", schedules, total, spe, peak, points)
    notes: list[str] = []
    if not log:
        items, notes = one_scale(items)
    what = "learning rate" if peak is not None else "lr multiplier"
    title = f"{what} over {total:,} steps" + (" (log scale)" if log else "")
    try:
        out = terminal_plot(items, width=width, height=height, log=log, title=title)
    except RampupError as err:  # name the function the user called
        raise RampupError(str(err).replace("terminal_plot()", "render_terminal()", 1)) from None
    out.notes = notes
    return out
