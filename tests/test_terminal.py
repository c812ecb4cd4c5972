"""rampup.cli.terminal: the terminal plot (width, rows, boundary marks, legend, a glyph per curve).

plotext draws the plotting area; these tests check what it draws where (rows, columns, glyphs).

Rows are derived by hand: a value v on a linear axis from 0 to 1 over R rows of 4 dots sits at
dot row round((1 - v) * (4 R - 1)).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rampup
from rampup.cli import terminal
from rampup.cli.curves import Curve
from rampup.cli.terminal import render_terminal, terminal_plot


# -- the terminal ---------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [30, 41, 80, 137, 250])
def test_terminal_plot_fits_the_width(width: int) -> None:
    """No line is wider than the width asked for, long legend labels included."""
    specs = [
        "linear(5%) >> cosine(to=0.01)",
        "constant(100, 0.1) >> " + "constant(10) >> " * 8 + "cosine",
    ]
    text = render_terminal(specs, total_steps=5000, width=width, height=6)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert len(lines) == 1 + 6 + 2 + 2 + 1  # title, rows, axis, x labels, legend, boundary key


def test_terminal_plot_defaults_to_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a width, the terminal's (COLUMNS) is used."""
    monkeypatch.setenv("COLUMNS", "57")
    text = render_terminal("linear(5%) >> cosine", total_steps=1000)
    assert max(len(line) for line in text.splitlines()) == 57


@settings(max_examples=60, deadline=None)
@given(
    st.integers(terminal.MIN_WIDTH, 300),
    st.integers(4, 20),
    st.integers(10, 10**15),
    st.booleans(),
    st.one_of(st.none(), st.floats(1e-9, 1e9)),
)
def test_terminal_plot_fits_any_width(
    width: int, height: int, total: int, log: bool, peak: float | None
) -> None:
    """Any width, height, run length, peak and scale: every line fits, the height is as asked."""
    text = render_terminal(
        "linear(10%) >> cosine", total, width=width, height=height, log=log, peak=peak
    )
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert sum(1 for line in lines if line[-1:] and ("┤" in line or "│" in line)) >= height


def test_long_axis_labels_are_shortened_to_fit() -> None:
    """Width 20, steps to 4e14, a y label of 9 characters: 9 columns left for the plot.

    The last step, 400,000,000,000,000, does not fit: it is written 4e+14, the 'step' label
    (which needs 4 + 2 spaces) is left out, and the line is exactly the 9 columns.
    """
    c = Curve("loss", np.arange(5.0) * 1e14, np.array([-1.2345e-5, -3e-6, -2e-7, 1.0, 2.0]))
    lines = str(terminal_plot([c], width=20, height=4)).splitlines()
    assert max(len(line) for line in lines) <= 20
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    assert lines[axis + 1] == " " * 11 + "0   4e+14"
    wide = str(terminal_plot([c], width=40, height=4)).splitlines()
    axis = next(i for i, line in enumerate(wide) if "└" in line)
    assert wide[axis + 1].split() == ["0", "step", "400,000,000,000,000"]


def test_a_terminal_narrower_than_the_minimum_gets_the_minimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """COLUMNS=12: the plot is MIN_WIDTH (20) wide, the narrowest it can be drawn."""
    monkeypatch.setenv("COLUMNS", "12")
    text = render_terminal("linear(5%) >> cosine", total_steps=1000)
    assert max(len(line) for line in text.splitlines()) == terminal.MIN_WIDTH == 20


def test_constant_draws_one_line_on_the_top_row() -> None:
    """A constant 1 over 100 steps: the top row is all top dots (⠉), the others empty."""
    tp = terminal.terminal_schedules("constant", 100, None, None, 40, 4, False)
    rows = str(tp).splitlines()[1:5]
    plot_area = [row.split("┤", 1)[1] if "┤" in row else row.split("│", 1)[1] for row in rows]
    assert set(plot_area[0]) == {"⠉"}  # dots 1 and 4: the top of each cell
    assert all(set(r) <= {" "} for r in plot_area[1:])


def test_boundaries_are_marked_on_the_axis() -> None:
    """One ┴ per boundary inside the run, at its column; the legend lists each spec."""
    text = render_terminal("linear(25%) >> constant(25%) >> cosine", 1000, width=60, height=4)
    axis = next(line for line in text.splitlines() if "└" in line)
    assert axis.count("┴") == 2
    assert "linear(25%) >> constant(25%) >> cosine" in text


def test_terminal_segments_name_their_curve() -> None:
    """The TerminalPlot tags each curve's cells with its index, for colouring."""
    tp = terminal.terminal_schedules(
        ["linear(10)", "constant(5, 0.5)"], 20, None, None, 60, 6, False
    )
    tags = {tag for line in tp.lines for _, tag in line}
    assert tags == {None, 0, 1}


