"""``rampup demo``: the window of peak learning rates that train, with and without warmup.

The task is a classic toy seq2seq (integers 0-999 to their digit words, a Post-LN
``nn.Transformer`` as in Vaswani et al. 2017, generated on the fly), with its Pre-LN control.
The demo trains each strategy at several peak lrs and seeds on the lab's runner, prints a table
(strategy x lr: failures, median final loss and exact match) and writes a report folder
(``report.md``, the runs' ``results.jsonl``, the main figure ``lr_window.png``, and
``lr_curves.png`` / ``loss_curves.png`` at the lr where warmup decides the most).

Definitions (every sentence of the report is computed from these, so it stays true on another
CPU, where single runs near the edge of stability can land on either side):

- a run **fails** when it diverges or collapses (the lab's ``diverged``) or stalls: its exact
  match ends below :data:`TRAINED_EXACT` (measured at lr <= 7e-3, where outcomes are bimodal:
  failed runs at 3-16.5 %, trained ones at 92.5 % or more; at 1e-2 some runs end in between);
- a strategy **trains at** a peak lr when none of its seeds fails there; its **window** is the
  lrs from the smallest tried up to the last one before its first failure.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rampup.lab import report, results
from rampup.lab.runner import Grid, make_grid, run_grid

__all__ = [
    "DEMO_LR",
    "DEMO_LRS",
    "TRAINED_EXACT",
    "Cell",
    "DemoPlan",
    "cells",
    "failed",
    "findings",
    "plan",
    "run_demo",
    "write_report",
]

#: The peak lrs of the demo, chosen by measurement (docs/lab.md, "Calibrating the demo"): no
#: warmup trains at the lower two and stalls on most seeds at the upper two.
DEMO_LRS = (3e-3, 5e-3, 7e-3, 1e-2)
#: The lr in the window where warmup decides the outcome (the quick demo's upper lr).
DEMO_LR = 7e-3
QUICK_LRS = (5e-3, DEMO_LR)
#: A run whose final exact match is below this fraction stalled (a failure).
TRAINED_EXACT = 0.5
TASK, CONTROL = "digits-words", "digits-words-preln"
CONTROL_SUFFIX = " (Pre-LN control)"


@dataclass(frozen=True)
class DemoPlan:
    """What the demo runs: strategies on the Post-LN task, the Pre-LN control, lrs, seeds."""

    strategies: tuple[str, ...]
    control: tuple[str, ...]
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    steps: int | None


def plan(*, quick: bool) -> DemoPlan:
    """The default demo (none, linear, auto; 4 lrs x 5 seeds; Pre-LN control without warmup).

    The quick one (CI) runs none and linear at two lrs, one seed. Both keep the task's full
    length (400 updates): at 200 the warmed-up runs have not converged either.
    """
    if quick:
        return DemoPlan(("none", "linear"), (), QUICK_LRS, (0,), None)
    return DemoPlan(("none", "linear", "auto"), ("none",), DEMO_LRS, (0, 1, 2, 3, 4), None)


def label(rec: dict[str, Any]) -> str:
    """A record's line in the table and the figure: its strategy, marked if the control's."""
    c = rec["config"]
    return str(c["strategy"]) if c["task"] == TASK else f"{c['strategy']}{CONTROL_SUFFIX}"


def _exact(rec: dict[str, Any]) -> float:
    """Final exact match, ``1 - error`` (0 where the error is not finite)."""
    score = rec["final"]["score"]
    return 1.0 - float(score) if score is not None and math.isfinite(score) else 0.0


def failed(rec: dict[str, Any]) -> bool:
    """Whether the run failed: diverged or collapsed, or exact match below TRAINED_EXACT."""
    return bool(rec["diverged"]) or _exact(rec) < TRAINED_EXACT


@dataclass(frozen=True)
class Cell:
    """The seeds of one (line, peak lr): failures of n, median final loss and exact match."""

    failures: int
    n: int
    loss: float  # median final validation loss (a diverged run counts at its initial loss)
    exact: float  # median final exact match, 0-1

    def text(self) -> str:
        """``failures/n, median loss, median exact match``, e.g. ``3/5, 0.746, 6.5 %``."""
        return f"{self.failures}/{self.n}, {self.loss:.3f}, {100 * self.exact:.1f} %"


def cells(recs: list[dict[str, Any]]) -> dict[str, dict[float, Cell]]:
    """Line label -> peak lr -> Cell, in first-seen order of lines and ascending lrs."""
    groups: dict[str, dict[float, list[dict[str, Any]]]] = {}
    for rec in recs:
        groups.setdefault(label(rec), {}).setdefault(float(rec["config"]["peak_lr"]), []).append(
            rec
        )
    return {
        name: {
            lr: Cell(
                sum(failed(r) for r in rs),
                len(rs),
                statistics.median(report.final_loss(r) for r in rs),
                statistics.median(_exact(r) for r in rs),
            )
            for lr, rs in sorted(by_lr.items())
        }
        for name, by_lr in groups.items()
    }


def _window(row: dict[float, Cell]) -> float | None:
    """The largest lr up to which every lr tried trains (no failure), or None."""
    top = None
    for lr, cell in row.items():
        if cell.failures:
            break
        top = lr
    return top


def _sentence(name: str, row: dict[float, Cell]) -> str:
    """What holds across seeds for one line: where it trains and where it fails, with counts."""
    lrs = list(row)
    n = max(c.n for c in row.values())
    fails = [lr for lr in lrs if row[lr].failures]
    counts = ", ".join(f"{row[lr].failures}/{row[lr].n} at {lr:g}" for lr in fails)
    if not fails:
        if len(lrs) == 1:
            return f"- `{name}` trains at peak lr {lrs[0]:g} (0 failures of {n})."
        return (
            f"- `{name}` trains at every peak lr tried, {lrs[0]:g} to {lrs[-1]:g} "
            f"(0 failures of {n} at each)."
        )
    top = _window(row)
    if top is None:
        return f"- `{name}` fails already at the smallest peak lr tried ({counts})."
    first = fails[0]
    text = f"- `{name}` trains at peak lr <= {top:g} (0 failures of {n} at each) and fails at "
    if all(row[lr].failures for lr in lrs if lr >= first):
        return text + f"lr >= {first:g} ({counts})."
    clean = ", ".join(f"{lr:g}" for lr in lrs if lr > first and not row[lr].failures)
    return text + f"{first:g} ({counts}); not monotone: 0 failures again at {clean}."


def findings(
    table: dict[str, dict[float, Cell]], skipped: tuple[tuple[str, str, str], ...] = ()
) -> list[str]:
    """The report's statements, each computed from the failure counts (none hard-coded)."""
    out = [_sentence(name, row) for name, row in table.items()]
    out += [
        f"- `{s}`{'' if t == TASK else CONTROL_SUFFIX} was not run: {why}." for t, s, why in skipped
    ]
    none = table.get("none")
    if none is None:
        return out
    base = _window(none)
    for name, row in table.items():
        if name == "none" or name.endswith(CONTROL_SUFFIX):
            continue
        top = _window(row)
        rescued = [lr for lr in row if lr in none and none[lr].failures and not row[lr].failures]
        if top is not None and (base is None or top > base):
            out.append(
                f"- `{name}` widens the range that trains on every seed: up to {top:g}, "
                f"against {'none of the lrs tried' if base is None else f'{base:g}'} without "
                "warmup."
            )
        elif rescued == [] and top == base:
            out.append(f"- `{name}` trains on the same range as no warmup here.")
        if rescued:
            at = ", ".join(f"{lr:g} ({none[lr].failures}/{none[lr].n} without)" for lr in rescued)
            out.append(f"- At peak lr {at}, `{name}` fails none of its runs.")
    ctrl = table.get(f"none{CONTROL_SUFFIX}")
    if ctrl is not None:
        hurt = [lr for lr in none if none[lr].failures and lr in ctrl and not ctrl[lr].failures]
        if hurt:
            out.append(
                "- Where no warmup fails on the Post-LN model ("
                + ", ".join(f"{lr:g}" for lr in hurt)
                + "), the Pre-LN control without warmup fails none of its runs: here the need "
                "for warmup comes with the Post-LN placement."
            )
    return out


