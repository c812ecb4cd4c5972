"""The ``rampup`` command: plot, show, suggest, their --json output and every error path.

Expected numbers are derived by hand (docs/conventions.md, the rules of rampup.rules); every
error exits with status 2 and one message, never a traceback.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rampup import RampupError, parse
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
    """SGD, batch 1024 = 4 x 256 at lr 0.1: peak 0.4, 5 epochs from 0.25 (the base-batch lr)."""
    code, out, _ = _run(
        "suggest", "--total-steps", "45000", "--batch-size", "1024", "--base-lr", "0.1",
        "--base-batch-size", "256", "--optimizer", "sgd", "--model", "cnn", "--size", "large",
        "--steps-per-epoch", "500", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert set(data) == {
        "command", "spec", "warmup_steps", "start", "peak_lr", "critical_lr", "batch_scale",
        "guideline_steps", "table_steps", "table_row", "untuned_steps", "cap_steps",
        "total_steps", "batch_size", "base_batch_size", "base_lr", "optimizer", "beta2", "model",
        "size", "steps_per_epoch", "reasons", "cautions",
    }  # fmt: skip
    assert data["peak_lr"] == pytest.approx(0.4)
    assert data["start"] == 0.25
    # Goyal et al.'s 5 epochs x 500 = 2500 (it was the table's middle 3750 x 4, capped at 5000)
    assert data["table_steps"] == [2500, 5000]
    assert data["warmup_steps"] == 2500
    assert data["cap_steps"] == 11250  # 45 000 / 4
    assert data["spec"] == "linear(2500, start=0.25) >> cosine"
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


def test_suggest_caps_the_warmup_at_a_quarter_of_the_run() -> None:
    """200 updates, AdamW 0.98, small Transformer: min(2 / 0.02 = 100, 200 / 4 = 50) = 50."""
    code, out, _ = _run(
        "suggest", "--total-steps", "200", "--batch-size", "32", "--beta2", "0.98", "--model",
        "transformer",
    )  # fmt: skip
    assert code == 0
    assert "suggested: linear(50) >> cosine" in out  # it was linear(199), the whole run
    assert "warmup 50 of 200 steps (at most 50)" in out
    assert "min(2 / (1 - beta2) = 100, 50) = 50 steps" in " ".join(out.split())


def test_suggest_without_a_base_batch_keeps_the_lr() -> None:
    """AdamW at batch 512, --base-lr 3e-4 and no --base-batch-size: peak 3e-4, not 6e-4."""
    code, out, _ = _run(
        "suggest", "--total-steps", "100000", "--batch-size", "512", "--base-lr", "3e-4", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert (data["peak_lr"], data["batch_scale"], data["base_batch_size"]) == (3e-4, None, None)


def test_suggest_critical_lr_starts_the_warmup_there() -> None:
    """--critical-lr 1e-3 --base-lr 4e-3, SGD, 400 steps: ceil(100 x 0.875) = 88 from 0.125."""
    code, out, _ = _run(
        "suggest", "--total-steps", "400", "--batch-size", "64", "--optimizer", "sgd",
        "--base-lr", "4e-3", "--critical-lr", "1e-3",
    )  # fmt: skip
    assert code == 0
    assert "suggested: linear(88, start=0.125) >> cosine" in out
    assert "peak lr 0.004, from the critical lr 0.001" in out
    code, out, err = _run(
        "suggest", "--total-steps", "400", "--batch-size", "64", "--critical-lr", "1e-3"
    )
    assert code == 2
    assert err == (
        "rampup suggest: error: --critical-lr 0.001 is invalid: expected a peak to climb to as"
        " well: give --base-lr too (the warmup climbs from the critical lr to it)\n"
    )


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
    assert err.startswith("rampup plot: error: SPEC 2: --total 10 is invalid")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "linear(5%)"], "Missing option '--total'"),
        (["show", "--total", "10"], "Missing argument"),
        (["show", "linear(5%)", "--total", "0"], "--total"),
        (["show", "linear(5%)", "--total", "abc"], "--total"),
        (["show", "linear(5%)", "--total", "10", "--bogus"], "No such option"),
        (["show", "linear(20)", "--total", "10"], "--total 10 is invalid: the phases take 20"),
        (["show", "linear(2ep)", "--total", "10"], "give --steps-per-epoch"),
        (["show", "linear(5)", "--total", "10", "--steps-per-epoch", "0"], "--steps-per-epoch 0"),
        (["show", "linear(5)", "--total", "10", "--peak", "-1"], "--peak -1"),
        (["show", "linear(5)", "--total", "10", "--peak", "nan"], "--peak nan"),
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
        (["suggest", "--total-steps", "100", "--batch-size", "8", "--beta2", "1.5"], "--beta2 1.5"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", "--base-lr", "0"], "--base-lr 0"),
        (["suggest", "--total-steps", "100", "--batch-size", "8", *_SGD_BETA2], "no --beta2 with"),
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
    """If matplotlib is missing, --out exits 2 with the extra to install and the cause."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    code, _, err = _run("plot", "linear(5)", "--total", "10", "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert err == (
        "rampup plot: error: --out needs matplotlib: pip install 'rampup[plot]'"
        " (import of matplotlib halted; None in sys.modules)\n"
    )


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


