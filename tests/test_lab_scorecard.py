"""The scorecard: its arithmetic from hand-made records, its table, `suggest`, the CLI, one run.

The oracle's choice, delta, excess ratio, never-worse and failure counts are computed from records
built as dicts (no training); one small scorecard runs end to end on the tiny user task.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import rampup
from rampup import RampupError
from rampup.cli import app
from rampup.lab import results
from rampup.lab.oracle import Score, score, sweep_specs
from rampup.lab.runner import Events
from rampup.lab.scorecard import grid_engine, scorecard, table
from rampup.lab.strategies import NAMED, not_applicable, resolve
from rampup.lab.tasks import TASKS
from rampup.lab.train import RunConfig

INITIAL = 2.0  # every hand-made run's untrained loss (and 0.9 its untrained error)
SEEDS = [0, 1, 2, 3, 4]  # 0-2 pick, 3-4 held out
NAN = math.nan


def _rec(
    strategy: str, lr: float, seed: int, final: float, *, objective: str = "loss",
    best: float | None = 0.5,
) -> dict[str, Any]:  # fmt: skip
    """A record of task `t`: `final` is the final loss (or error); NaN means the run failed."""
    failed = not math.isfinite(final)
    loss = final if objective == "loss" else 0.3
    err = final if objective == "error" else 0.3
    return {
        "key": f"t|{strategy}|{lr!r}|{seed}|None",
        "config": {"task": "t", "strategy": strategy, "peak_lr": lr, "seed": seed, "steps": 10},
        "task": {"constant_loss": 2.0, "best_loss": best, "objective": objective},
        "spec": strategy,
        "curve": [{"step": 0, "val_loss": INITIAL, "score": 0.9, "train_loss": None}],
        "lr_curve": [],
        "final": {"val_loss": NAN if failed else loss, "score": 1.0 if failed else err},
        "diverged": failed,
        "reason": "non-finite" if failed else "",
        "wall_time": 1.0,
        "versions": {"torch": "2.13.0"},
        "platform": {"cpu_capability": "AVX2", "torch_threads": 1, "cpu_model": "unknown"},
    }


SWEEP = {"none": 0.0, "w10": 10.0, "w50": 50.0}
#: (strategy, lr): the final value per seed 0-4 (NaN: failed, counted as INITIAL = 2.0).
TABLE: dict[tuple[str, float], list[float]] = {
    # lr 1: w10 is best on seeds 0-2 (0.80) though w50 is better held out (0.70): w10 is the oracle
    ("none", 1.0): [1.0, 1.0, 1.0, 1.0, 1.0],
    ("w10", 1.0): [0.8, 0.8, 0.8, 0.9, 0.9],
    ("w50", 1.0): [0.85, 0.85, 0.85, 0.7, 0.7],
    ("auto", 1.0): [0.9, 0.9, 0.9, 0.99, 0.99],  # +10 %, excess (0.99-0.5)/(0.9-0.5) = 1.225
    ("suggest", 1.0): [1.0, 1.0, 1.0, 1.03, 1.03],  # 1.03 > 1.0 * 1.01: worse than none
    ("radam", 1.0): [NAN, 0.9, 0.9, 0.9, 0.9],  # better mean, but 1 failure where none has 0
    # lr 10: none fails on seeds 0 and 3; the oracle w50 (pick mean 1.1) fails on seed 3
    ("none", 10.0): [NAN, 1.5, 1.5, NAN, 1.5],
    ("w10", 10.0): [1.2, 1.2, 1.2, 1.2, 1.2],
    ("w50", 10.0): [1.1, 1.1, 1.1, NAN, 1.1],
    ("auto", 10.0): [NAN, 1.0, 1.0, 1.0, 1.0],  # 1 failure of 5, none has 2: not worse
    ("suggest", 10.0): [NAN, NAN, NAN, 1.7, 1.7],  # ran on the held-out seeds only
    ("radam", 10.0): [1.0, 1.0, 1.0, 1.0, 1.0],
}
STRATEGIES = ["auto", "suggest", "radam", "none"]


def _records(table_: dict[tuple[str, float], list[float]], **kw: Any) -> list[dict[str, Any]]:
    out = []
    for (strat, lr), vals in table_.items():
        for seed, v in enumerate(vals):
            if strat == "suggest" and lr == 10.0 and seed < 3:
                continue  # not run at all (not failed)
            out.append(_rec(strat, lr, seed, v, **kw))
    return out


def _score() -> Score:
    return score(_records(TABLE), STRATEGIES, SWEEP, SEEDS, task="t")


def _cell(sc: Score, strategy: str, lr: float) -> Any:
    (cell,) = [c for c in sc.cells if c.strategy == strategy and c.peak_lr == lr]
    return cell


def test_the_oracle_is_chosen_on_the_pick_seeds_and_scored_on_the_held_out_ones() -> None:
    """Per lr: the sweep member with the best mean on seeds 0-2, its mean on seeds 3-4."""
    sc = _score()
    assert sc.pick_seeds == (0, 1, 2)
    assert sc.held_seeds == (3, 4)
    one, ten = sc.oracles[1.0], sc.oracles[10.0]
    assert (one.strategy, one.warmup_pct) == ("w10", 10.0)  # not w50, better only held out
    assert one.pick_mean == pytest.approx(0.8)
    assert one.held_mean == pytest.approx(0.9)
    assert (one.sweep_low, one.sweep_high) == pytest.approx((0.7, 1.0))
    assert ten.strategy == "w50"
    assert ten.held_mean == pytest.approx((INITIAL + 1.1) / 2)  # a failed run counts as 2.0
    assert (ten.held_failed, ten.held_runs, ten.all_failed, ten.all_runs) == (1, 2, 1, 5)


def test_oracle_ties_go_to_the_shorter_warmup() -> None:
    """Equal pick means: the shorter warmup is the oracle."""
    tied = {(s, 1.0): [1.0] * 5 for s in SWEEP}
    sc = score(_records(tied), ["none"], SWEEP, SEEDS)
    assert sc.oracles[1.0].strategy == "none"


def test_delta_and_excess_ratio() -> None:
    """Delta = 100 (L - L_o) / L_o %; excess = (L - L*) / (L_o - L*), L* = 0.5."""
    sc = _score()
    auto = _cell(sc, "auto", 1.0)
    assert auto.held_mean == pytest.approx(0.99)
    assert auto.delta == pytest.approx(100 * (0.99 - 0.9) / 0.9)
    assert auto.excess == pytest.approx((0.99 - 0.5) / (0.9 - 0.5))
    o10 = (INITIAL + 1.1) / 2
    assert _cell(sc, "auto", 10.0).delta == pytest.approx(100 * (1.0 - o10) / o10)
    assert _cell(sc, "none", 1.0).delta == pytest.approx(100 * (1.0 - 0.9) / 0.9)
    no_best = score(_records(TABLE, best=None), STRATEGIES, SWEEP, SEEDS)
    assert all(c.excess is None for c in no_best.cells)
    assert no_best.best_loss is None


def test_failure_counts_held_out_and_over_all_seeds() -> None:
    """Failures out of the held-out runs, and out of every seed where the strategy ran on all."""
    sc = _score()
    auto = _cell(sc, "auto", 10.0)
    assert (auto.held_failed, auto.held_runs, auto.all_failed, auto.all_runs) == (0, 2, 1, 5)
    none = _cell(sc, "none", 10.0)
    assert (none.held_failed, none.all_failed) == (1, 2)
    suggest = _cell(sc, "suggest", 10.0)  # ran on seeds 3 and 4 only
    assert (suggest.held_failed, suggest.held_runs, suggest.all_failed, suggest.all_runs) == (
        0, 2, None, None,
    )  # fmt: skip


def test_never_worse_than_no_warmup() -> None:
    """Held-out mean <= none's x (1 + 1 %) and no more failures than none; none itself: None."""
    sc = _score()
    assert _cell(sc, "auto", 1.0).never_worse is True  # 0.99 <= 1.01
    assert _cell(sc, "suggest", 1.0).never_worse is False  # 1.03 > 1.01
    assert _cell(sc, "radam", 1.0).never_worse is False  # better mean, 1 failure vs 0
    assert _cell(sc, "auto", 10.0).never_worse is True  # 1 failure of 5 vs none's 2
    assert _cell(sc, "suggest", 10.0).never_worse is True  # 1.7 <= 1.75 x 1.01, 0 vs 1 held out
    assert _cell(sc, "none", 1.0).never_worse is None
    strict = score(_records(TABLE), STRATEGIES, SWEEP, SEEDS, tolerance=0.0)
    assert _cell(strict, "auto", 1.0).never_worse is True  # 0.99 <= 1.0
    loose = score(_records(TABLE), STRATEGIES, SWEEP, SEEDS, tolerance=0.05)
    assert _cell(loose, "suggest", 1.0).never_worse is True  # 1.03 <= 1.05


