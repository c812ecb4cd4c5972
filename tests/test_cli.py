"""The ``rampup`` command: plot, show, suggest, their --json output and every error path.

Expected numbers are derived by hand (docs/conventions.md, the rules of rampup.rules); every
error exits with status 2 and one message, never a traceback.
"""

from __future__ import annotations

import json
import math
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rampup.cli import app, main

runner = CliRunner()
_SGD_BETA2 = ["--optimizer", "sgd", "--beta2", "0.9"]


def _run(*argv: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(argv))
    return result.exit_code, result.stdout, result.stderr


# -- plot -----------------------------------------------------------------------------------------
def test_plot_in_the_terminal_fits_the_width() -> None:
    """Without --out the plot is drawn as text, within --width, with each spec in the legend."""
    code, out, _ = _run(
        "plot", "linear(5%) >> cosine", "noam(d_model=512, warmup=500)",
        "--total", "10000", "--width", "60", "--height", "8",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "linear(5%) >> cosine" in out
    assert "noam(d_model=512, warmup=500)" in out
    assert lines[0] == "lr multiplier over 10,000 steps"


@pytest.mark.parametrize("columns", [20, 24, 33, 80])
def test_plot_fits_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """COLUMNS=N: every line of the terminal plot is at most N characters, a huge run included."""
    monkeypatch.setenv("COLUMNS", str(columns))
    for total in ("10000", "123456789012345"):
        code, out, _ = _run(
            "plot", "linear(5%) >> cosine", "noam(d_model=512, warmup=500)", "--total", total,
            "--peak", "0.000123456",
        )  # fmt: skip
        assert code == 0
        assert max(len(line) for line in out.splitlines()) <= columns


def test_plot_in_a_terminal_narrower_than_the_minimum_draws_the_minimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Below 20 columns the plot is drawn 20 wide, the narrowest it can be; --width 19 fails."""
    monkeypatch.setenv("COLUMNS", "12")
    code, out, _ = _run("plot", "linear(5%) >> cosine", "--total", "100")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) == 20
    code, out, _ = _run("plot", "linear(5%) >> cosine", "--total", "100", "--width", "20")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 20
    code, _, err = _run("plot", "linear(5%) >> cosine", "--total", "100", "--width", "19")
    assert code == 2
    assert "--width" in err


def test_plot_writes_a_png(tmp_path: Path) -> None:
    """--out FILE.png writes a real, non-trivial PNG and says where."""
    target = tmp_path / "shapes.png"
    code, out, _ = _run("plot", "linear(5%) >> cosine", "--total", "1000", "--out", str(target))
    assert code == 0
    assert out.strip() == f"wrote {target}"
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000


def test_plot_writes_an_svg_with_every_option(tmp_path: Path) -> None:
    """--log, --peak, --steps-per-epoch and --title all reach the figure."""
    target = tmp_path / "s.svg"
    code, _, _ = _run(
        "plot", "linear(1ep) >> cosine", "--total", "500", "--steps-per-epoch", "100",
        "--peak", "0.001", "--log", "--title", "My run", "--out", str(target),
    )  # fmt: skip
    assert code == 0
    svg = target.read_text()
    assert "My run" in svg
    assert "epoch" in svg


# -- show -----------------------------------------------------------------------------------------
def test_show_prints_the_table() -> None:
    """The table lists steps 0 and 1, the peak, the boundary, the end and the warmup lengths."""
    code, out, _ = _run("show", "linear(5%) >> cosine(to=0.01)", "--total", "10000")
    assert code == 0
    assert "first update" in out
    assert "0.002" in out  # 1/500 at step 0
    assert "peak first reached" in out
    assert "499" in out  # the last warmup step
    assert "249.5 steps" in out  # (500 - 1) / 2
    assert "0.01" in out  # after the run


def test_show_prints_step_counts_to_a_tenth() -> None:
    """linear(5000): effective warmup (5000 - 1) / 2 = 2499.5 is printed as such, not 2,500."""
    code, out, _ = _run("show", "linear(5%) >> cosine", "--total", "100000")
    assert code == 0
    assert "2,499.5 steps" in out
    assert "5,000 steps" in out
    code, out, _ = _run("show", "constant", "--total", "10")
    assert "│  1 step │" in out  # one update, singular
    assert "0 steps" in out


def test_show_without_warmup_has_one_warning() -> None:
    """A constant over 2 steps: 'no warmup', and no contradictory 'long warmup' warning."""
    code, out, _ = _run("show", "constant", "--total", "2", "--json")
    assert code == 0
    assert json.loads(out)["warnings"] == ["no warmup: update 0 already uses the peak value"]


def test_show_prints_warnings() -> None:
    """A warmup over half the run and an update at lr 0 are both flagged."""
    code, out, _ = _run("show", "linear(60, start=0.0, endpoint=false) >> cosine", "--total", "100")
    assert code == 0
    assert "warning: long warmup" in out
    assert "exactly 0" in out


def test_show_json_has_a_stable_schema_and_hand_derived_values() -> None:
    """--json prints strict JSON with the documented keys; linear(4) >> cosine over 8 steps."""
    code, out, _ = _run("show", "linear(4) >> cosine", "--total", "8", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {
        "command", "spec", "total_steps", "steps_per_epoch", "peak", "step_0", "step_1",
        "peak_step", "peak_value", "boundaries", "last_step", "last_value", "after_run",
        "warmup_steps", "effective_warmup", "zero_steps", "first_zero_step", "warnings",
    }  # fmt: skip
    assert data["command"] == "show"
    assert (data["step_0"], data["step_1"], data["peak_step"]) == (0.25, 0.5, 3)
    assert data["boundaries"] == [{"step": 4, "before": 1.0, "value": 1.0}]
    assert data["last_value"] == pytest.approx(0.5 * (1 + math.cos(3 * math.pi / 4)))
    assert data["effective_warmup"] == pytest.approx(1.5)
    assert data["first_zero_step"] is None


def test_show_json_with_epochs_and_peak() -> None:
    """--steps-per-epoch resolves '2ep'; --peak scales the values."""
    code, out, _ = _run(
        "show", "linear(2ep) >> cosine", "--total", "1000", "--steps-per-epoch", "50",
        "--peak", "0.5", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["boundaries"][0]["step"] == 100
    assert data["step_0"] == pytest.approx(0.5 / 100)
    assert (data["steps_per_epoch"], data["peak"]) == (50.0, 0.5)


# -- suggest --------------------------------------------------------------------------------------
def test_suggest_prints_the_spec_and_the_reasons() -> None:
    """AdamW, small Transformer, 100k steps: linear(2000) >> cosine, with sources and cautions."""
    code, out, _ = _run(
        "suggest", "--total-steps", "100000", "--batch-size", "256", "--model", "transformer"
    )
    assert code == 0
    assert "suggested: linear(2000) >> cosine" in out
    assert "Ma & Yarats 2019" in out
    assert "2 / (1 - 0.999) = 2000 steps" in out
    assert "cautions:" in out
    assert "rampup show 'linear(2000) >> cosine' --total 100000" in out


def test_suggest_json_has_a_stable_schema_and_follows_goyal() -> None:
    """SGD, batch 1024 = 4 x 256 at lr 0.1: peak 0.4, start 0.25 (the base-batch lr)."""
    code, out, _ = _run(
        "suggest", "--total-steps", "45000", "--batch-size", "1024", "--base-lr", "0.1",
        "--optimizer", "sgd", "--model", "cnn", "--size", "large", "--steps-per-epoch", "500",
        "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert set(data) == {
        "command", "spec", "warmup_steps", "start", "peak_lr", "batch_scale", "guideline_steps",
        "table_steps", "table_row", "untuned_steps", "total_steps", "batch_size",
        "base_batch_size", "base_lr", "optimizer", "beta2", "model", "size", "steps_per_epoch",
        "reasons", "cautions",
    }  # fmt: skip
    assert data["peak_lr"] == pytest.approx(0.4)
    assert data["start"] == 0.25
    # table 5-10 epochs x 500 = 2500-5000; middle 3750; x 4 = 15000, capped at 5000
    assert data["table_steps"] == [2500, 5000]
    assert data["warmup_steps"] == 5000
    assert data["spec"] == "linear(5000, start=0.25) >> cosine"
    assert data["untuned_steps"] is None
    assert all(isinstance(r, str) for r in data["reasons"])


@pytest.mark.parametrize("command", ["plot", "show", "suggest"])
def test_total_steps_is_spelled_alike_in_every_command(command: str) -> None:
    """--total and --total-steps (the name bind() and suggest() use) both set the run's length.

    Each spelling is checked against the length it must produce: 10 % of 400 steps is a
    40-step warmup (show's peak step 39, suggest's guideline upper end 40).
    """
    extra = {
        "plot": ["linear(10%) >> cosine", "--width", "60", "--height", "6"],
        "show": ["linear(10%) >> cosine", "--json"],
        "suggest": ["--batch-size", "32", "--json"],
    }[command]
    outs = []
    for flag in ("--total", "--total-steps"):
        code, out, err = _run(command, *extra, flag, "400")
        assert code == 0, err
        outs.append(out)
    assert outs[0] == outs[1]
    if command == "plot":
        assert outs[0].splitlines()[0] == "lr multiplier over 400 steps"
    elif command == "show":
        data = json.loads(outs[0])
        assert (data["total_steps"], data["peak_step"]) == (400, 39)
    else:
        data = json.loads(outs[0])
        assert (data["total_steps"], data["guideline_steps"][1]) == (400, 40)


def test_suggest_options_are_case_insensitive() -> None:
    """--optimizer ADAM and --beta2 0.99: the untuned rule gives round(2 / 0.01) = 200."""
    code, out, _ = _run(
        "suggest", "--total-steps", "4000", "--batch-size", "256", "--optimizer", "ADAM",
        "--beta2", "0.99", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert (data["optimizer"], data["untuned_steps"], data["warmup_steps"]) == ("adam", 200, 200)


# -- errors ---------------------------------------------------------------------------------------
def test_spec_error_puts_a_caret_under_the_column() -> None:
    """A bad spec: one message naming the column, the spec, and '^' under the offending char."""
    code, out, err = _run("show", "linear(5%) >> cosin", "--total", "100")
    assert code == 2
    assert out == ""
    first, spec_line, caret_line = err.splitlines()
    assert first.startswith("rampup show: error: parse(): column 15: unknown schedule")
    assert spec_line == "  linear(5%) >> cosin"
    assert caret_line.strip() == "^"
    assert spec_line[caret_line.index("^")] == "c"  # column 15 of the spec


def test_plot_names_which_spec_is_bad() -> None:
    """With several specs, the message says which one; the caret points at its end."""
    code, _, err = _run("plot", "linear(5)", "linear(5) >>", "--total", "100")
    assert code == 2
    first, spec_line, caret_line = err.splitlines()
    assert first.startswith("rampup plot: error: SPEC 2: parse(): column 13:")
    assert caret_line.index("^") == len(spec_line)  # just past the end of "  linear(5) >>"


def test_plot_names_which_spec_does_not_fit_the_run() -> None:
    """A spec that parses but cannot bind (warmup longer than the run) is named too."""
    code, _, err = _run("plot", "linear(5)", "linear(20)", "--total", "10")
    assert code == 2
    assert err.startswith("rampup plot: error: SPEC 2: bind(): total_steps=10 is invalid")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "linear(5%)"], "Missing option '--total'"),
        (["show", "--total", "10"], "Missing argument"),
        (["show", "linear(5%)", "--total", "0"], "--total"),
        (["show", "linear(5%)", "--total", "abc"], "--total"),
        (["show", "linear(5%)", "--total", "10", "--bogus"], "No such option"),
        (["show", "linear(20)", "--total", "10"], "bind(): total_steps=10 is invalid"),
        (["show", "linear(2ep)", "--total", "10"], "no steps_per_epoch"),
        (["show", "linear(5)", "--total", "10", "--steps-per-epoch", "0"], "steps_per_epoch=0"),
        (["show", "linear(5)", "--total", "10", "--peak", "-1"], "peak=-1"),
        (["show", "linear(5)", "--total", "10", "--peak", "nan"], "peak=nan"),
        (["plot", "--total", "10"], "Missing argument"),
        (["plot", "constant(5, 0.0) >> constant(value=0.0)", "--total", "6", "--log"], "positive"),
        (["plot", "linear(5)", "--total", "10", "--width", "10"], "--width"),
        (["plot", "linear(5)", "--total", "10", "--height", "1"], "--height"),
        (["suggest", "--total-steps", "100"], "Missing option '--batch-size'"),
        (["suggest", "--total-steps", "1", "--batch-size", "8"], "--total-steps"),
        (["suggest", "--total-steps", "100", "--batch-size", "0"], "--batch-size"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", "--optimizer", "lion"], "lion"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", "--model", "rnn"], "rnn"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", "--size", "xl"], "xl"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", "--beta2", "1.5"], "beta2=1.5"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", "--base-lr", "0"], "base_lr=0"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", *_SGD_BETA2], "beta2=0.9"),
        (["frobnicate"], "No such command"),
    ],
)
def test_every_error_exits_2_with_one_message(argv: list[str], message: str) -> None:
    """Bad options and bad values: status 2, the message on stderr, no traceback, no output."""
    code, out, err = _run(*argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out
    assert out == ""


def test_bad_output_paths_exit_2(tmp_path: Path) -> None:
    """An unknown format, a missing directory and an unwritable path: status 2, one message."""
    cases = {
        str(tmp_path / "x.jpg"): "expected a file name ending in .png, .svg, .pdf",
        str(tmp_path / "missing" / "x.png"): "expected a path in an existing directory",
    }
    (tmp_path / "dir.png").mkdir()
    cases[str(tmp_path / "dir.png")] = "cannot write"
    for path, message in cases.items():
        code, out, err = _run("plot", "linear(5)", "--total", "10", "--out", path)
        assert code == 2, path
        assert message in err
        assert err.startswith("rampup plot: error: ")
        assert "Traceback" not in err + out


def test_main_returns_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    """main(argv) returns 0 on success and 2 on an error, printing instead of raising."""
    assert main(["show", "linear(4) >> cosine", "--total", "8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["peak_step"] == 3
    assert main(["show", "linear(4) >> cosin", "--total", "8"]) == 2
    assert "column 14" in capsys.readouterr().err  # the c of cosin


def test_console_script_has_no_traceback() -> None:
    """The real process: `python -m rampup show` with a bad spec exits 2, message on stderr."""
    out = subprocess.run(
        [sys.executable, "-m", "rampup", "show", "linear(5%) >> cosin", "--total", "100"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("rampup show: error: parse(): column 15:")
    assert "Traceback" not in out.stderr


def test_plot_out_without_matplotlib_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """If matplotlib is missing, --out exits 2 with the extra to install, not a traceback."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = _run("plot", "linear(5)", "--total", "10", "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert err == "rampup plot: error: --out needs matplotlib: pip install 'rampup[plot]'\n"


def test_docs_figure_is_made_by_the_documented_command(tmp_path: Path) -> None:
    """The `rampup plot ... --out docs/img/shapes.png` shown in docs/cli.md redraws that PNG."""
    import matplotlib.image  # noqa: PLC0415  # only this test reads images
    import numpy as np  # noqa: PLC0415

    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "cli.md").read_text()
    command = next(
        block for block in text.split("```bash\n")[1:] if "--out docs/img/shapes.png" in block
    ).split("```")[0]
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:2] == ["rampup", "plot"]
    out = tmp_path / "shapes.png"
    argv[argv.index("docs/img/shapes.png")] = str(out)
    assert main(argv[1:]) == 0
    drawn = matplotlib.image.imread(out)
    committed = matplotlib.image.imread(root / "docs" / "img" / "shapes.png")
    assert drawn.shape == committed.shape
    assert float(np.abs(drawn - committed).mean()) < 0.01