def test_terminal_plot_of_generic_curves() -> None:
    """terminal_plot draws any labelled curves (e.g. a loss) and checks its arguments."""
    loss = Curve("loss", np.arange(50.0), np.linspace(3.0, 0.5, 50))
    text = str(terminal_plot([loss], width=50, height=5, title="loss"))
    assert text.splitlines()[0] == "loss"
    assert "3 ┤" in text
    with pytest.raises(rampup.RampupError, match=r"^terminal_plot\(\): width=10 "):
        terminal_plot([loss], width=10)
    with pytest.raises(rampup.RampupError, match=r"^terminal_plot\(\): height=1 "):
        terminal_plot([loss], height=1)
    with pytest.raises(rampup.RampupError, match=r"^terminal_plot\(\): items=\[\] "):
        terminal_plot([])


def test_render_terminal_names_itself_in_errors() -> None:
    """A too-narrow width through render_terminal() is reported under render_terminal()."""
    with pytest.raises(rampup.RampupError, match=r"^render_terminal\(\): width=5 "):
        render_terminal("linear(5)", 10, width=5)
    with pytest.raises(rampup.RampupError, match=r"^render_terminal\(\): log=1 "):
        render_terminal("linear(5)", 10, log=1)  # type: ignore[arg-type]  # bad on purpose


def test_terminal_plot_rescales_too_and_keeps_the_notes() -> None:
    """The terminal plot draws noam up to the top row and keeps the note for the command."""
    tp = terminal.terminal_schedules(
        ["linear(5%) >> cosine", "noam(d_model=512, warmup=400)"], 1000, None, None, 60, 6, False
    )
    top_row = tp.lines[1]
    assert any(curve == 1 for _, curve in top_row)  # noam's cells reach the top row
    assert len(tp.notes) == 1
    assert "noam(d_model=512, warmup=400) peaks at 0.00221" in tp.notes[0]


def test_plain_text_gives_each_curve_its_own_glyph() -> None:
    """str(plot): curve 0 braille, curves 1, 2, ... '+', 'x', ... in the plot and in the legend."""
    text = render_terminal(["constant", "0.5 * constant", "0.2 * constant"], 50, width=40, height=4)
    lines = text.splitlines()
    assert [ln[:4] for ln in lines[-3:]] == ["  ⣿ ", "  + ", "  x "]
    # value v at dot row round((1 - v) * 15): 1 -> 0, 0.5 -> 8, 0.2 -> 12; text rows 0, 2, 3
    area = [line.split("┤" if "┤" in line else "│", 1)[1] for line in lines[1:5]]
    assert set(area[0]) == {"⠉"}
    assert set(area[1]) == {" "}
    assert set(area[2]) == {"+"}
    assert set(area[3]) == {"x"}
    tp = terminal.terminal_schedules(["constant", "0.5 * constant"], 50, None, None, 40, 4, False)
    braille = tp.text(markers=False)
    assert "+" not in braille
    assert [ln[:4] for ln in braille.splitlines()[-2:]] == ["  ⣿ ", "  ⣿ "]
    assert terminal.MARKERS[:2] == ("+", "x")


# -- drawn by plotext -----------------------------------------------------------------------------
def test_a_jump_is_joined_in_one_column_above_its_boundary_mark() -> None:
    """0.1 for 50 steps, then 1: one column holds dots on every row, the column of the ┴.

    Width 40 with y labels of 3 characters leaves 35 columns (70 dots); step 50 of 0..99 sits at
    dot column 50 / 99 * 69 = 34.8, in text column 17.
    """
    lines = render_terminal("constant(50, 0.1) >> constant", 100, width=40, height=8).splitlines()
    area = [line.split("┤" if "┤" in line else "│", 1)[1] for line in lines[1:9]]
    full = [i for i in range(len(area[0])) if all(row[i] != " " for row in area)]
    assert len(full) == 1
    assert abs(full[0] - 17) <= 1
    axis = next(line for line in lines if "└" in line)
    assert axis.split("└", 1)[1].index("┴") == full[0]
    assert set(area[0][full[0] + 1 :]) == {"⠉"}  # 1 after the jump: the top dots of row 0
    assert set(area[-1][: full[0]]) == {"⠉"}  # 0.1 = dot row 27.9 of 0..31: the top of row 7


def test_each_plot_is_drawn_afresh() -> None:
    """A plot drawn after another is the same as drawn first (plotext's figure is global)."""
    first = render_terminal(["linear(10%) >> cosine", "constant"], 500, width=50, height=6)
    other = render_terminal("noam(d_model=64, warmup=40)", 90, width=70, height=9, log=True)
    assert render_terminal(["linear(10%) >> cosine", "constant"], 500, width=50, height=6) == first
    assert first != other


def test_without_plotext_the_plot_says_what_to_install() -> None:
    """rampup.cli.terminal imports without plotext; drawing names the extra, then the cause."""
    code = (
        "import sys; sys.modules['plotext'] = None\n"
        "from rampup.cli.terminal import render_terminal\n"
        "try:\n"
        "    render_terminal('linear(5)', 10, width=40)\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "rampup.cli.terminal needs plotext: pip install 'rampup[cli]'"
        " (import of plotext halted; None in sys.modules)\n"
    )
