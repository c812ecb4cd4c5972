"""Plots of schedules as matplotlib figures: :func:`plot` (public as ``rampup.plot``).

matplotlib is imported lazily inside the functions that draw a figure, on the Agg backend (no
screen, no pyplot state), so this module imports without it. :func:`plot_curves` and :func:`save`
work on plain :class:`~rampup.cli.curves.Curve` objects, so the monitor and the lab can draw loss
curves as well as learning rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampup import RampupError
from rampup.advice._runs import checked_run
from rampup.cli.curves import MAX_POINTS, Curve, Schedules, _curves, one_scale
from rampup.core.checks import check_count, check_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "plot", "plot_curves", "save"]

#: File formats :func:`save` writes (by the path's suffix).
FORMATS = (".png", ".svg", ".pdf")


def _new_axes(func: str, ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        from matplotlib.axes import Axes  # noqa: PLC0415  # lazy: rampup imports without it

        if not isinstance(ax, Axes):
            raise RampupError.invalid(func, "ax", ax, "a matplotlib Axes or None")
        fig = ax.get_figure(root=True)
        if fig is None:  # pragma: no cover - an Axes always belongs to a figure
            raise RampupError.invalid(func, "ax", ax, "an Axes that belongs to a Figure")
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
        raise RampupError.invalid(func, "items", items, "a non-empty sequence of Curve")
    for c in items:
        if not isinstance(c, Curve):
            raise RampupError.invalid(func, "items", c, "Curve objects")
    for param, text in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str):
            raise RampupError.invalid(func, param, text, "a string")
    if not isinstance(log, bool):
        raise RampupError.invalid(func, "log", log, "True or False")
    if steps_per_epoch is not None:
        steps_per_epoch = check_number(
            func, "steps_per_epoch", steps_per_epoch, low=0.0, low_open=True,
            what="a positive finite number of updates per epoch, or None",
        )  # fmt: skip
    if log and not any(bool(np.any(c.values > 0)) for c in items):
        raise RampupError.invalid(
            func, "log", log, "False for curves without a positive value (none to draw)"
        )
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
        raise RampupError.invalid("plot", "log", log, "True or False")
    if title is not None and not isinstance(title, str):
        raise RampupError.invalid("plot", "title", title, "a string or None")
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
        raise RampupError.invalid("save", "fig", fig, "a matplotlib Figure")
    if not isinstance(path, str | Path):
        raise RampupError.invalid("save", "path", path, "a file path (str or Path)")
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise RampupError.invalid(
            "save", "path", str(path), "a file name ending in " + ", ".join(FORMATS)
        )
    if not p.parent.is_dir():
        raise RampupError.invalid("save", "path", str(path), "a path in an existing directory")
    check_count("save", "dpi", dpi, 1, "a positive int")
    fig.savefig(p, dpi=dpi)
    return p
