"""rampup.cli.curves and rampup.cli.plots: the curves of schedules and the matplotlib figure.

The plotted values are checked against the closed forms of docs/conventions.md, computed here
with plain Python math (linear warmup (t + 1) / W, cosine decay 0.5 (1 + cos(pi (t - W) / D))).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import rampup
from rampup.cli import curves as plotting_curves
from rampup.cli import plots as plotting
from rampup.cli.curves import Curve, sample_steps
from rampup.cli.plots import plot, save
from rampup.cli.terminal import render_terminal, terminal_plot
from rampup.core.spec import SpecError


def _warmup_cosine(t: float, warmup: int, total: int) -> float:
    """linear(W) >> cosine at step t, from the formulas of docs/conventions.md."""
    if t < warmup:
        return (t + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup)))


def _bad(value: object) -> Any:
    """A deliberately ill-typed argument."""
    return value


def _xs(line: Line2D) -> list[float]:
    return np.asarray(line.get_xdata(), dtype=float).tolist()  # type: ignore[no-any-return]


_LOSS = Curve("loss", np.arange(3.0), np.array([2.0, 1.0, 0.5]))


def _curve_lines(fig: Figure) -> list[Line2D]:
    return [ln for ln in fig.axes[0].lines if ln.get_gid() == "rampup-curve"]


def _boundary_lines(fig: Figure) -> list[Line2D]:
    return [ln for ln in fig.axes[0].lines if ln.get_gid() == "rampup-boundary"]


# -- the figure -----------------------------------------------------------------------------------
def test_plot_is_exported_lazily() -> None:
    """rampup.plot is the plots module's function."""
    assert rampup.plot is plot


def test_line_data_equal_the_schedule_at_every_step() -> None:
    """A 200-step run draws every step; y equals the warmup + cosine formula at each x."""
    fig = plot("linear(5%) >> cosine", total_steps=200)
    (line,) = _curve_lines(fig)
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    assert x.tolist() == list(range(200))
    expected = [_warmup_cosine(t, 10, 200) for t in range(200)]
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-15)


def test_long_runs_are_sampled_with_both_sides_of_each_boundary() -> None:
    """100k steps: at most max_points + 2 x, including 4999 and 5000; y equals the formula."""
    fig = plot("linear(5%) >> cosine", total_steps=100_000, max_points=500)
    (line,) = _curve_lines(fig)
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    assert len(x) <= 502
    assert {0.0, 4999.0, 5000.0, 99_999.0} <= set(x.tolist())
    assert np.all(np.diff(x) > 0)
    np.testing.assert_allclose(y, [_warmup_cosine(t, 5000, 100_000) for t in x], rtol=1e-12)


def test_figure_has_title_units_legend_and_boundaries() -> None:
    """Title, axis labels with units, one legend entry per spec, a dotted line per boundary."""
    specs = ["linear(5%) >> cosine(to=0.01)", "wsd(5%, decay=20%)"]
    fig = plot(specs, total_steps=1000)
    ax = fig.axes[0]
    assert ax.get_title() == "Learning-rate schedules over 1,000 steps"
    assert ax.get_xlabel() == "step (optimizer updates)"
    assert ax.get_ylabel() == "learning rate (multiple of the base lr)"
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == [*specs, "phase boundary"]  # the specs as written; boundaries last
    # 5 % of 1000 = 50; wsd: 50 and 1000 - 200 = 800
    xs = sorted(_xs(ln)[0] for ln in _boundary_lines(fig))
    assert xs == [50.0, 50.0, 800.0]
    assert ax.get_yscale() == "linear"
    assert ax.get_ylim()[0] == 0


def test_peak_gives_absolute_rates_and_says_so() -> None:
    """peak=3e-4 multiplies every value and the y label names the absolute scale."""
    fig = plot("linear(10) >> cosine", total_steps=40, peak=3e-4)
    (line,) = _curve_lines(fig)
    y = np.asarray(line.get_ydata(), dtype=float)
    np.testing.assert_allclose(y, [3e-4 * _warmup_cosine(t, 10, 40) for t in range(40)])
    assert fig.axes[0].get_ylabel() == "learning rate (absolute, peak 0.0003)"


