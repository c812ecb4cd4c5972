"""The ``rampup`` Typer application: a thin layer over library functions.

Each command lives with the library code it drives; this module only assembles them into one
Typer application. Errors print one clear message and exit with status 2, never a traceback.

- ``rampup plot SPEC [SPEC ...] --total N``: :func:`rampup.plot` (``--out FILE``) or
  :func:`rampup.cli.terminal.render_terminal` (in the terminal);
- ``rampup show SPEC --total N``: :func:`rampup.advice.summary.summarize`;
- ``rampup suggest --total-steps N --batch-size B``: :func:`rampup.suggest`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from rampup import RampupError
from rampup.cli._click import USAGE_ERROR, Group
from rampup.cli.terminal import MIN_WIDTH, TerminalPlot
from rampup.lab.commands import register as register_lab

#: Colours of the curves in the terminal plot, in order.
_PALETTE = ("cyan", "magenta", "yellow", "green", "blue", "red")
app = typer.Typer(
    name="rampup",
    help="Learning-rate warmup, done right: see, compare, choose and test schedules.",
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: flags without a '<bool>' type, no boxes
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """Learning-rate warmup, done right: see, compare, choose and test schedules."""


register_lab(app)


def _error(command: str, message: str) -> typer.Exit:
    """Print ``message`` (a spec error keeps its caret lines) on stderr; the exit to raise."""
    typer.echo(f"rampup {command}: error: {message}", err=True)
    return typer.Exit(USAGE_ERROR)


#: The library's Python parameters, as the command line spells them.
_FLAGS = {
    "total_steps": "--total",
    "steps_per_epoch": "--steps-per-epoch",
    "peak": "--peak",
    "batch_size": "--batch-size",
    "base_batch_size": "--base-batch-size",
    "base_lr": "--base-lr",
    "critical_lr": "--critical-lr",
    "beta2": "--beta2",
    "optimizer": "--optimizer",
    "model": "--model",
    "size": "--size",
}
#: Library functions the commands call for the user: their parameters are the command's flags.
_CALLED = r"(?:bind|summarize|suggest|plot|render_terminal)"
#: Advice written for Python callers, and what a command-line user does instead.
_HINTS = (
    (
        re.compile(r"call \.bind\((\w+)=\.\.\.\) \(or pass \w+ to the scheduler\)"),
        lambda m: f"give {_FLAGS.get(m[1], m[1])}",
    ),
    (
        re.compile(r"\bpass (\w+) to use it"),
        lambda m: f"give {_FLAGS.get(m[1], m[1])} to use it",
    ),
    (
        re.compile(r"no base_lr given: pass the rate tuned at base_batch_size"),
        lambda m: "no --base-lr given: give the rate tuned at --base-batch-size",
    ),
    (
        re.compile(r"\bpass (base_lr|base_batch_size)(?: and (base_batch_size))?\b"),
        lambda m: f"give {_FLAGS[m[1]]}" + (f" and {_FLAGS[m[2]]}" if m[2] else ""),
    ),
    (
        re.compile(rf"^{_CALLED}\(\): (\w+)=(\S+) is invalid"),
        lambda m: f"{_FLAGS[m[1]]} {m[2]} is invalid" if m[1] in _FLAGS else m[0],
    ),
    (re.compile(r"^(--\S+ .*?),? or None$"), lambda m: m[1]),  # a flag left out is the None
    (
        re.compile(r"^--beta2 (\S+) is invalid: expected None with optimizer='(\w+)'"),
        lambda m: f"--beta2 {m[1]} is invalid: expected no --beta2 with --optimizer {m[2]}",
    ),
)


def _for_the_command_line(message: str) -> str:
    """A library message worded for a command-line user: flags instead of Python calls.

    ``linear(): length='2ep' is in epochs but no steps_per_epoch is known: call
    .bind(steps_per_epoch=...) (or pass steps_per_epoch to the scheduler)`` becomes ``... is
    known: give --steps-per-epoch``, and ``summarize(): peak=-1.0 is invalid: ...`` (a function
    the command called, not the user) becomes ``--peak -1.0 is invalid: ...``. The library keeps
    its own wording for Python callers.
    """
    for pattern, words in _HINTS:
        message = pattern.sub(words, message)
    return message


@contextmanager
def _errors(command: str, what: str = "") -> Iterator[None]:
    """Turn rampup's and the file system's errors into one message and exit status 2."""
    try:
        yield
    except RampupError as err:
        raise _error(command, f"{what}{_for_the_command_line(str(err))}") from None
    except OSError as err:
        raise _error(
            command, f"cannot write {err.filename or 'the file'}: {err.strerror}"
        ) from None


def _emit_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def _console() -> Any:
    from rich.console import Console  # noqa: PLC0415  # keep start-up light

    return Console(highlight=False, soft_wrap=True)


# -- plot -----------------------------------------------------------------------------------------
Total = Annotated[
    int,
    typer.Option(
        "--total",
        "--total-steps",
        min=1,
        metavar="N",
        help="Steps in the whole run (optimizer updates), warmup included.",
    ),
]
StepsPerEpoch = Annotated[
    float | None,
    typer.Option(
        "--steps-per-epoch",
        metavar="K",
        help="Updates per epoch, for lengths in epochs ('2ep'). Default: none.",
    ),
]
Peak = Annotated[
    float | None,
    typer.Option(
        "--peak",
        metavar="LR",
        help="Peak learning rate: show absolute rates. Default: multiples of the base lr.",
    ),
]


@app.command()
def plot(
    specs: Annotated[
        list[str],
        typer.Argument(metavar="SPEC", help="Schedules, e.g. 'linear(5%) >> cosine'."),
    ],
    total: Total,
    steps_per_epoch: StepsPerEpoch = None,
    peak: Peak = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Write a figure (.png, .svg or .pdf) instead of drawing in the terminal.",
        ),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="Log-scale y axis.")] = False,
    title: Annotated[
        str | None,
        typer.Option(
            "--title",
            metavar="TEXT",
            help="Title of the figure. Default: 'Learning-rate schedules over N steps'.",
        ),
    ] = None,
    width: Annotated[
        int | None,
        typer.Option(
            "--width",
            min=MIN_WIDTH,
            metavar="COLS",
            help="Terminal plot width in characters. Default: the terminal's width.",
        ),
    ] = None,
    height: Annotated[
        int,
        typer.Option("--height", min=4, metavar="ROWS", help="Terminal plot height in rows."),
    ] = 12,
) -> None:
    """Plot schedules: a figure with --out FILE, else a plot drawn in the terminal."""
    _check_all("plot", specs, total, steps_per_epoch)  # errors name the spec; legends show them
    if out is not None:
        try:
            import matplotlib  # noqa: F401, PLC0415  # only to give a clear message if missing
        except ImportError as err:
            raise _error(
                "plot", f"--out needs matplotlib: pip install 'rampup[plot]' ({err})"
            ) from None
        with _errors("plot"):
            from rampup.cli.curves import curves, one_scale  # noqa: PLC0415
            from rampup.cli.plots import plot as draw  # noqa: PLC0415  # matplotlib is heavy
            from rampup.cli.plots import save  # noqa: PLC0415

            fig = draw(specs, total, steps_per_epoch, peak, log=log, title=title)
            path = save(fig, out)
            notes = [] if log else one_scale(curves(specs, total, steps_per_epoch, peak))[1]
        typer.echo(f"wrote {path}")
        _print_notes(notes)
        return
    from rampup.cli.terminal import terminal_schedules  # noqa: PLC0415

    with _errors("plot"):
        try:
            text = terminal_schedules(specs, total, steps_per_epoch, peak, width, height, log)
        except ImportError as err:  # plotext missing: what to install, not a traceback
            raise _error("plot", str(err)) from None
    _print_segments(text)
    _print_notes(text.notes)


def _print_notes(notes: list[str]) -> None:
    """Each note on stderr, its advice worded for the command line."""
    for note in notes:
        typer.echo("note: " + note.replace("a log y axis", "--log"), err=True)


def _check_all(
    command: str, specs: list[str], total: int, steps_per_epoch: float | None
) -> list[Any]:
    """Parse each spec and bind it to the run; an error names which spec (if several).

    A parse error keeps its caret under the offending column.
    """
    from rampup.core.spec import parse  # noqa: PLC0415

    schedules = []
    for i, spec in enumerate(specs, 1):
        what = f"SPEC {i}: " if len(specs) > 1 else ""
        with _errors(command, what):
            schedule = parse(spec)
            schedule.bind(total_steps=total, steps_per_epoch=steps_per_epoch)
            schedules.append(schedule)
    return schedules


def _print_segments(plot: TerminalPlot) -> None:
    """The plot, each curve in its colour; without colour (a pipe, NO_COLOR) in its own glyph."""
    from rich.text import Text  # noqa: PLC0415

    console = _console()
    console.width = max(console.width, plot.width)  # a pipe's default width must not crop it
    coloured = console.color_system is not None
    for line in plot.segments(markers=not coloured):
        text = Text(no_wrap=True, overflow="crop")
        for part, curve in line:
            style = None if curve is None or not coloured else _PALETTE[curve % len(_PALETTE)]
            text.append(part, style=style)
        console.print(text)


# -- show -----------------------------------------------------------------------------------------
Json = Annotated[bool, typer.Option("--json", help="Print JSON (a stable schema) for scripts.")]


@app.command()
def show(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="A schedule, e.g. 'linear(5%)'.")],
    total: Total,
    steps_per_epoch: StepsPerEpoch = None,
    peak: Peak = None,
    as_json: Json = False,
) -> None:
    """A table of what matters: steps 0 and 1, the peak, each boundary, the end, warnings."""
    from rampup.advice.summary import summarize  # noqa: PLC0415

    (schedule,) = _check_all("show", [spec], total, steps_per_epoch)
    with _errors("show"):
        summary = summarize(schedule, total, steps_per_epoch, peak)
    if as_json:
        _emit_json({"command": "show", **summary.to_dict()})
        return
    from rich.table import Table  # noqa: PLC0415

    unit = f"absolute learning rates (peak {peak:g})" if peak else "multiples of the base lr"
    table = Table(
        title=f"{summary.spec}  over {summary.total_steps:,} steps",
        title_justify="left",
        caption=f"values: {unit}",
        caption_justify="left",
    )
    table.add_column("what")
    table.add_column("step", justify="right")
    if steps_per_epoch is not None:
        table.add_column("epoch", justify="right")
    table.add_column("value", justify="right")

    def row(what: str, step: int | None, value: float | str) -> None:
        cells = [what, "" if step is None else f"{step:,}"]
        if steps_per_epoch is not None:
            cells.append("" if step is None else f"{step / steps_per_epoch:.3g}")
        cells.append(value if isinstance(value, str) else f"{value:.6g}")
        table.add_row(*cells)

    row("first update", 0, summary.step_0)
    if summary.step_1 is not None:
        row("second update", 1, summary.step_1)
    row("peak first reached", summary.peak_step, summary.peak_value)
    for i, b in enumerate(summary.boundaries, 1):
        row(f"boundary {i}: last step before", b.step - 1, b.before)
        row(f"boundary {i}: first step after", b.step, b.value)
    row("last update", summary.last_step, summary.last_value)
    row("after the run (held)", summary.total_steps, summary.after_run)
    row("warmup length (to the peak)", None, _steps(summary.warmup_steps))
    row("effective warmup Σ(1 - w_t)", None, _steps(summary.effective_warmup))
    console = _console()
    console.print(table)
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", markup=True)


def _steps(n: float) -> str:
    """A number of steps for the table, to 0.1 step: '1 step', '5,000 steps', '2,499.5 steps'."""
    text = f"{n:,.1f}".removesuffix(".0")
    return f"{text} step" + ("" if text == "1" else "s")


# -- suggest --------------------------------------------------------------------------------------
class Optimizer(str, Enum):
    """Optimizers ``suggest`` knows."""

    adamw = "adamw"
    adam = "adam"
    sgd = "sgd"


class Model(str, Enum):
    """Model kinds of the per-model warmup table of the classic recipes."""

    transformer = "transformer"
    cnn = "cnn"
    mlp = "mlp"
    other = "other"
    bert_finetune = "bert-finetune"
    gpt_pretrain = "gpt-pretrain"


class Size(str, Enum):
    """Model sizes of the per-model warmup table of the classic recipes."""

    small = "small"
    large = "large"


@app.command()
def suggest(
    total_steps: Annotated[
        int,
        typer.Option(
            "--total-steps", "--total", min=2, metavar="N", help="Steps in the whole run."
        ),
    ],
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, metavar="B", help="Examples per optimizer update."),
    ],
    base_batch_size: Annotated[
        int | None,
        typer.Option(
            "--base-batch-size",
            min=1,
            metavar="B",
            help="The batch --base-lr was tuned at: give it to scale the peak lr to --batch-size"
            " (linear for sgd, square root for adam and adamw). Default: none (no scaling).",
        ),
    ] = None,
    base_lr: Annotated[
        float | None,
        typer.Option(
            "--base-lr",
            metavar="LR",
            help="The peak lr (tuned at --base-batch-size when given). Default: none (no peak lr"
            " is suggested).",
        ),
    ] = None,
    optimizer: Annotated[
        Optimizer, typer.Option("--optimizer", case_sensitive=False, help="The optimizer.")
    ] = Optimizer.adamw,
    beta2: Annotated[
        float | None,
        typer.Option(
            "--beta2", metavar="B2", help="Adam's beta2. Default: 0.999 for adam and adamw."
        ),
    ] = None,
    model: Annotated[
        Model, typer.Option("--model", case_sensitive=False, help="Model kind (per-model table).")
    ] = Model.other,
    size: Annotated[
        Size, typer.Option("--size", case_sensitive=False, help="Model size (per-model table).")
    ] = Size.small,
    steps_per_epoch: StepsPerEpoch = None,
    critical_lr: Annotated[
        float | None,
        typer.Option(
            "--critical-lr",
            metavar="LR",
            help="A measured critical lr (the largest stable first-update lr): the warmup starts"
            " there and keeps the rule's slope. Needs --base-lr. Default: none.",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Suggest a warmup, each number derived from a published rule, cautions where they disagree."""
    from rampup.advice.suggestion import suggest as advise  # noqa: PLC0415

    with _errors("suggest"):
        s = advise(
            total_steps,
            batch_size,
            base_batch_size=base_batch_size,
            base_lr=base_lr,
            optimizer=optimizer.value,
            beta2=beta2,
            model=model.value,
            size=size.value,
            steps_per_epoch=steps_per_epoch,
            critical_lr=critical_lr,
        )
    if as_json:
        _emit_json({"command": "suggest", **s.to_dict()})
        return
    from rich.markup import escape  # noqa: PLC0415

    console = _console()
    console.print(f"[bold]suggested:[/bold] {escape(s.spec)}", markup=True)
    bits = [f"warmup {s.warmup_steps:,} of {s.total_steps:,} steps (at most {s.cap_steps:,})"]
    if s.peak_lr is not None:
        bits.append(f"peak lr {s.peak_lr:g}")
    if s.critical_lr is not None:
        bits.append(f"from the critical lr {s.critical_lr:g}")
    console.print("  " + ", ".join(bits))
    console.print(f"  try: rampup show {_quote(s.spec)} --total {s.total_steps}")
    console.print("[bold]why:[/bold]", markup=True)
    for reason in s.reasons:
        console.print(f"  - {escape(_for_the_command_line(reason))}", markup=True)
    if s.cautions:
        console.print("[bold yellow]cautions:[/bold yellow]", markup=True)
        for caution in s.cautions:
            console.print(f"  ! {escape(_for_the_command_line(caution))}", markup=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        app(args=argv, prog_name="rampup", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