# -- the help text --------------------------------------------------------------------------------
def _help(*command: str) -> str:
    code, out, err = _run(*command, "--help")
    assert code == 0, err
    return out


@pytest.mark.parametrize(
    "command", [(), ("plot",), ("show",), ("suggest",), ("lab",), ("lab", "run"), ("lab", "report")]
)
def test_help_shows_flags_as_flags_and_no_boxes(command: tuple[str, ...]) -> None:
    """--help, --log and --json read as plain flags (no '<bool>'), and nothing is drawn in boxes."""
    text = _help(*command)
    assert "<bool>" not in text
    assert not set(text) & set("╭╰│─")  # rich's panels
    assert "{" not in text.splitlines()[0]  # the usage line: SPEC, not {spec}
    assert re.search(r"^  -h, --help +Show this message and exit\.$", text, flags=re.M)


def test_help_usage_and_flags_of_plot_show_and_suggest() -> None:
    """The usage lines name SPEC; boolean flags take no value; options with defaults show them."""
    plot_help, show_help, suggest_help = _help("plot"), _help("show"), _help("suggest")
    assert plot_help.splitlines()[0] == "Usage: rampup plot [OPTIONS] SPEC..."
    assert show_help.splitlines()[0] == "Usage: rampup show [OPTIONS] SPEC"
    assert re.search(r"^  --log +Log-scale y axis\.$", plot_help, flags=re.M)
    for text in (show_help, suggest_help):
        assert re.search(r"^  --json +Print JSON", text, flags=re.M)
    flat = {name: " ".join(t.split()) for name, t in [
        ("plot", plot_help), ("show", show_help), ("suggest", suggest_help)]}  # fmt: skip
    assert "--height ROWS Terminal plot height in rows. [default: 12; x>=4]" in flat["plot"]
    assert "Default: the terminal's width." in flat["plot"]
    assert "--total, --total-steps N" in flat["plot"]
    assert "--peak LR Peak learning rate: show absolute rates. Default:" in flat["show"]
    for default in ("Default: none (no scaling). [x>=1]", "[default: adamw]", "[default: other]",
                    "[default: small]", "Default: 0.999 for adam and adamw"):  # fmt: skip
        assert default in flat["suggest"], default


# -- the words of the output ----------------------------------------------------------------------
_OUTPUTS = [
    ["show", "linear(5%) >> cosine(to=0.01)", "--total", "10000"],
    ["show", "constant(10, 0.1) >> constant", "--total", "100"],
    ["suggest", "--total-steps", "100000", "--batch-size", "1024", "--base-lr", "3e-4",
     "--model", "transformer"],
    ["suggest", "--total-steps", "45000", "--batch-size", "1024", "--base-lr", "0.1",
     "--optimizer", "sgd", "--model", "cnn", "--size", "large", "--steps-per-epoch", "500"],
    ["suggest", "--total-steps", "5000", "--batch-size", "64", "--model", "cnn"],
    ["suggest", "--total-steps", "3000", "--batch-size", "32", "--model", "bert-finetune",
     "--json"],
    ["plot", "linear(5%) >> cosine", "noam(d_model=512, warmup=4000)", "--total", "1000",
     "--width", "60"],
]  # fmt: skip


def test_no_text_says_the_seeds_or_cites_an_issue() -> None:
    """The root help and plot, show and suggest (help and output) never say "seeds" or "issue #"."""
    texts = [_help(c) for c in ("plot", "show", "suggest")]
    texts.append(_help())
    for argv in _OUTPUTS:
        code, out, err = _run(*argv)
        assert code == 0, err
        texts.append(out + err)
    for text in texts:
        assert "seeds" not in text.lower()
        assert "issue #" not in text.lower()


def test_show_asks_for_the_flag_not_a_python_call() -> None:
    """Epochs without --steps-per-epoch: the CLI names the flag; Python keeps .bind()."""
    code, out, err = _run("show", "linear(2ep)", "--total", "100")
    assert code == 2
    assert out == ""
    assert err == (
        "rampup show: error: linear(): length='2ep' is in epochs but no steps_per_epoch is"
        " known: give --steps-per-epoch\n"
    )
    with pytest.raises(RampupError, match=r"call \.bind\(steps_per_epoch=\.\.\.\)"):
        parse("linear(2ep)").bind(total_steps=100)