def test_error_objective_counts_points() -> None:
    """On an error-scored task: delta in error points, tolerance 1 point, no excess ratio."""
    errs = {
        ("none", 1.0): [0.10] * 5,
        ("w10", 1.0): [0.05] * 5,
        ("w50", 1.0): [0.08] * 5,
        ("auto", 1.0): [0.05, 0.05, 0.05, 0.105, 0.105],
    }
    sc = score(_records(errs, objective="error"), ["auto", "none"], SWEEP, SEEDS)
    assert sc.objective == "error"
    assert sc.best_loss is None
    auto = _cell(sc, "auto", 1.0)
    assert auto.delta == pytest.approx(100 * (0.105 - 0.05))  # 5.5 points
    assert auto.never_worse is True  # 0.105 <= 0.10 + 0.01
    assert auto.excess is None
    assert "Δ vs oracle (pts)" in table(sc)


def test_a_lr_whose_sweep_is_incomplete_has_no_oracle() -> None:
    """A sweep member missing a seed at one lr: no oracle and no cells there."""
    recs = [r for r in _records(TABLE) if r["key"] != "t|w10|10.0|4|None"]
    sc = score(recs, STRATEGIES, SWEEP, SEEDS)
    assert set(sc.oracles) == {1.0}
    assert {c.peak_lr for c in sc.cells} == {1.0}


