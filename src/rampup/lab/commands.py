"""The lab's commands of the ``rampup`` CLI: ``rampup demo`` and ``rampup lab ...``.

The lab's sub-commands: ``run``, ``report``, ``scorecard``, ``probe`` and ``tasks``.

Thin wrappers over :mod:`rampup.lab` functions. A :class:`~rampup.RampupError` prints one line
(``rampup lab run: error: ...``) on stderr and exits with status 2, never a traceback.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from rampup import RampupError
from rampup.lab.engines import DEFAULT_ENGINE
from rampup.lab.report import COMMANDS_NAME

#: The options ``lab run`` and ``lab scorecard`` share: where the runs go.
Workers = Annotated[int, typer.Option(metavar="N", help="Parallel runs (one CPU each).")]
Backend = Annotated[str, typer.Option(metavar="NAME", help="local or ray.")]
Address = Annotated[
    str | None,
    typer.Option(
        metavar="HOST:PORT", help="Ray cluster address.", show_default="start a local Ray instance"
    ),
]

#: ``--task`` of the commands that take one task (``lab scorecard``, ``lab probe``).
OneTask = Annotated[
    str | None,
    typer.Option(
        "--task",
        "-t",
        metavar="TASK",
        help="The task, required: a built-in one (see `rampup lab tasks`), or your own "
        "rampup.lab.Task as module:name or path/to/file.py:name.",
    ),
]

#: ``--steps``: the run length, overriding the task's (``lab run``, ``scorecard``, ``probe``).
Steps = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Updates per run, overriding the task's length.",
        show_default="the task's",
    ),
]

#: Exit status of a command given a bad input (as typer's own usage errors).
EXIT_USAGE = 2


@contextmanager
def _clean_errors(command: str) -> Iterator[None]:
    """A RampupError or a file-system error: ``rampup <command>: error: ...``, exit status 2."""
    try:
        yield
    except RampupError as e:
        typer.echo(f"rampup {command}: error: {e}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as e:
        where = e.filename or "the output folder"
        typer.echo(f"rampup {command}: error: cannot write {where}: {e.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _split(values: list[str] | None, default: list[str]) -> list[str]:
    """Options given repeatedly or comma-separated; spec strings keep their own commas."""
    if not values:
        return default
    out: list[str] = []
    for v in values:
        # a spec has parentheses; split names only outside them
        depth, cur = 0, ""
        for ch in v:
            depth += (ch == "(") - (ch == ")")
            if ch == "," and depth == 0:
                out.append(cur.strip())
                cur = ""
            else:
                cur += ch
        out.append(cur.strip())
    return [x for x in out if x]


def _number(func: str, param: str, value: str, cast: Callable[[str], float]) -> float:
    try:
        return cast(value)
    except ValueError:
        raise RampupError.invalid(
            func, param, value, "numbers, e.g. 1e-3,3e-3 (seeds: 0,1,2)"
        ) from None


def _numbers(func: str, param: str, values: list[str], cast: Callable[[str], float]) -> list[float]:
    return [_number(func, param, v, cast) for v in values]


def _remember_command(out: Path, argv: list[str]) -> None:
    """Add this ``lab run`` command line to ``out/commands.txt`` (the report's reproduction)."""
    line = shlex.join(argv)
    path = out / COMMANDS_NAME
    known = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    if line not in known:
        out.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


#: What ``rampup lab run`` needs to be told: there is no default grid.
_REQUIRED = ("task", "strategy", "lr")
_EXAMPLE = "--task markov-postln --strategy none,linear --lr 1e-2"


def _require(given: dict[str, list[str] | None]) -> None:
    """Refuse a grid whose task, strategy or lr was not given (no silent default grid)."""
    missing = [f"--{name}" for name in _REQUIRED if not given[name]]
    if missing:
        raise RampupError(
            f"lab run(): {', '.join(missing)} not given: expected each of --task, --strategy and "
            f"--lr (the grid is task x strategy x lr x seed; there is no default grid), e.g. "
            f"{_EXAMPLE}; `rampup lab tasks` lists the tasks and named strategies"
        )


def _describe(
    runs: int, tasks: list[str], strategies: list[str], lrs: list[float], seeds: list[int],
    steps: int | None,
) -> str:  # fmt: skip
    """The grid about to run, in one line: its factors and its number of runs."""
    length = "each task's own length" if steps is None else f"{steps} updates each"
    return (
        f"grid: {runs} runs = task {', '.join(tasks)} x strategy {' | '.join(strategies)} "
        f"x lr {', '.join(f'{x:g}' for x in lrs)} x seed {', '.join(map(str, seeds))} ({length})"
    )


def _lab_run(
    out: Path,
    task: list[str] | None,
    strategy: list[str] | None,
    lr: list[str] | None,
    seed: list[str] | None,
    steps: int | None,
    workers: int,
    backend: str,
    address: str | None,
    engine: str = DEFAULT_ENGINE,
) -> None:
    """``rampup lab run``: validate, remember the command, run the grid with progress bars."""
    from rampup.lab.engines import check_engine  # noqa: PLC0415
    from rampup.lab.progress import GridProgress  # noqa: PLC0415
    from rampup.lab.results import RESULTS_NAME, finished_keys  # noqa: PLC0415
    from rampup.lab.runner import check_backend, make_grid, run_grid  # noqa: PLC0415

    with _clean_errors("lab run"):
        check_engine(engine)
        _require({"task": task, "strategy": strategy, "lr": lr})
        tasks = _split(task, [])
        strategies = _split(strategy, [])
        lrs = _numbers("lab run", "lr", _split(lr, []), float)
        seeds = [int(x) for x in _numbers("lab run", "seed", _split(seed, ["0"]), int)]
        grid = make_grid(tasks, strategies, lrs, seeds, steps=steps)
        argv = ["rampup", "lab", "run", "--out", str(out), "--task", ",".join(tasks)]
        for strat in strategies:
            argv += ["--strategy", strat]
        argv += ["--lr", ",".join(map(repr, lrs))]
        argv += ["--seed", ",".join(map(str, seeds))]
        argv += ["--steps", str(steps)] if steps is not None else []
        argv += ["--engine", engine] if engine != DEFAULT_ENGINE else []
        check_backend(workers, backend)
        _remember_command(out, argv)
        for t, s, why in grid.skipped:
            typer.echo(f"skipped: strategy {s} on task {t}: {why}", err=True)
        have = finished_keys(out / RESULTS_NAME)
        done = sum(c.key() in have for c in grid.cells)
        plan = _describe(len(grid.cells), tasks, strategies, lrs, seeds, steps)
        typer.echo(f"{plan}; {done} already in {out}")
        try:
            with GridProgress(len(grid.cells), label="lab", completed=done) as bars:
                new, skipped = run_grid(
                    grid, out, workers=workers, backend=backend, address=address,
                    on_event=bars.on_event, engine=engine,
                )  # fmt: skip
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted: the finished runs are in {out / RESULTS_NAME}; "
                "run the same command again to resume",
                err=True,
            )
            raise typer.Exit(130) from None
        typer.echo(
            f"{len(new)} runs done, {skipped} already in {out / 'results.jsonl'}; "
            f"report: rampup lab report {shlex.quote(str(out))}"
        )