def test_suggest_advice_names_flags() -> None:
    """Printed cautions of suggest say --steps-per-epoch and --base-lr, not Python parameters."""
    code, out, _ = _run("suggest", "--total-steps", "5000", "--batch-size", "64", "--model", "cnn")
    assert code == 0
    assert "give --steps-per-epoch to use it" in out
    assert "give --base-lr and --base-batch-size (the batch it was tuned at)" in out
    assert "steps_per_epoch" not in out
    assert "base_lr" not in out
    assert "base_batch_size" not in out
    code, out, _ = _run(
        "suggest", "--total-steps", "5000", "--batch-size", "512", "--base-batch-size", "256"
    )
    assert code == 0
    assert "no --base-lr given: give the rate tuned at --base-batch-size" in out
    code, out, _ = _run("suggest", "--total-steps", "5000", "--batch-size", "64", "--base-lr", "1")
    assert "give --base-batch-size (the batch the lr was tuned at)" in out
    assert "base_batch_size" not in out


# -- one error style ------------------------------------------------------------------------------
_STYLES = [
    (["show", "linear(5%) >> cosin", "--total", "100"],
     "rampup show: error: parse(): column 15: unknown schedule"),
    (["show", "linear(5%)", "--total", "abc"],
     "rampup show: error: Invalid value for '--total' / '--total-steps': "),
    (["show", "linear(5%)", "--total", "10", "--bogus"],
     "rampup show: error: No such option: --bogus (see 'rampup show --help')"),
    (["plot", "--total", "10"],
     "rampup plot: error: Missing argument 'SPEC' (see 'rampup plot --help')"),
    (["lab", "report"],
     "rampup lab report: error: Missing argument 'FOLDER' (see 'rampup lab report --help')"),
    (["frobnicate"], "rampup: error: No such command 'frobnicate' (see 'rampup --help')"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "first"), _STYLES)
