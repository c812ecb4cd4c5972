"""Plots of schedules: a matplotlib figure (:func:`plot`) or text for the terminal.

matplotlib is imported lazily inside the functions that draw a figure, on the Agg backend (no
screen, no pyplot state), so this module imports without it; the terminal plot needs nothing but
numpy. The helpers :func:`curves`, :func:`plot_curves`, :func:`save` and :func:`terminal_plot`
work on plain (label, steps, values) curves, so the monitor and the lab can reuse them for loss
curves as well as learning rates.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rampup._checks import check_count, check_number
from rampup._errors import RampupError, fail
from rampup.rules import checked_run
from rampup.schedule import Bound, Schedule
from rampup.spec import parse

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "FORMATS",
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

#: File formats :func:`save` writes (by the path's suffix).
FORMATS = (".png", ".svg", ".pdf")
#: Most points drawn per curve by default; every step is drawn when the run is shorter.
MAX_POINTS = 4096
#: Narrowest terminal plot, in characters (a narrower terminal gets a plot this wide).
MIN_WIDTH = 20
#: Lowest terminal plot, in text rows of the plotting area.
MIN_HEIGHT = 4
#: A curve whose peak lies more than this factor below the largest peak is drawn rescaled.
SCALE_GAP = 10.0
#: The glyphs of curves 1, 2, ... in plain text (curve 0 keeps the braille dots), in order.
MARKERS = ("+", "x", "o", "*", "#", "%", "=", "@")

ScheduleLike = Schedule | str
Schedules = ScheduleLike | Sequence[ScheduleLike] | Mapping[str, ScheduleLike]


@dataclass(frozen=True)
class Curve:
    """One curve to draw: a legend ``label``, x ``steps``, y ``values``, boundaries to mark.

    ``steps`` and ``values`` are stored as float arrays of the same length, ``steps``
    increasing; ``bounds`` are the steps where a dotted line marks a phase boundary.
    """

    label: str
    steps: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    bounds: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.label, str):
            raise fail("Curve", "label", self.label, "a string (the legend entry)")
        try:
            steps = np.asarray(self.steps, dtype=np.float64).reshape(-1)
            values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise fail("Curve", "values", self.values, "numbers (and numeric steps)") from None
        if steps.shape != values.shape:
            raise fail(
                "Curve", "values", f"{values.size} values", f"one value per step ({steps.size})"
            )
        if steps.size > 1 and not bool(np.all(np.diff(steps) > 0)):
            raise fail("Curve", "steps", self.steps, "increasing, finite steps")
        if not isinstance(self.bounds, tuple) or not all(
            isinstance(b, int | np.integer) and not isinstance(b, bool) for b in self.bounds
        ):
            raise fail("Curve", "bounds", self.bounds, "a tuple of int steps")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "values", values)


# -- inputs ---------------------------------------------------------------------------------------
def _one(func: str, item: object) -> Schedule:
    if isinstance(item, str):
        return parse(item)
    if isinstance(item, Schedule):
        return item
    raise fail(func, "schedules", item, "a Schedule or a spec string such as 'linear(5%)'")


def _labelled(func: str, schedules: object) -> list[tuple[str, Schedule]]:
    """(label, schedule) pairs from one schedule, a sequence of them, or a label -> schedule map."""
    if isinstance(schedules, str | Schedule):
        items: list[tuple[str | None, object]] = [(None, schedules)]
    elif isinstance(schedules, Mapping):
        items = [(k, v) for k, v in schedules.items()]
        for k, _ in items:
            if not isinstance(k, str):
                raise fail(func, "schedules", k, "labels (the mapping's keys) that are strings")
    elif isinstance(schedules, Sequence):
        items = [(None, v) for v in schedules]
    else:
        raise fail(
            func, "schedules", schedules, "a Schedule, a spec string, or a list or dict of them"
        )
    if not items:
        raise fail(func, "schedules", schedules, "at least one schedule")
    out = []
    for given, item in items:
        s = _one(func, item)
        label = given
        if label is None:  # a spec string is shown as written; a Schedule as its spec
            plain = s.schedule if isinstance(s, Bound) else s
            label = " ".join(item.split()) if isinstance(item, str) else str(plain)
        out.append((label, s))
    return out


def sample_steps(
    total_steps: int, bounds: Sequence[int] = (), max_points: int = MAX_POINTS
) -> npt.NDArray[np.float64]:
    """The steps to draw: every step of a short run, else ``max_points`` evenly spread steps.

    Both sides of every phase boundary (``b - 1`` and ``b``) are always included, so jumps and
    the peak of a warmup show exactly. Steps are whole numbers in ``[0, total_steps - 1]``.
    """
    total = check_count("sample_steps", "total_steps", total_steps, 1, "a positive int")
    points = check_count("sample_steps", "max_points", max_points, 2, "an int >= 2")
    for b in bounds:
        if isinstance(b, bool) or not isinstance(b, int | np.integer):
            raise fail("sample_steps", "bounds", bounds, "int steps")
    if total <= points:
        return np.arange(total, dtype=np.float64)
    even = np.round(np.linspace(0, total - 1, points))
    edges = [x for b in bounds for x in (b - 1, b) if 0 <= x < total]
    return np.unique(np.concatenate([even, np.asarray(edges, dtype=np.float64)]))


def curves(
    schedules: Schedules,
    total_steps: int,
    steps_per_epoch: float | None = None,
    peak: float | None = None,
    max_points: int = MAX_POINTS,
) -> list[Curve]:
    """The curves :func:`plot` draws: each schedule bound to the run and evaluated.

    Values are the schedule's (multipliers of the base learning rate), times ``peak`` if given.
    """
    return _curves("curves", schedules, total_steps, steps_per_epoch, peak, max_points)


def _curves(
    func: str,
    schedules: Schedules,
    total_steps: int,
    steps_per_epoch: float | None,
    peak: float | None,
    max_points: int,
) -> list[Curve]:
    total, spe, scale = checked_run(func, total_steps, steps_per_epoch, peak)
    out = []
    for label, s in _labelled(func, schedules):
        bound = s.bind(total_steps=total, steps_per_epoch=spe)
        inner = tuple(b for b in bound.bounds if 0 < b < total)
        steps = sample_steps(total, inner, max_points)
        out.append(Curve(label, steps, scale * bound.values(steps), inner))
    return out


def one_scale(items: Sequence[Curve]) -> tuple[list[Curve], list[str]]:
    """The curves drawable on one linear y axis, and a note for each curve rescaled to fit it.

    Multipliers peak at 1, while an absolute learning rate such as
    ``noam(d_model=512, warmup=4000)`` peaks at about 7e-4: beside them it would be a flat line
    at 0. A curve whose peak ``p`` lies more than :data:`SCALE_GAP` times below the largest peak
    ``P`` of all the curves is drawn times ``P / p``, so its peak meets the largest; its legend
    label says so (``noam(...) (peak 0.000699, scaled up 1,431x)``). Other curves, and curves
    without a positive value, are returned as they are.

    >>> items, notes = one_scale(curves(["linear(10)", "noam(d_model=512, warmup=4)"], 20))
    >>> [c.label for c in items]
    ['linear(10)', 'noam(d_model=512, warmup=4) (peak 0.0221, scaled up 45.3x)']
    """
    peaks = [float(np.max(c.values[np.isfinite(c.values)], initial=0.0)) for c in items]
    top = max(peaks, default=0.0)
    out: list[Curve] = []
    notes: list[str] = []
    for c, p in zip(items, peaks, strict=True):
        if not 0 < p * SCALE_GAP < top:
            out.append(c)
            continue
        factor = top / p
        times = f"{factor:,.0f}x" if factor >= 100 else f"{factor:.3g}x"
        label = f"{c.label} (peak {p:.3g}, scaled up {times})"
        out.append(Curve(label, c.steps, c.values * factor, c.bounds))
        notes.append(
            f"{c.label} peaks at {p:.3g}, far below the largest peak ({top:.3g}): it is drawn"
            f" scaled up {times} so that its shape shows (a log y axis draws"
            " every curve to scale)"
        )
    return out, notes


# -- matplotlib -----------------------------------------------------------------------------------
def _new_axes(func: str, ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        from matplotlib.axes import Axes  # noqa: PLC0415  # lazy: rampup imports without it

        if not isinstance(ax, Axes):
            raise fail(func, "ax", ax, "a matplotlib Axes or None")
        fig = ax.get_figure(root=True)
        if fig is None:  # pragma: no cover - an Axes always belongs to a figure
            raise fail(func, "ax", ax, "an Axes that belongs to a Figure")
        return fig, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415  # lazy
    from matplotlib.figure import Figure  # noqa: PLC0415  # lazy: rampup imports without it

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)  # draw with Agg: no screen, no pyplot state
    return fig, fig.add_subplot()


def plot_curves(
    items: Sequence[Curve],
    *,
    ax: Axes | None = None,
    title: str = "",
    xlabel: str = "step (optimizer updates)",
    ylabel: str = "value",
    log: bool = False,
    steps_per_epoch: float | None = None,
    figsize: tuple[float, float] = (8.0, 4.5),
) -> Figure:
    """Draw labelled curves (learning rates, losses), boundaries marked; return the figure.

    Each curve is a line labelled in the legend; its ``bounds`` are dotted vertical lines in the
    curve's colour. ``log`` puts the y axis on a log scale (values <= 0 are not drawn);
    ``steps_per_epoch`` adds an epoch axis on top. Draws on ``ax`` if given, else on a new figure.
    """
    return _draw("plot_curves", items, ax, title, xlabel, ylabel, log, steps_per_epoch, figsize)


def _draw(
    func: str,
    items: Sequence[Curve],
    ax: Axes | None,
    title: str,
    xlabel: str,
    ylabel: str,
    log: bool,
    steps_per_epoch: float | None,
    figsize: tuple[float, float],
) -> Figure:
    """:func:`plot_curves`, errors named after ``func`` (the function the user called)."""
    if not isinstance(items, Sequence) or not items:
        raise fail(func, "items", items, "a non-empty sequence of Curve")
    for c in items:
        if not isinstance(c, Curve):
            raise fail(func, "items", c, "Curve objects")
    for param, text in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str):
            raise fail(func, param, text, "a string")
    if not isinstance(log, bool):
        raise fail(func, "log", log, "True or False")
    if steps_per_epoch is not None:
        steps_per_epoch = check_number(
            func, "steps_per_epoch", steps_per_epoch, low=0.0, low_open=True,
            what="a positive finite number of updates per epoch, or None",
        )  # fmt: skip
    if log and not any(bool(np.any(c.values > 0)) for c in items):
        raise fail(func, "log", log, "False for curves without a positive value (none to draw)")
    fig, axes = _new_axes(func, ax, figsize)
    for c in items:
        (line,) = axes.plot(c.steps, c.values, label=c.label, linewidth=1.6)
        line.set_gid("rampup-curve")
        for b in c.bounds:
            axes.axvline(
                b,
                color=line.get_color(),
                linestyle=":",
                linewidth=1.0,
                alpha=0.8,
                label="_nolegend_",
                gid="rampup-boundary",
            )
    if log:
        axes.set_yscale("log", nonpositive="mask")
    elif all(float(np.min(c.values)) >= 0 for c in items if c.values.size):
        axes.set_ylim(bottom=0)
    axes.set_xlim(left=0)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    if steps_per_epoch is not None:
        spe = float(steps_per_epoch)

        def to_epochs(steps: Any) -> Any:
            return steps / spe

        def to_steps(epochs: Any) -> Any:
            return epochs * spe

        top = axes.secondary_xaxis("top", functions=(to_epochs, to_steps))
        top.set_xlabel("epoch")
    axes.grid(visible=True, alpha=0.3)
    handles, names = axes.get_legend_handles_labels()
    if any(c.bounds for c in items):  # one grey key for the dotted lines of every curve
        from matplotlib.lines import Line2D  # noqa: PLC0415  # lazy, as above

        handles.append(Line2D([], [], color="grey", linestyle=":", linewidth=1.0))
        names.append("phase boundary")
    axes.legend(handles, names, fontsize="small")
    return fig


def plot(
    schedules: Schedules,
    total_steps: int,
    steps_per_epoch: float | None = None,
    peak: float | None = None,
    ax: Axes | None = None,
    log: bool = False,
    title: str | None = None,
    max_points: int = MAX_POINTS,
) -> Figure:
    """Plot one or more schedules over a run of ``total_steps`` updates; return the Figure.

    ``schedules`` is a :class:`~rampup.Schedule`, a spec string, a list of them, or a dict
    label -> schedule (the legend shows each spec string as written, each Schedule as its spec,
    or the dict's labels). The x axis is the step (an epoch axis is added on top with
    ``steps_per_epoch``); the y axis is the multiplier of the base learning rate, or the learning
    rate itself when ``peak`` (the peak learning rate) is given.
    Phase boundaries are dotted vertical lines; ``log`` uses a log-scale y axis. On a linear
    axis, a curve far below the others (an absolute rate beside multipliers) is drawn rescaled to
    their peak, its legend label saying by how much (:func:`one_scale`). Every step is
    drawn for runs up to ``max_points`` steps, else ``max_points`` steps plus both sides of every
    boundary: each line's y data are exactly the schedule's values at its x data.

    >>> fig = plot(["linear(5%) >> cosine", "noam(d_model=512, warmup=500)"], total_steps=4000)
    >>> [line.get_label() for line in fig.axes[0].lines if line.get_gid() == "rampup-curve"]
    ['linear(5%) >> cosine', 'noam(d_model=512, warmup=500) (peak 0.00198, scaled up 506x)']
    """
    total, spe, scale = checked_run("plot", total_steps, steps_per_epoch, peak)
    if not isinstance(log, bool):
        raise fail("plot", "log", log, "True or False")
    if title is not None and not isinstance(title, str):
        raise fail("plot", "title", title, "a string or None")
    check_count("plot", "max_points", max_points, 2, "an int >= 2")
    items = _curves("plot", schedules, total, spe, peak, max_points)
    if not log:
        items, _ = one_scale(items)
    if title is None:
        what = "Learning-rate schedule" if len(items) == 1 else "Learning-rate schedules"
        title = f"{what} over {total:,} steps"
    ylabel = (
        "learning rate (multiple of the base lr)"
        if peak is None
        else f"learning rate (absolute, peak {scale:g})"
    )
    xlabel = "step (optimizer updates)"
    return _draw("plot", items, ax, title, xlabel, ylabel, log, spe, (8.0, 4.5))


def save(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` as PNG, SVG or PDF (by its suffix); return the path."""
    if not hasattr(fig, "savefig"):
        raise fail("save", "fig", fig, "a matplotlib Figure")
    if not isinstance(path, str | Path):
        raise fail("save", "path", path, "a file path (str or Path)")
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise fail("save", "path", str(path), "a file name ending in " + ", ".join(FORMATS))
    if not p.parent.is_dir():
        raise fail("save", "path", str(path), "a path in an existing directory")
    check_count("save", "dpi", dpi, 1, "a positive int")
    fig.savefig(p, dpi=dpi)
    return p