def _lab_scorecard(
    out: Path,
    task: str | None,
    lr: list[str] | None,
    seed: list[str] | None,
    steps: int | None,
    tolerance: float,
    workers: int,
    backend: str,
    address: str | None,
) -> None:
    """``rampup lab scorecard``: validate, run the sweep and the strategies, print the table."""
    from rampup.lab.progress import GridProgress  # noqa: PLC0415
    from rampup.lab.results import RESULTS_NAME  # noqa: PLC0415
    from rampup.lab.runner import check_backend  # noqa: PLC0415
    from rampup.lab.scorecard import scorecard  # noqa: PLC0415
    from rampup.lab.train import RunConfig  # noqa: PLC0415

    func = "lab scorecard"
    with _clean_errors(func):
        if not task:
            raise RampupError(
                f"{func}(): --task not given: expected one task, a built-in one (see `rampup lab "
                "tasks`) or module:name / path/to/file.py:name, e.g. --task markov-postln"
            )
        lrs = _numbers(func, "lr", _split(lr, []), float)
        seeds = [
            int(x) for x in _numbers(func, "seeds", _split(seed, ["0", "1", "2", "3", "4"]), int)
        ]
        check_backend(workers, backend, func=func)
        argv = ["rampup", "lab", "scorecard", "--out", str(out), "--task", task]
        argv += ["--lr", ",".join(map(repr, lrs)), "--seeds", ",".join(map(str, seeds))]
        argv += ["--steps", str(steps)] if steps is not None else []
        stack = ExitStack()
        bars: list[GridProgress] = []

        def on_plan(total: int, done: int) -> None:
            typer.echo(
                f"scorecard: {task} at lr {', '.join(f'{x:g}' for x in lrs)}, seeds "
                f"{', '.join(map(str, seeds))}: {total} runs (the oracle sweep and the "
                f"zero-tuning strategies); {done} already in {out}"
            )
            _remember_command(out, argv)
            bars.append(stack.enter_context(GridProgress(total, label="scorecard", completed=done)))

        def on_event(kind: str, cfg: RunConfig, payload: Any) -> None:
            bars[0].on_event(kind, cfg, payload)

        try:
            with stack:
                res = scorecard(
                    task, lrs, seeds, out=out, workers=workers, backend=backend,
                    address=address, steps=steps, tolerance=tolerance, on_event=on_event,
                    on_plan=on_plan,
                )  # fmt: skip
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted: the finished runs are in {out / RESULTS_NAME}; "
                "run the same command again to resume",
                err=True,
            )
            raise typer.Exit(130) from None
        for strat, why in res.skipped:
            typer.echo(f"skipped: strategy {strat}: {why}", err=True)
        typer.echo(res.markdown)
        typer.echo(f"{res.ran} runs done; table: {res.table_path}; figure: {res.png_path}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` and the ``lab`` sub-application to the ``rampup`` application."""

    @app.command()
    def demo(
        out: Annotated[Path, typer.Option(metavar="DIR", help="Report folder.")] = Path(
            "rampup-demo"
        ),
        quick: Annotated[
            bool,
            typer.Option(
                "--quick", help="One seed, two peak lrs, no warmup vs linear warmup (CI)."
            ),
        ] = False,
        workers: Annotated[int, typer.Option(metavar="N", help="Worker processes.")] = 2,
        schedules: Annotated[
            bool,
            typer.Option(
                "--schedules",
                help="No training: print the classic recipes' schedules (manual linear, constant, "
                "step, linear+cosine, Noam, WSD; per update and per epoch) side by side, in "
                "absolute learning rates.",
            ),
        ] = False,
    ) -> None:
        """Which peak lrs train a toy Post-LN Transformer, with and without warmup; save a report.

        The task: integers 0-999 to their digit words; the default runs none, linear and auto
        at 4 peak lrs x 5 seeds, and a Pre-LN control without warmup. Prints a table
        (strategy x lr: failed runs, median loss and exact match) and writes lr_window.png.
        """
        if schedules:
            from rampup.lab.classic import run_demo as print_schedules  # noqa: PLC0415

            raise typer.Exit(print_schedules())
        from rampup.lab.demo import run_demo  # noqa: PLC0415  # keep start-up light

        with _clean_errors("demo"):
            if workers < 1:
                raise RampupError.invalid(
                    "demo", "workers", workers, "a positive number of worker processes"
                )
            raise typer.Exit(run_demo(out, quick=quick, workers=workers))

    lab = typer.Typer(
        name="lab",
        help="Measure what warmup does: grids of task x strategy x peak lr x seed.",
        no_args_is_help=True,
    )

    @lab.command("run")
    def lab_run(
        out: Annotated[
            Path, typer.Option(metavar="DIR", help="Output folder (results.jsonl, resumable).")
        ] = Path("rampup-lab"),
        task: Annotated[
            list[str] | None,
            typer.Option(
                "--task",
                "-t",
                metavar="TASK",
                help="Task(s), required: a built-in one, e.g. markov-postln (see `rampup lab "
                "tasks`), or your own rampup.lab.Task as module:name or path/to/file.py:name.",
            ),
        ] = None,
        strategy: Annotated[
            list[str] | None,
            typer.Option(
                "--strategy",
                "-s",
                metavar="STRATEGY",
                help="Named strategy or rampup spec (repeatable), required, e.g. none,linear.",
            ),
        ] = None,
        lr: Annotated[
            list[str] | None,
            typer.Option("--lr", metavar="LR", help="Peak lr(s), required, e.g. 1e-3,1e-2."),
        ] = None,
        seed: Annotated[
            list[str] | None,
            typer.Option("--seed", metavar="SEED", help="Seed(s), e.g. 0,1,2.", show_default="0"),
        ] = None,
        steps: Steps = None,
        workers: Workers = 2,
        backend: Backend = "local",
        address: Address = None,
        engine: Annotated[
            str,
            typer.Option(
                metavar="NAME",
                help="process (one run per process, the default) or batched (a task's runs as "
                "one stacked model, where its model allows; batch norm or dropout: process). "
                "Each record says which ran.",
            ),
        ] = DEFAULT_ENGINE,
    ) -> None:
        """Run a grid of task x strategy x lr x seed into --out; prints the grid before it starts.

        --task, --strategy and --lr are required (there is no default grid). Re-running the same
        command skips the runs already in the folder.
        """
        _lab_run(out, task, strategy, lr, seed, steps, workers, backend, address, engine)

    @lab.command("report")
    def lab_report(
        folder: Annotated[
            Path, typer.Argument(metavar="FOLDER", help="A folder written by `rampup lab run`.")
        ],
    ) -> None:
        """Write report.md and PNGs (curves, loss vs lr, sensitivity, oracle regret)."""
        from rampup.lab.report import lab_report as write  # noqa: PLC0415

        with _clean_errors("lab report"):
            path = write(folder)
            typer.echo(f"Report: {path}")

    @lab.command("scorecard")
    def lab_scorecard(
        out: Annotated[
            Path,
            typer.Option(
                metavar="DIR", help="Output folder (results.jsonl, resumable; scorecard.md, .png)."
            ),
        ] = Path("rampup-scorecard"),
        task: OneTask = None,
        lr: Annotated[
            list[str] | None,
            typer.Option("--lr", metavar="LR", help="3 or more peak lrs, e.g. 1e-3,3e-3,1e-2."),
        ] = None,
        seed: Annotated[
            list[str] | None,
            typer.Option(
                "--seeds",
                "--seed",
                metavar="SEEDS",
                help="5 or more seeds: the first 3 pick the oracle, the rest score.",
                show_default="0,1,2,3,4",
            ),
        ] = None,
        steps: Steps = None,
        tolerance: Annotated[
            float,
            typer.Option(
                metavar="TOL",
                help="Never worse than none: within TOL x none's loss (or TOL of error).",
            ),
        ] = 0.01,
        workers: Workers = 2,
        backend: Backend = "local",
        address: Address = None,
    ) -> None:
        """Score the zero-tuning warmups against the best fixed warmup (oracle), per peak lr.

        Runs fixed linear warmups of 0, 2, 5, 10, 25, 50 % (then cosine to 0) and auto,
        untuned-linear, radam, suggest and none at every lr and seed; picks the oracle per lr on
        the first 3 seeds, scores everything on the rest; writes DIR/scorecard.md and .png.
        Re-running skips the runs already in DIR.
        """
        _lab_scorecard(out, task, lr, seed, steps, tolerance, workers, backend, address)

    @lab.command("probe")
    def lab_probe(
        task: OneTask = None,
        lr: Annotated[
            float | None,
            typer.Option(metavar="LR", help="The target peak lr.", show_default="required"),
        ] = None,
        seed: Annotated[int, typer.Option(metavar="S", help="The model's seed.")] = 0,
        steps: Steps = None,
        budget: Annotated[
            float, typer.Option(metavar="F", help="Fraction of the run the probe may spend.")
        ] = 0.03,
    ) -> None:
        """Measure a task's critical lr at initialisation and the warmup it needs (rampup.probe)."""
        from rampup.lab.probing import probe_task  # noqa: PLC0415

        with _clean_errors("lab probe"):
            if not task or lr is None:
                raise RampupError(
                    "lab probe(): --task and --lr are required: the task to measure and the "
                    "target peak lr, e.g. --task digits-largebatch --lr 3.2"
                )
            typer.echo(str(probe_task(task, lr, seed, steps=steps, budget=budget)))

    @lab.command("tasks")
    def lab_tasks() -> None:
        """List the tasks and the named strategies."""
        from rampup.lab.strategies import NAMED  # noqa: PLC0415
        from rampup.lab.tasks import TASKS  # noqa: PLC0415

        for t in TASKS.values():
            ctrl = f" (control: {t.control})" if t.control else ""
            typer.echo(f"{t.name}: {t.summary}{ctrl}")
        typer.echo("")
        for name, what in NAMED.items():
            typer.echo(f"{name}: {what}")
        typer.echo("")
        typer.echo(
            "Your own task: --task module:name or --task path/to/file.py:name, a rampup.lab.Task "
            "(see docs/lab.md)."
        )

    app.add_typer(lab)
