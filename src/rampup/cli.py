"""The ``rampup`` console command: a thin layer over library functions.

Each command lives with the library code it drives; this module only assembles them into one
Typer application. Errors print one clear message and exit with status 2, never a traceback.
"""

from __future__ import annotations

import typer

from rampup.lab.commands import register as register_lab

app = typer.Typer(
    name="rampup",
    help="Learning-rate warmup, done right: see, compare, choose and test schedules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Learning-rate warmup, done right: see, compare, choose and test schedules."""


register_lab(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        app(args=argv, prog_name="rampup", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