def test_every_error_reads_rampup_command_error(argv: list[str], first: str) -> None:
    """A bad spec, a bad option value, an unknown option, a missing argument: one style, exit 2."""
    code, out, err = _run(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith(first)
    assert "Usage:" not in err
    assert not set(err) & set("╭╰│")  # no boxes
    if "parse()" not in first:  # a spec error adds the spec and a caret below; others are one line
        assert err.count("\n") == 1


@pytest.mark.parametrize(("argv", "first"), _STYLES[:4])
def test_every_error_reads_alike_in_a_real_process(argv: list[str], first: str) -> None:
    """`python -m rampup`: the same single message on stderr and exit status 2."""
    out = subprocess.run(
        [sys.executable, "-m", "rampup", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith(first)
    assert "Traceback" not in out.stderr
    assert not set(out.stderr) & set("╭╰│")


def test_bare_command_prints_its_help() -> None:
    """`rampup` alone prints the help on stdout and exits 0: asking for nothing is no error."""
    code, out, err = _run()
    assert code == 0
    assert out.startswith("Usage: rampup [OPTIONS] COMMAND [ARGS]...")
    assert err == ""


def test_without_typer_the_command_says_what_to_install() -> None:
    """No typer: one message in the house style (extra, then the cause), exit status 2."""
    code = (
        "import sys; sys.modules['typer'] = None\n"
        "from rampup.__main__ import main\n"
        "sys.exit(main(['show', 'linear(5)', '--total', '10']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 2
    assert out.stderr == (
        "rampup: error: rampup.cli needs typer and rich: pip install 'rampup[cli]'"
        " (import of typer halted; None in sys.modules)\n"
    )


def test_without_plotext_the_terminal_plot_says_what_to_install() -> None:
    """No plotext: `rampup plot` without --out gives one message (extra, then the cause), exit 2."""
    code = (
        "import sys; sys.modules['plotext'] = None\n"
        "from rampup.__main__ import main\n"
        "sys.exit(main(['plot', 'linear(5)', '--total', '10', '--width', '40']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == (
        "rampup plot: error: rampup.cli.terminal needs plotext: pip install 'rampup[cli]'"
        " (import of plotext halted; None in sys.modules)\n"
    )


# -- plots: absolute rates beside multipliers, curves without colour ------------------------------
def test_plot_rescales_an_absolute_rate_beside_multipliers_and_says_so() -> None:
    """Noam (peak (512 * 4000)^-0.5 ~ 7e-4) beside a multiplier: drawn up to 1, noted on stderr."""
    code, out, err = _run(
        "plot", "linear(5%) >> cosine", "noam(d_model=512, warmup=4000)", "--total", "4000",
        "--width", "80", "--height", "8",
    )  # fmt: skip
    assert code == 0
    peak = (512 * 4000) ** -0.5  # update 3999
    assert f"(peak {peak:.3g}, scaled up {1 / peak:,.0f}x)" in out
    rows = out.splitlines()[1:9]
    assert "+" in rows[0]  # noam's glyph reaches the top row, the peak 1 of the other curve
    assert err == (
        f"note: noam(d_model=512, warmup=4000) peaks at {peak:.3g}, far below the largest peak"
        f" (1): it is drawn scaled up {1 / peak:,.0f}x so that its shape shows (--log draws"
        " every curve to scale)\n"
    )
    code, out, err = _run(
        "plot", "linear(5%) >> cosine", "noam(d_model=512, warmup=4000)", "--total", "4000",
        "--log", "--width", "80",
    )  # fmt: skip
    assert code == 0
    assert "scaled up" not in out
    assert err == ""


def test_plot_out_notes_the_rescaled_curve(tmp_path: Path) -> None:
    """--out: the same note on stderr, and the figure's legend says the curve is scaled."""
    target = tmp_path / "n.svg"
    code, out, err = _run(
        "plot", "linear(5%) >> cosine", "noam(d_model=512, warmup=4000)", "--total", "4000",
        "--out", str(target),
    )  # fmt: skip
    assert code == 0
    assert out == f"wrote {target}\n"
    assert err.startswith("note: noam(d_model=512, warmup=4000) peaks at 0.000699")
    assert "scaled up 1,431x" in target.read_text()


def test_piped_plot_gives_each_curve_its_own_glyph() -> None:
    """Without colour: curve 0 in braille, curve 1 in '+', curve 2 in 'x'; the legend maps them.

    constant (1), 0.5 * constant and 0.25 * constant over 4 rows of 4 dots: the value v is
    at dot row round((1 - v) * 15), i.e. text rows 0, 2 (dot 8 = 7.5 rounded) and 2 (dot 11).
    """
    code, out, _ = _run(
        "plot", "constant", "0.5 * constant", "0.25 * constant", "--total", "50", "--width", "40",
        "--height", "4",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    area = [line.split("┤" if "┤" in line else "│", 1)[1] for line in lines[1:5]]
    assert set(area[0]) == {"⠉"}  # the top dots of each cell: curve 0
    assert set(area[2]) == {"x"}  # curve 2 drawn last owns the row it shares with curve 1
    legend = [line for line in lines if line.startswith("  ") and line[3:4] == " "][-3:]
    assert [ln[2] for ln in legend] == ["⣿", "+", "x"]
    assert [ln[4:] for ln in legend] == ["constant", "0.5 * constant", "0.25 * constant"]


def test_coloured_plot_keeps_braille_for_every_curve() -> None:
    """With colour (FORCE_COLOR), each curve is braille in its own colour, no glyph substitutes."""
    result = runner.invoke(
        app,
        ["plot", "constant", "0.5 * constant", "--total", "50", "--width", "40", "--height", "4"],
        env={"FORCE_COLOR": "1", "NO_COLOR": ""},
    )
    assert result.exit_code == 0
    assert "\x1b[" in result.stdout  # ANSI colours
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert "+" not in plain
    assert plain.count("⣿") == 2  # both legend entries


# -- docs/cli.md ----------------------------------------------------------------------------------
def _doc_examples() -> list[tuple[str, list[str]]]:
    """Each `$ rampup ...` command of docs/cli.md's text blocks, with the output shown below it."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"^```text\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            if line.startswith("$ rampup "):
                examples.append((line[2:], []))
            elif examples:
                examples[-1][1].append(line)
    return examples


@pytest.mark.parametrize(("command", "shown"), _doc_examples(), ids=lambda x: str(x)[:40])
def test_docs_cli_examples_print_what_they_show(
    monkeypatch: pytest.MonkeyPatch, command: str, shown: list[str]
) -> None:
    """Each example of docs/cli.md prints its lines; '...' marks where the doc shortens one.

    Shortened examples (and wrapped long lines) are compared with whitespace collapsed, each
    piece around a '...' in order; the others line by line.
    """
    monkeypatch.setenv("COLUMNS", "100")
    argv = shlex.split(command)
    result = runner.invoke(app, argv[1:])
    printed = result.stdout + result.stderr
    if any("..." in line for line in shown) or (result.exit_code == 0 and argv[1] == "suggest"):
        flat = " ".join(printed.split())
        at = 0
        for line in shown:
            for piece in (" ".join(p.split()) for p in line.split("...")):
                found = flat.find(piece, at)
                assert found >= 0, (piece, flat[at:])
                at = found + len(piece)
    else:
        assert [ln.rstrip() for ln in printed.splitlines()] == [ln.rstrip() for ln in shown]