def _decisive_lr(table: dict[str, dict[float, Cell]]) -> float:
    """The lr where no warmup fails most runs more than the best warmup (ties: the smaller)."""
    none = table.get("none", {})
    others = [row for name, row in table.items() if name in ("linear", "auto")]
    lrs = sorted({lr for row in table.values() for lr in row})

    def gap(lr: float) -> int:
        best = min((row[lr].failures for row in others if lr in row), default=0)
        return (none[lr].failures if lr in none else 0) - best

    return max(lrs, key=lambda lr: (gap(lr), -lr))


def _markdown_table(
    table: dict[str, dict[float, Cell]], skipped: tuple[tuple[str, str, str], ...]
) -> list[str]:
    lrs = sorted({lr for row in table.values() for lr in row})
    out = [
        "| strategy | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " |",
        "| --- |" + " ---: |" * len(lrs),
    ]
    for name, row in table.items():
        out.append(
            f"| {name} | " + " | ".join(row[lr].text() if lr in row else "-" for lr in lrs) + " |"
        )
    for t, s, _ in skipped:
        out.append(f"| {s}{'' if t == TASK else CONTROL_SUFFIX} | " + "not run | " * len(lrs))
    return out


def write_report(
    folder: Path,
    recs: list[dict[str, Any]],
    elapsed: float,
    skipped: tuple[tuple[str, str, str], ...] = (),
) -> Path:
    """Write report.md and the three PNGs into ``folder``; return report.md's path."""
    table = cells(recs)
    lrs = sorted({float(r["config"]["peak_lr"]) for r in recs})
    seeds = sorted({r["config"]["seed"] for r in recs})
    steps = recs[0]["config"]["steps"]
    report.plot_lr_window(
        recs, folder / "lr_window.png",
        f"digits-words, {steps} updates, seeds {seeds}: median, min-max band, x = failed run",
        label=label, dashed=lambda r: r["config"]["task"] != TASK, failed=failed,
    )  # fmt: skip
    lr = _decisive_lr(table)
    at = [r for r in recs if float(r["config"]["peak_lr"]) == lr]
    report.plot_lr_curves(
        [r for r in at if r["config"]["task"] == TASK], folder / "lr_curves.png",
        f"learning rate, peak {lr:g}", label=label,
    )  # fmt: skip
    report.plot_loss_curves(
        at, folder / "loss_curves.png", f"validation loss at peak lr {lr:g} (every seed)",
        label=label,
    )  # fmt: skip
    specs = {label(r): str(r["spec"]) for r in recs}
    text = [
        "# rampup demo: the peak learning rates that train, with and without warmup",
        "",
        "Task: a toy seq2seq (integers 0-999 to their digit words, `123` -> "
        "`one two three`), 800 numbers for training and 200 held out, a 3+3-layer Post-LN "
        "`nn.Transformer` (d_model 64, 4 heads, no dropout), Adam (0.9, 0.98) as in Vaswani et al. "
        f"2017, batch 32, {steps} updates, peak learning rates {', '.join(f'{x:g}' for x in lrs)}"
        f", seeds {seeds}. The Pre-LN control is the same model with the norm before each "
        "sublayer. Exact match is greedy decoding of the held-out numbers.",
        "",
        f"Ran on: {results.platform_line(recs)}. The same command gives the same numbers on the "
        "same CPU path; on another (AVX-512, AVX2, default kernels) float sums run in another "
        "order, and a run at the edge of stability can land on either side. So the statements "
        "below are counts over seeds, computed from this run's records.",
        "",
        "Schedules: " + "; ".join(f"{name} `{spec}`" for name, spec in specs.items()) + ".",
        "",
        f"Each cell: failed runs of the seeds (diverged, collapsed, or below "
        f"{100 * TRAINED_EXACT:.0f} % exact match), median final validation loss, median exact "
        "match.",
        "",
        *_markdown_table(table, skipped),
        "",
        "![final loss and exact match against peak lr](lr_window.png)",
        "",
        "## What this shows",
        "",
        *findings(table, skipped),
        "",
        "## What it does not show",
        "",
        "- One small task, a few peak lrs and seeds: an illustration, not a benchmark. Single "
        "runs near the end of a window land on either side on another CPU path (docs/lab.md); "
        "the counts over seeds, not single runs, are the finding.",
        "- `auto` is the untuned warmup length for its beta2 (2 / (1 - beta2) updates), run with "
        "the stability monitor's guard (rampup's `AdaptiveWarmup`), which may hold or slow the "
        "warmup while training is unstable; `linear` is 10 % of the run. Both share the cosine "
        "decay of `none`.",
        "",
        f"At peak lr {lr:g}, where warmup decides the most:",
        "",
        "![learning rates](lr_curves.png)",
        "",
        "![validation loss](loss_curves.png)",
        "",
        f"Wall time: {elapsed:.0f} s for {len(recs)} runs. Every run is in `results.jsonl`; "
        "`rampup lab report` rebuilds the lab's view of the same file.",
    ]
    path = folder / "report.md"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def _console_table(
    table: dict[str, dict[float, Cell]], skipped: tuple[tuple[str, str, str], ...]
) -> Any:
    from rich.table import Table  # noqa: PLC0415

    lrs = sorted({lr for row in table.values() for lr in row})
    out = Table(title="digits-words: failed/seeds, median final val loss, median exact match")
    out.add_column("strategy")
    for lr in lrs:
        out.add_column(f"lr {lr:g}", justify="right")
    for name, row in table.items():
        out.add_row(name, *(row[lr].text() if lr in row else "-" for lr in lrs))
    for t, s, _ in skipped:
        out.add_row(f"{s}{'' if t == TASK else CONTROL_SUFFIX}", *("not run" for _ in lrs))
    return out


