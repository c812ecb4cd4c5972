"""The scorecard of every built-in lab task, and one summary across them (docs/results.md).

Runs ``rampup lab scorecard`` for each task at its 3 peak lrs (the task's window and both sides
of it, from docs/lab.md), seeds 0-4, into ``OUT/<task>`` (resumable: runs already there are not
trained again), then writes ``OUT/scorecards.md``: the summary across tasks, then every task's
table. Run:

    .venv/bin/python scripts/scorecards.py [--out runs/scorecards] [--workers 2] [--only TASK,...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from rampup.lab.oracle import Score
from rampup.lab.scorecard import scorecard

#: task -> its peak lrs.
TASKS: dict[str, tuple[float, ...]] = {
    "markov-postln": (1e-3, 3e-3, 1e-2),
    "digits-words": (5e-3, 7e-3, 1e-2),
    "postln-sort": (3e-3, 1e-2, 3e-2),
    "postln-cipher": (1e-2, 1.5e-2, 2e-2),
    "shapes-bn": (1.6, 3.2, 4.8),
    "digits-largebatch": (0.4, 1.6, 3.2),
    "digits-plainmlp": (0.05, 0.1, 0.2),
    "markov-preln": (1e-3, 3e-3, 1e-2),
    "digits-words-preln": (5e-3, 7e-3, 1e-2),
    "preln-sort": (3e-3, 1e-2, 3e-2),
    "preln-cipher": (1e-2, 1.5e-2, 2e-2),
    "shapes-bn-b64": (1.6, 3.2, 4.8),
    "digits-largebatch-nobn": (0.4, 1.6, 3.2),
}
SEEDS = (0, 1, 2, 3, 4)
#: The goal of the measured-warmup issue, per cell: auto within 2 % of the oracle (1 point of
#: error), no failure where the oracle has none, never worse than no warmup.
GOAL_LOSS, GOAL_ERROR = 2.0, 1.0
STRATEGIES = ("auto", "suggest", "untuned-linear", "radam", "none")


def _lrs(xs: list[float]) -> str:
    return ", ".join(f"{x:g}" for x in xs) or "none"


def summary_row(sc: Score) -> str:
    """One task: per strategy its worst delta, failures, never-worse, and where it trains."""
    unit = "pts" if sc.objective == "error" else "%"
    goal = GOAL_ERROR if sc.objective == "error" else GOAL_LOSS
    oracle_ok = [lr for lr, o in sorted(sc.oracles.items()) if o.all_failed == 0]
    cells = []
    for strat in STRATEGIES:
        cs = sc.cells_of(strat)
        if not cs:
            cells.append("-")
            continue
        worst = max(c.delta for c in cs)
        fails = sum(c.all_failed or 0 for c in cs)
        runs = sum(c.all_runs or 0 for c in cs)
        never = all(c.never_worse is not False for c in cs)
        met = ""
        if strat == "auto":
            no_new = all(
                (c.all_failed or 0) == 0 for c in cs if sc.oracles[c.peak_lr].all_failed == 0
            )
            met = " **goal**" if worst <= goal and no_new and never else " (goal missed)"
        cells.append(
            f"{worst:+.1f} {unit}, {fails}/{runs}{'' if never else ', worse than none'}{met}"
        )
    auto_ok = [c.peak_lr for c in sc.cells_of("auto") if (c.all_failed or 0) == 0]
    return (
        f"| `{sc.task}` | {' | '.join(cells)} | {_lrs(oracle_ok)} | "
        f"{_lrs(auto_ok) if sc.cells_of('auto') else '-'} |"
    )


def main() -> None:
    """Run what is missing, then write the summary and the tables."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("runs/scorecards"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated tasks (default: all)")
    args = ap.parse_args()
    names = [t for t in args.only.split(",") if t] or list(TASKS)
    rampup = [sys.executable, "-m", "rampup"]
    for name in names:
        lrs = ",".join(repr(x) for x in TASKS[name])
        print(f"== {name} at {lrs}", file=sys.stderr, flush=True)
        cmd = [*rampup, "lab", "scorecard", "--task", name, "--lr", lrs, "--out"]
        cmd += [str(args.out / name), "--workers", str(args.workers)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    results = [scorecard(n, TASKS[n], SEEDS, out=args.out / n, workers=1) for n in names]
    head = "| task | " + " | ".join(f"`{s}`" for s in STRATEGIES)
    head += " | oracle trains at | `auto` trains at |"
    lines = [
        "# Scorecards of every lab task",
        "",
        "Per strategy: worst Δ against the oracle over the task's 3 peak lrs (held-out seeds 3-4), "
        "failed runs over all lrs and seeds 0-4, and whether it was ever worse than no warmup. "
        f"The goal for `auto`: within {GOAL_LOSS:g} % of the oracle ({GOAL_ERROR:g} point of "
        "error), no failure where the oracle has none, never worse than no warmup. The lr "
        "windows: the peak lrs where the oracle (the best fixed warmup, per lr) and `auto` "
        "failed no run.",
        "",
        head,
        "| --- |" + " --- |" * (len(STRATEGIES) + 2),
        *(summary_row(r.score) for r in results),
        "",
    ]
    for r in results:
        lines += [r.markdown.replace("## Scorecard", "### Scorecard"), ""]
    path = args.out / "scorecards.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