def test_the_sweep_is_six_fixed_warmups() -> None:
    """0, 2, 5, 10, 25, 50 % then cosine to 0; lengths rounding below 1 step, or equal, once."""
    long = sweep_specs(200)
    assert long == {
        "none": 0.0,
        "linear(2%) >> cosine(to=0)": 2.0,
        "linear(5%) >> cosine(to=0)": 5.0,
        "linear(10%) >> cosine(to=0)": 10.0,
        "linear(25%) >> cosine(to=0)": 25.0,
        "linear(50%) >> cosine(to=0)": 50.0,
    }
    short = sweep_specs(20)  # 2 % is 0.4 of a step: 1 step; 5 % is 1 step too: dropped
    assert list(short) == [
        "none", "linear(1) >> cosine(to=0)", "linear(10%) >> cosine(to=0)",
        "linear(25%) >> cosine(to=0)", "linear(50%) >> cosine(to=0)",
    ]  # fmt: skip


def test_table_content() -> None:
    """The protocol in words, the oracle's row, each cell's numbers, and the summary."""
    md = table(_score(), skipped=[("untuned-linear", "it needs Adam's beta2")], platform="here")
    assert md.startswith("## Scorecard: t\n")
    assert "seeds 0, 1, 2; every row is scored on held-out seeds 3, 4" in md
    assert "within 1 % of `none`'s and no more failures than `none`" in md
    assert "L* = 0.500" in md
    assert "Ran on: here." in md
    assert "| 1 | **oracle** (10 %) | 0.900 | 0 | 0/2 | 0/5 | | 1 |" in md
    assert "| 1 | `auto` | 0.990 | +10.0 | 0/2 | 0/5 | yes | 1.22 |" in md
    assert "| 1 | `suggest` | 1.030 | +14.4 | 0/2 | 0/5 | **no** | 1.32 |" in md
    assert "| 10 | **oracle** (50 %) | 1.550 | 0 | 1/2 | 1/5 | | 1 |" in md
    assert "| 10 | `suggest` | 1.700 | +9.7 | 0/2 | - | yes | 1.14 |" in md
    assert "| 10 | `none` | 1.750 | +12.9 | 1/2 | 2/5 | - | 1.19 |" in md
    # summary: worst delta, failures over all lrs, never worse everywhere, the lrs it trains at
    assert "| `auto` | +10.0 % | 1/10 | yes | 1 |" in md
    assert "| `radam` | +0.0 % | 1/10 | **no** | 10 |" in md
    assert "| `none` | +12.9 % | 2/10 | - | 1 |" in md
    assert "| `untuned-linear` | not applicable: it needs Adam's beta2 | | | |" in md


def test_suggest_strategy_is_what_rampup_suggest_advises() -> None:
    """`suggest` runs rampup.suggest's spec for the task's length, optimiser and beta2."""
    assert "suggest" in NAMED
    for name in ("markov-postln", "postln-sort", "digits-largebatch"):
        task = TASKS[name]
        want = rampup.suggest(
            task.steps, 256, base_batch_size=256, optimizer=task.optimizer, beta2=task.beta2
        ).spec
        got = resolve("suggest", task, task.steps)
        assert got.spec == want
        assert got.optimizer is None
        assert not got.guarded
    assert resolve("suggest", TASKS["markov-postln"], 200).spec == "linear(20) >> cosine"
    assert not_applicable("suggest", TASKS["markov-postln"], 1) is not None