# -- the terminal ---------------------------------------------------------------------------------
# Braille cells are 2 dots wide and 4 high; bit of the dot at (column, row) within a cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_BRAILLE = 0x2800

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


class _Canvas:
    """A grid of braille cells, each remembering the last curve drawn in it."""

    def __init__(self, rows: int, cols: int) -> None:
        self.bits = np.zeros((rows, cols), dtype=np.int32)
        self.owner = np.full((rows, cols), -1, dtype=np.int32)
        self.dots_x, self.dots_y = 2 * cols, 4 * rows

    def draw(self, idx: int, xf: npt.NDArray[np.float64], yf: npt.NDArray[np.float64]) -> None:
        """Draw curve ``idx`` through dots at fractional (column, row) positions, x increasing.

        Columns between two points get the linear interpolation; each column's dots run from its
        lowest to its highest point, joined to the previous column's last point (no gaps).
        """
        px = np.clip(np.round(xf), 0, self.dots_x - 1).astype(np.int64)
        missing = np.setdiff1d(np.arange(px[0], px[-1] + 1), px)
        if missing.size:
            px = np.concatenate([px, missing])
            yf = np.concatenate([yf, np.interp(missing.astype(np.float64), xf, yf)])
            order = np.argsort(px, kind="stable")
            px, yf = px[order], yf[order]
        py = np.clip(np.round(yf), 0, self.dots_y - 1).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, px[1:] != px[:-1]])
        ends = np.r_[starts[1:], px.size]
        prev: int | None = None
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            seg = py[s:e]
            top, bottom = int(seg.min()), int(seg.max())
            if prev is not None:  # join to the previous column: no gaps on steep slopes
                top, bottom = min(top, prev), max(bottom, prev)
            col = int(px[s])
            for r in range(top, bottom + 1):
                self.bits[r // 4, col // 2] |= _DOTS[col % 2][r % 4]
                self.owner[r // 4, col // 2] = idx
            prev = int(seg[-1])

    def row(self, r: int) -> list[Segment]:
        """Text row ``r`` as segments of equal owner."""
        out: list[Segment] = []
        for bits, who in zip(self.bits[r].tolist(), self.owner[r].tolist(), strict=True):
            ch, tag = (chr(_BRAILLE + bits), who) if bits else (" ", None)
            if out and out[-1][1] == tag:
                out[-1] = (out[-1][0] + ch, tag)
            else:
                out.append((ch, tag))
        return out


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

    The plotting area is ``height`` text rows of 4 dots each, with a y axis of 3 ticks on the left,
    an x axis below with ``┴`` under each boundary, the x range, and a legend. A linear y axis
    starts at 0; a log one (``log``) leaves out values <= 0. Every line fits in ``width``
    characters; the default is the terminal's width, or :data:`MIN_WIDTH` if it is narrower.
    """
    func = "terminal_plot"
    if not isinstance(items, Sequence) or not items:
        raise fail(func, "items", items, "a non-empty sequence of Curve")
    for c in items:
        if not isinstance(c, Curve):
            raise fail(func, "items", c, "Curve objects")
    for param, text in (("title", title), ("xlabel", xlabel)):
        if not isinstance(text, str):
            raise fail(func, param, text, "a string")
    if not isinstance(log, bool):
        raise fail(func, "log", log, "True or False")
    if width is None:
        width = max(MIN_WIDTH, shutil.get_terminal_size((80, 24)).columns)
    width = check_count(func, "width", width, MIN_WIDTH, f"an int >= {MIN_WIDTH} (characters)")
    height = check_count(func, "height", height, MIN_HEIGHT, f"an int >= {MIN_HEIGHT} (text rows)")
    points = _finite_xy(items, log)
    if not any(y.size for _, y in points):
        what = "a positive value (log scale)" if log else "a finite value"
        raise fail(func, "items", [c.label for c in items], f"curves with {what} to draw")
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
    canvas = _Canvas(height, cols)

    def column(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return x / x_hi * (canvas.dots_x - 1)

    for idx, (x, y) in enumerate(points):
        if x.size:
            canvas.draw(idx, column(x), (hi - y) / (hi - lo) * (canvas.dots_y - 1))

    out = TerminalPlot()
    if title:
        out.lines.append([(_clip(title, width), None)])
    ticks = {0: labels[0], height // 2: labels[1], height - 1: labels[2]}
    for r in range(height):
        label = ticks.get(r)
        axis = "┤" if label is not None else "│"
        out.lines.append([((label or "").rjust(margin - 1) + " " + axis, None), *canvas.row(r)])
    axis_chars = ["─"] * cols
    for c in items:
        for col in np.round(column(np.asarray(c.bounds, dtype=np.float64))).tolist():
            axis_chars[min(int(col), canvas.dots_x - 1) // 2] = "┴"
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
        raise fail("render_terminal", "log", log, "True or False")
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