def run_demo(out: Path, *, quick: bool = False, workers: int = 2, console: Any = None) -> int:
    """Run the demo into ``out`` (created; its previous results.jsonl replaced)."""
    from rich.console import Console  # noqa: PLC0415

    from rampup.lab.progress import GridProgress  # noqa: PLC0415

    console = console or Console()
    p = plan(quick=quick)
    grid = make_grid([TASK], p.strategies, p.lrs, p.seeds, steps=p.steps, func="demo")
    cells_, skipped = list(grid.cells), grid.skipped
    if p.control:
        ctrl = make_grid([CONTROL], p.control, p.lrs, p.seeds, steps=p.steps, func="demo")
        cells_ += ctrl.cells
        skipped += ctrl.skipped
    out.mkdir(parents=True, exist_ok=True)
    path = out / results.RESULTS_NAME
    if path.exists():
        path.unlink()
    for old in ("lr_window.png", "lr_curves.png", "loss_curves.png"):
        (out / old).unlink(missing_ok=True)
    start = time.perf_counter()
    with GridProgress(len(cells_), console=console, label="demo") as bars:
        # the default engine, process: the batched one is not yet faster (docs/lab.md)
        recs, _ = run_grid(Grid(tuple(cells_), ()), out, workers=workers, on_event=bars.on_event)
    elapsed = time.perf_counter() - start
    order = {c.key(): i for i, c in enumerate(cells_)}
    recs.sort(key=lambda r: order[r["key"]])
    table = cells(recs)
    console.print(_console_table(table, skipped))
    console.print(f"Ran on: {results.platform_line(recs)}")
    for line in findings(table, skipped):
        console.print(line, markup=False, highlight=False)
    md = write_report(out, recs, elapsed, skipped)
    console.print(f"Report: {md}  (figure: {out / 'lr_window.png'})")
    return 0