runner = CliRunner()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--task", "markov-postln", "--lr", "1e-3,3e-3"], "3 or more distinct peak lrs"),
        (["--task", "markov-postln", "--lr", "1e-3,1e-3,3e-3"], "3 or more distinct peak lrs"),
        (
            ["--task", "markov-postln", "--lr", "1e-3,3e-3,1e-2", "--seeds", "0,1,2,3"],
            "5 or more distinct seeds: the first 3 pick the oracle's warmup, the others (2 or "
            "more) score it",
        ),
        (["--task", "no-such-task", "--lr", "1e-3,3e-3,1e-2"], "the built-in tasks are"),
        (["--task", "nope.py:task", "--lr", "1e-3,3e-3,1e-2"], "there is no file"),
        (["--lr", "1e-3,3e-3,1e-2"], "--task not given"),
        (["--task", "markov-postln", "--lr", "1e-3,3e-3,x"], "lr='x' is invalid"),
        (["--task", "markov-postln", "--lr", "1,2,3", "--backend", "gpu"], "backend='gpu'"),
    ],
)
def test_cli_errors_are_one_line_and_run_nothing(
    tmp_path: Path, argv: list[str], says: str
) -> None:
    """Bad inputs: exit 2, one line on stderr naming what is wrong, no folder written."""
    out = tmp_path / "sc"
    result = runner.invoke(app, ["lab", "scorecard", "--out", str(out), *argv])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("rampup lab scorecard: error: ")
    assert says in line
    assert not out.exists()


def test_python_errors_name_the_function() -> None:
    """The Python function refuses the same inputs with a RampupError."""
    with pytest.raises(RampupError, match=r"lab scorecard\(\): seeds="):
        scorecard("markov-postln", [1e-3, 3e-3, 1e-2], [0, 1, 2, 3])
    with pytest.raises(RampupError, match="tolerance"):
        scorecard("markov-postln", [1e-3, 3e-3, 1e-2], tolerance=-1.0)


def test_scorecard_end_to_end_on_a_tiny_task(tmp_path: Path) -> None:
    """CLI run on the tiny SGD task: table printed and written, PNG, resumable, engine pluggable."""
    out = tmp_path / "sc"
    argv = ["lab", "scorecard", "--out", str(out), "--task", "lab_user_tasks:tiny"]
    argv += ["--lr", "0.01,0.03,0.1", "--steps", "10", "--workers", "1"]
    first = runner.invoke(app, argv)
    assert first.exit_code == 0, first.output
    # sweep at 10 updates: none, 1 (2 %), 1 (10 %: dropped), 2 (25 %), 5 (50 %) -> 4 members;
    # strategies: auto, suggest (none shared; untuned-linear and radam need Adam)
    runs = (4 + 2) * 3 * 5
    assert f"{runs} runs (the oracle sweep and the zero-tuning strategies); 0 already" in (
        first.stdout
    )
    assert "skipped: strategy radam: it needs Adam's beta2" in first.stderr
    md = (out / "scorecard.md").read_text(encoding="utf-8")
    assert md in first.stdout
    assert (out / "scorecard.png").stat().st_size > 0
    assert len(list(results.read(out / results.RESULTS_NAME))) == runs
    for lr in ("0.01", "0.03", "0.1"):
        assert f"| {lr} | **oracle** (" in md
        for strat in ("auto", "suggest", "none"):
            assert f"| {lr} | `{strat}` |" in md
    assert "`suggest` advised `linear(1) >> cosine`." in md
    assert "lab scorecard --out" in (out / "commands.txt").read_text(encoding="utf-8")

    seen: list[RunConfig] = []
    base = grid_engine(workers=1)

    def engine(cells: Sequence[RunConfig], folder: Path, on_event: Events | None) -> None:
        seen.extend(cells)
        base(cells, folder, on_event)

    again = scorecard("lab_user_tasks:tiny", [0.01, 0.03, 0.1], out=out, steps=10, engine=engine)
    assert seen == []
    assert again.ran == 0
    assert again.markdown == md
    more = scorecard(
        "lab_user_tasks:tiny", [0.01, 0.03, 0.1, 0.3], out=out, steps=10, engine=engine
    )
    assert {c.peak_lr for c in seen} == {0.3}
    assert len(seen) == more.ran == 6 * 5
    with pytest.raises(RampupError, match="engine"):
        scorecard(
            "lab_user_tasks:tiny", [0.01, 0.03, 1.0], out=out, steps=10,
            engine=lambda cells, folder, on_event: None,
        )  # fmt: skip


def test_scorecard_help_names_the_options_and_their_defaults() -> None:
    """--help: each option with a named value and its default; no issue numbers."""
    result = runner.invoke(app, ["lab", "scorecard", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for option in ("--task TASK", "--lr LR", "--seeds,--seed SEEDS", "--workers N"):
        assert option in text.replace(", --", ",--")
    for default in ("[default: rampup-scorecard]", "[default: (0,1,2,3,4)]", "[default: local]"):
        assert default in text
    assert "<" not in result.stdout
    assert "issue #" not in result.stdout.lower()
    tasks = runner.invoke(app, ["lab", "tasks"]).stdout
    assert "suggest: what rampup.suggest advises" in tasks
