"""The scorecard: zero-tuning warmups against the best fixed warmup, per peak lr, on held-out seeds.

:func:`scorecard` runs, for one task and 3 or more peak lrs, the oracle sweep (fixed linear
warmups of 0, 2, 5, 10, 25 and 50 % of the run, then ``cosine(to=0)``) and the zero-tuning
strategies (:data:`ZERO_TUNING`: ``auto``, ``untuned-linear``, ``radam``, ``suggest``, ``none``;
those that do not apply to the task are skipped and said so) on every seed; it picks the oracle
per lr on the first 3 seeds and scores everything on the rest (:mod:`rampup.lab.oracle` holds the
definitions). It writes ``DIR/scorecard.md`` (the table, also returned) and ``DIR/scorecard.png``
(held-out objective against peak lr, one line per strategy, the oracle with the sweep's band).

The runs go through one function, ``engine(cells, out, on_event)``, that trains a list of
:class:`~rampup.lab.train.RunConfig` and appends their records to ``out/results.jsonl``;
:func:`grid_engine` (the lab's process pool or Ray, :func:`rampup.lab.runner.run_grid`) is the
default. Cells already in the file are not run again, so an interrupted scorecard resumes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rampup import RampupError
from rampup.lab import results
from rampup.lab.oracle import PICK, TOLERANCE, Score, score, sweep_specs
from rampup.lab.runner import Events, Grid, check_backend, make_grid, run_grid
from rampup.lab.train import RunConfig

__all__ = [
    "PNG_NAME",
    "TABLE_NAME",
    "ZERO_TUNING",
    "Engine",
    "Result",
    "grid_engine",
    "plot",
    "scorecard",
    "table",
]

#: The zero-tuning strategies a scorecard scores (where they apply), in table order.
ZERO_TUNING = ("auto", "untuned-linear", "radam", "suggest", "none")
TABLE_NAME = "scorecard.md"
PNG_NAME = "scorecard.png"
_FUNC = "lab scorecard"
_MIN_LRS = 3

#: ``engine(cells, out, on_event)``: train ``cells``, appending records to ``out/results.jsonl``.
Engine = Callable[[Sequence[RunConfig], Path, Events | None], None]


def grid_engine(workers: int = 2, backend: str = "local", address: str | None = None) -> Engine:
    """The lab's own engine: :func:`rampup.lab.runner.run_grid` on a pool or on Ray."""
    check_backend(workers, backend, func=_FUNC)

    def engine(cells: Sequence[RunConfig], out: Path, on_event: Events | None) -> None:
        run_grid(
            Grid(tuple(cells), ()), out, workers=workers, backend=backend, address=address,
            on_event=on_event,
        )  # fmt: skip

    return engine


@dataclass(frozen=True)
class Result:
    """What :func:`scorecard` made: the score, the markdown table, and the files it wrote."""

    score: Score
    markdown: str
    table_path: Path
    png_path: Path
    skipped: tuple[tuple[str, str], ...]  # (strategy, why it does not apply)
    ran: int  # runs trained now (the rest were already in the results file)


def _check(lrs: Sequence[float], seeds: Sequence[int]) -> None:
    if len(lrs) < _MIN_LRS or len(set(lrs)) != len(lrs):
        raise RampupError.invalid(
            _FUNC, "lr", list(lrs), f"{_MIN_LRS} or more distinct peak lrs (the scorecard "
            "compares strategies across a range of peak lrs), e.g. 3e-3,1e-2,3e-2",
        )  # fmt: skip
    if len(seeds) < PICK + 2 or len(set(seeds)) != len(seeds):
        raise RampupError.invalid(
            _FUNC, "seeds", list(seeds), f"{PICK + 2} or more distinct seeds: the first {PICK} "
            f"pick the oracle's warmup, the others (2 or more) score it, e.g. 0,1,2,3,4",
        )  # fmt: skip