def test_log_scale_masks_zero() -> None:
    """log=True: a log y axis; HF's lr 0 at step 0 is kept in the data, no warning raised."""
    fig = plot("linear(10, start=0.0, endpoint=false) >> cosine", total_steps=100, log=True)
    assert fig.axes[0].get_yscale() == "log"
    (line,) = _curve_lines(fig)
    assert np.asarray(line.get_ydata(), dtype=float)[0] == 0.0


def test_log_scale_of_only_zeros_is_refused_in_both_plots() -> None:
    """An all-zero schedule on a log axis has nothing to draw: a RampupError, not a warning."""
    zeros = "constant(5, 0.0) >> constant(value=0.0)"
    with pytest.raises(rampup.RampupError, match=r"^plot\(\): log=True is invalid"):
        plot(zeros, total_steps=6, log=True)
    with pytest.raises(rampup.RampupError, match=r"^render_terminal\(\): .* positive value"):
        render_terminal(zeros, 6, width=40, log=True)
    fig = plot(zeros, total_steps=6)  # a linear axis draws the zeros
    assert np.asarray(_curve_lines(fig)[0].get_ydata(), dtype=float).tolist() == [0.0] * 6


def test_labels_from_a_mapping_and_an_epoch_axis() -> None:
    """A dict gives the legend labels; steps_per_epoch adds an 'epoch' axis on top."""
    fig = plot({"mine": "linear(1ep) >> cosine"}, total_steps=500, steps_per_epoch=100)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_texts()[0].get_text() == "mine"
    (epoch_axis,) = ax.child_axes
    assert epoch_axis.get_xlabel() == "epoch"
    assert _xs(_boundary_lines(fig)[0]) == [100.0, 100.0]


def test_schedule_objects_are_labelled_with_their_spec() -> None:
    """A Schedule's legend label is its spec; a spec string's is the string, spaces tidied."""
    fig = plot([rampup.wsd(50), "linear(5)  >>   cosine"], total_steps=1000)
    legend = fig.axes[0].get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[:2] == [
        "linear(50) >> constant >> sqrt(20%, start=1.0, to=0.0)",
        "linear(5) >> cosine",
    ]


def test_draws_on_a_given_axes() -> None:
    """With ax=..., the curves go on that Axes and its figure is returned."""
    fig = Figure()
    ax: Axes = fig.add_subplot()
    out = plot(rampup.linear(4) >> rampup.cosine(), total_steps=8, ax=ax)
    assert out is fig
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "rampup-curve"]
    assert line.get_ydata().tolist() == [0.25, 0.5, 0.75, 1.0, 1.0] + [  # type: ignore[union-attr]
        0.5 * (1 + math.cos(math.pi * k / 4)) for k in (1, 2, 3)
    ]


def test_png_is_written_and_non_trivial(tmp_path: Path) -> None:
    """save() writes a real PNG: the magic bytes, a sizeable file, many distinct colours."""
    fig = plot(["linear(5%) >> cosine", "noam(d_model=512, warmup=500)"], total_steps=10_000)
    path = save(fig, tmp_path / "s.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 300
    assert pixels.shape[1] > 600
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 50  # lines, text, legend: not a blank canvas


def test_svg_and_pdf_are_written(tmp_path: Path) -> None:
    """The suffix picks the format: SVG text and a PDF header."""
    fig = plot("linear(10) >> cosine", total_steps=100)
    assert "<svg" in save(fig, tmp_path / "s.svg").read_text()
    assert save(fig, tmp_path / "s.pdf").read_bytes()[:5] == b"%PDF-"


def test_sample_steps_short_and_long() -> None:
    """Every step of a short run; spread steps plus b - 1, b for a long one."""
    assert sample_steps(5).tolist() == [0, 1, 2, 3, 4]
    steps = sample_steps(10_000, bounds=(333,), max_points=11)
    even = [round(i * 9999 / 10) for i in range(11)]  # 0, 1000, 2000, ..., 5999 (5999.4), ...
    assert steps.tolist() == sorted({*even, 332, 333})


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: plot([], total_steps=10), r"^plot\(\): schedules=\[\] .* at least one"),
        (lambda: plot(_bad(3), total_steps=10), r"^plot\(\): schedules=3 "),
        (lambda: plot(_bad([3.0]), total_steps=10), r"^plot\(\): schedules=3.0 "),
        (lambda: plot(_bad({1: "linear(5)"}), total_steps=10), r"^plot\(\): schedules=1 .* labels"),
        (lambda: plot("linear(5)", total_steps=0), r"^plot\(\): total_steps=0 "),
        (lambda: plot("linear(5)", total_steps=10, peak=-1), r"^plot\(\): peak=-1 "),
        (lambda: plot("linear(5)", total_steps=10, steps_per_epoch=0), r"steps_per_epoch=0 "),
        (lambda: plot("linear(5)", total_steps=10, log=_bad("yes")), r"^plot\(\): log='yes' "),
        (lambda: plot("linear(5)", total_steps=10, title=_bad(1)), r"^plot\(\): title=1 "),
        (lambda: plot("linear(5)", total_steps=10, max_points=1), r"^plot\(\): max_points=1 "),
        (lambda: plot("linear(20)", total_steps=10), r"total_steps=10"),
        (lambda: sample_steps(0), r"^sample_steps\(\): total_steps=0 "),
    ],
)
def test_bad_arguments_are_rampup_errors(call: object, match: str) -> None:
    """Each bad argument names the function, the parameter, the value and what was expected."""
    with pytest.raises(rampup.RampupError, match=match):
        call()  # type: ignore[operator]


def test_save_rejects_unknown_formats_and_missing_directories(tmp_path: Path) -> None:
    """A .jpg and a path in a missing directory are RampupErrors before anything is written."""
    fig = plot("linear(5)", total_steps=10)
    with pytest.raises(rampup.RampupError, match=r"^save\(\): path='.*x.jpg' .* \.png, \.svg"):
        save(fig, tmp_path / "x.jpg")
    with pytest.raises(rampup.RampupError, match=r"existing directory"):
        save(fig, tmp_path / "missing" / "x.png")


def test_spec_errors_keep_their_column() -> None:
    """A bad spec string among the schedules raises the parser's SpecError."""
    with pytest.raises(SpecError) as info:
        plot(["linear(5)", "linear(5) >> cosin"], total_steps=10)
    assert info.value.column == 14


def test_plot_curves_draws_any_labelled_curves() -> None:
    """plot_curves (for the monitor and the lab) draws given curves with their labels and bounds."""
    loss = Curve("loss", np.arange(5.0), np.array([3.0, 2.0, 1.5, 1.2, 1.1]), bounds=(2,))
    fig = plotting.plot_curves([loss], title="training", ylabel="loss (nats)", log=True)
    ax = fig.axes[0]
    (line,) = _curve_lines(fig)
    assert np.asarray(line.get_ydata(), dtype=float).tolist() == [3.0, 2.0, 1.5, 1.2, 1.1]
    assert (ax.get_title(), ax.get_ylabel(), ax.get_yscale()) == ("training", "loss (nats)", "log")
    assert _xs(_boundary_lines(fig)[0]) == [2.0, 2.0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Curve("a", np.arange(3.0), np.arange(2.0)), r"^Curve\(\): values='2 values' "),
        (lambda: Curve("a", np.array([0.0, 2.0, 1.0]), np.zeros(3)), r"^Curve\(\): steps="),
        (lambda: Curve(_bad(1), np.arange(2.0), np.zeros(2)), r"^Curve\(\): label=1 "),
        (lambda: Curve("a", np.arange(2.0), _bad(["x", "y"])), r"^Curve\(\): values="),
        (lambda: Curve("a", np.arange(2.0), np.zeros(2), _bad([1])), r"^Curve\(\): bounds="),
        (lambda: plotting.plot_curves([]), r"^plot_curves\(\): items=\[\] "),
        (lambda: plotting.plot_curves(_bad(["x"])), r"^plot_curves\(\): items='x' "),
        (lambda: plotting.plot_curves([_LOSS], title=_bad(3)), r"^plot_curves\(\): title=3 "),
        (lambda: plotting.plot_curves([_LOSS], log=_bad(1)), r"^plot_curves\(\): log=1 "),
        (lambda: plotting.plot_curves([_LOSS], ax=_bad("ax")), r"^plot_curves\(\): ax='ax' "),
        (
            lambda: plotting.plot_curves([_LOSS], steps_per_epoch=-1),
            r"^plot_curves\(\): steps_per_epoch=-1 ",
        ),
        (lambda: plot("linear(5)", total_steps=10, ax=_bad(1)), r"^plot\(\): ax=1 "),
        (lambda: save(_bad("fig"), "x.png"), r"^save\(\): fig='fig' "),
        (lambda: save(Figure(), _bad(3)), r"^save\(\): path=3 "),
        (lambda: sample_steps(10, bounds=_bad(["a"])), r"^sample_steps\(\): bounds="),
        (lambda: terminal_plot([_LOSS], title=_bad(1)), r"^terminal_plot\(\): title=1 "),
        (lambda: terminal_plot([_LOSS], log=_bad("no")), r"^terminal_plot\(\): log='no' "),
        (lambda: terminal_plot(_bad([1])), r"^terminal_plot\(\): items=1 "),
    ],
)
def test_helpers_reject_bad_arguments(call: object, match: str) -> None:
    """The reusable helpers name themselves, the parameter, the value and the expectation."""
    with pytest.raises(rampup.RampupError, match=match):
        call()  # type: ignore[operator]