def scorecard(
    task: str,
    lrs: Sequence[float],
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    out: Path = Path("rampup-scorecard"),
    workers: int = 2,
    backend: str = "local",
    address: str | None = None,
    steps: int | None = None,
    tolerance: float = TOLERANCE,
    engine: Engine | None = None,
    on_event: Events | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> Result:
    """Run (or resume) the scorecard of ``task`` at ``lrs``; write its table and PNG into ``out``.

    ``task`` is a built-in name or a reference (``module:name``, ``path/to/file.py:name``);
    ``steps`` overrides the task's run length. ``seeds[:3]`` pick the oracle, ``seeds[3:]`` score.
    ``engine`` trains the cells not yet in ``out/results.jsonl`` (default :func:`grid_engine`
    with ``workers``, ``backend``, ``address``); ``on_event`` is passed to it (progress bars), and
    ``on_plan(total, already_done)`` is called before anything trains.
    """
    _check(lrs, seeds)
    if not isinstance(tolerance, int | float) or not 0 <= tolerance < math.inf:
        raise RampupError.invalid(_FUNC, "tolerance", tolerance, "a finite number >= 0")
    run_engine = engine if engine is not None else grid_engine(workers, backend, address)
    from rampup.lab.loading import load_task  # noqa: PLC0415

    obj = load_task(task, func=_FUNC)
    n = steps if isinstance(steps, int) and not isinstance(steps, bool) else obj.steps
    sweep = sweep_specs(n) if n >= 2 else {"none": 0.0}
    names = list(dict.fromkeys([*sweep, *ZERO_TUNING]))
    grid = make_grid([task], names, list(lrs), list(seeds), steps=steps, func=_FUNC)
    path = out / results.RESULTS_NAME
    have = results.finished_keys(path)
    todo = [c for c in grid.cells if c.key() not in have]
    if on_plan is not None:
        on_plan(len(grid.cells), len(grid.cells) - len(todo))
    if todo:
        run_engine(todo, out, on_event)
    wanted = {c.key() for c in grid.cells}
    recs = [r for r in results.read(path) if r["key"] in wanted]
    missing = wanted - {r["key"] for r in recs}
    if missing:
        raise RampupError.invalid(
            _FUNC, "engine", run_engine, f"an engine that appends every cell's record to {path}; "
            f"{len(missing)} are missing, e.g. {sorted(missing)[0]}",
        )  # fmt: skip
    skipped = tuple((s, why) for _t, s, why in grid.skipped)
    scored = [s for s in ZERO_TUNING if s not in {x for x, _ in skipped}]
    sc = score(recs, scored, sweep, list(seeds), task=task, tolerance=tolerance)
    from rampup.lab.strategies import resolve  # noqa: PLC0415

    advice = resolve("suggest", obj, n, func=_FUNC).spec if "suggest" in scored else None
    md = table(sc, skipped=skipped, platform=results.platform_line(recs), suggest_spec=advice)
    out.mkdir(parents=True, exist_ok=True)
    table_path = out / TABLE_NAME
    table_path.write_text(md, encoding="utf-8")
    png_path = out / PNG_NAME
    plot(sc, png_path)
    return Result(sc, md, table_path, png_path, skipped, len(todo))


# -- the table ----------------------------------------------------------------------------------
def _pct(p: float) -> str:
    return "none" if p == 0 else f"{p:g} %"


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _failed(k: int | None, n: int | None) -> str:
    return "-" if k is None or n is None else f"{k}/{n}"


def table(
    sc: Score,
    *,
    skipped: Sequence[tuple[str, str]] = (),
    platform: str | None = None,
    suggest_spec: str | None = None,
) -> str:
    """The scorecard as markdown: the protocol, one row per (lr, strategy), and a summary."""
    error = sc.objective == "error"
    obj = "validation error" if error else "validation loss"
    unit = "pts" if error else "%"
    held = ", ".join(map(str, sc.held_seeds))
    tol = f"{100 * sc.tolerance:g} point" if error else f"{100 * sc.tolerance:g} %"
    lines = [
        f"## Scorecard: {sc.task}",
        "",
        f"Objective: {obj} (lower is better; a failed run counts as its untrained value). "
        f"Oracle per peak lr: the best of the fixed warmups "
        f"{', '.join(_pct(p) for p in sc.sweep.values())} of the run (then cosine to 0) by mean "
        f"on seeds {', '.join(map(str, sc.pick_seeds))}; every row is scored on held-out seeds "
        f"{held}. Δ: {'error points' if error else '% of the loss'} against the oracle. "
        f"Never worse: held-out mean within {tol} of `none`'s and no more failures than `none`."
        + (
            ""
            if sc.best_loss is None
            else f" Excess ratio: (L - L*) / (L_oracle - L*), L* = {sc.best_loss:.3f}."
        ),
    ]
    if suggest_spec is not None:
        lines[-1] += f" `suggest` advised `{suggest_spec}`."
    if platform:
        lines[-1] += f" Ran on: {platform}."
    lines.append("")
    head = f"| peak lr | strategy | held-out {sc.objective} | Δ vs oracle ({unit}) "
    head += "| failed (held-out) | failed (all seeds) | never worse than none |"
    sep = "| ---: | --- | ---: | ---: | ---: | ---: | :---: |"
    if sc.best_loss is not None:
        head += " excess ratio |"
        sep += " ---: |"
    lines += [head, sep]
    for lr in sc.lrs:
        o = sc.oracles.get(lr)
        if o is None:
            continue
        row = (
            f"| {lr:g} | **oracle** ({_pct(o.warmup_pct)}) | {o.held_mean:.3f} | 0 "
            f"| {o.held_failed}/{o.held_runs} | {o.all_failed}/{o.all_runs} | |"
        )
        lines.append(row + (" 1 |" if sc.best_loss is not None else ""))
        for c in (c for c in sc.cells if c.peak_lr == lr):
            verdict = "-" if c.never_worse is None else ("yes" if c.never_worse else "**no**")
            row = (
                f"| {lr:g} | `{c.strategy}` | {c.held_mean:.3f} | {c.delta:+.1f} "
                f"| {c.held_failed}/{c.held_runs} | {_failed(c.all_failed, c.all_runs)} "
                f"| {verdict} |"
            )
            lines.append(row + (f" {_num(c.excess, 2)} |" if sc.best_loss is not None else ""))
    lines += ["", "| strategy | worst Δ | failed (all lrs, all seeds) | never worse at every lr "
              "| trains at (0 failures) |", "| --- | ---: | ---: | :---: | --- |"]  # fmt: skip
    for strat in sc.strategies:
        cs = sc.cells_of(strat)
        worst = max(c.delta for c in cs)
        fails = [c.all_failed if c.all_failed is not None else c.held_failed for c in cs]
        runs = [c.all_runs if c.all_runs is not None else c.held_runs for c in cs]
        verdicts = [c.never_worse for c in cs if c.never_worse is not None]
        never = "-" if not verdicts else ("yes" if all(verdicts) else "**no**")
        trains = [f"{c.peak_lr:g}" for c, k in zip(cs, fails, strict=True) if k == 0]
        lines.append(
            f"| `{strat}` | {worst:+.1f} {unit} | {sum(fails)}/{sum(runs)} | {never} "
            f"| {', '.join(trains) or 'none'} |"
        )
    for strat, why in skipped:
        lines.append(f"| `{strat}` | not applicable: {why} | | | |")
    return "\n".join(lines) + "\n"


# -- the figure ---------------------------------------------------------------------------------
def plot(sc: Score, path: Path) -> None:
    """Held-out objective against peak lr (log x): a line per strategy, the oracle and its band.

    The band spans, per lr, the lowest to the highest held-out mean over the sweep's fixed
    warmups: how much the warmup length matters there. A point where some held-out run failed is
    drawn as a cross.
    """
    from rampup.lab.report import _colors, _pyplot  # noqa: PLC0415  # the lab's plotting style

    plt = _pyplot()
    names = sc.strategies
    colors: dict[str, Any] = _colors(["oracle", *names])
    fig, ax = plt.subplots(figsize=(7, 4))
    lrs = [lr for lr in sc.lrs if lr in sc.oracles]
    ors = [sc.oracles[lr] for lr in lrs]
    ax.fill_between(
        lrs, [o.sweep_low for o in ors], [o.sweep_high for o in ors], color="grey", alpha=0.2,
        label="fixed warmups 0-50 % (range)",
    )  # fmt: skip
    ax.plot(lrs, [o.held_mean for o in ors], "k-", linewidth=2, label="oracle")
    styles = ("-", "--", "-.", ":")
    for i, name in enumerate(names):
        cs = sc.cells_of(name)
        xs = [c.peak_lr for c in cs]
        ax.plot(xs, [c.held_mean for c in cs], color=colors[name], label=name,
                linestyle=styles[i % len(styles)])  # fmt: skip
        bad = [c for c in cs if c.held_failed]
        ax.plot([c.peak_lr for c in bad], [c.held_mean for c in bad], "x", color=colors[name],
                markersize=9)  # fmt: skip
        ok = [c for c in cs if not c.held_failed]
        ax.plot([c.peak_lr for c in ok], [c.held_mean for c in ok], "o", color=colors[name])
    ax.set_xscale("log")
    ax.set_xlabel("peak learning rate")
    seeds = ", ".join(map(str, sc.held_seeds))
    ax.set_ylabel(f"final {sc.objective} (mean over held-out seeds {seeds})")
    ax.set_title(f"scorecard: {sc.task} (x: a held-out run failed)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