# -- absolute rates beside multipliers, and curves told apart without colour ----------------------
def _noam(t: float, d_model: float, warmup: int) -> float:
    """Vaswani et al. 2017: d_model^-0.5 * min(n^-0.5, n * W^-1.5), n = t + 1."""
    n = t + 1
    return float(d_model**-0.5 * min(n**-0.5, n * warmup**-1.5))


def test_an_absolute_rate_beside_multipliers_is_drawn_to_their_peak() -> None:
    """Noam (peak (512 * 400)^-0.5) beside linear >> cosine: drawn times 1 / peak, label says so."""
    fig = plot(["linear(5%) >> cosine", "noam(d_model=512, warmup=400)"], total_steps=1000)
    warm, noam = _curve_lines(fig)
    peak = (512 * 400) ** -0.5  # update 399
    assert warm.get_label() == "linear(5%) >> cosine"
    assert noam.get_label() == f"noam(d_model=512, warmup=400) (peak {peak:.3g}, scaled up 453x)"
    expected = [_noam(t, 512, 400) / peak for t in range(1000)]
    assert np.asarray(noam.get_ydata(), dtype=float).tolist() == pytest.approx(expected, rel=1e-12)
    assert max(expected) == pytest.approx(1.0)


def test_curves_within_a_factor_of_ten_keep_their_values() -> None:
    """0.2 * constant beside constant (5x apart) and any log plot: nothing is rescaled."""
    items, notes = plotting_curves.one_scale(
        plotting_curves.curves(["constant", "0.2 * constant"], 10)
    )
    assert notes == []
    assert [c.values.tolist() for c in items] == [[1.0] * 10, [0.2] * 10]
    fig = plot(["constant", "noam(d_model=512, warmup=4)"], total_steps=10, log=True)
    assert [ln.get_label() for ln in _curve_lines(fig)] == [
        "constant",
        "noam(d_model=512, warmup=4)",
    ]
    # a curve of zeros has nothing to scale
    items, notes = plotting_curves.one_scale(
        plotting_curves.curves(["constant", "0 * constant"], 10)
    )
    assert notes == []
    assert items[1].values.tolist() == [0.0] * 10


def test_one_scale_notes_each_rescaled_curve() -> None:
    """Two absolute rates beside a multiplier: both drawn to the peak 1, one note each."""
    items, notes = plotting_curves.one_scale(
        plotting_curves.curves(["linear(10)", "0.01 * constant", "0.001 * linear(10)"], 20)
    )
    assert [c.label for c in items] == [
        "linear(10)",
        "0.01 * constant (peak 0.01, scaled up 100x)",
        "0.001 * linear(10) (peak 0.001, scaled up 1,000x)",
    ]
    assert items[1].values.tolist() == pytest.approx([1.0] * 20)
    assert items[2].values.tolist() == pytest.approx([min(t + 1, 10) / 10 for t in range(20)])
    assert len(notes) == 2
    assert notes[1].startswith("0.001 * linear(10) peaks at 0.001, far below the largest peak (1)")
