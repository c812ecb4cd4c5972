"""`rampup lab report`: sensitivity, oracle regret and the markdown, from hand-made records."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from rampup.cli import main
from rampup.lab import results
from rampup.lab.report import Stat, aggregate, fmt, oracle_regret, outcome, sensitivity

INITIAL = 2.0


def _rec(strategy: str, lr: float, seed: int, final: float) -> dict[str, Any]:
    """A minimal record of task `t`: initial loss 2.0, `final` loss (nan = diverged)."""
    diverged = not math.isfinite(final)
    return {
        "key": f"t|{strategy}|{lr!r}|{seed}|10",
        "config": {"task": "t", "strategy": strategy, "peak_lr": lr, "seed": seed, "steps": 10},
        "task": {"constant_loss": 2.0, "objective": "loss", "score": "error"},
        "spec": strategy,
        "curve": [
            {"step": 0, "val_loss": INITIAL, "score": 0.9, "train_loss": None},
            {"step": 10, "val_loss": final, "score": 0.5, "train_loss": final},
        ],
        "lr_curve": [[0, lr], [9, lr]],
        "final": {"val_loss": final, "score": 1.0 if diverged else 0.5, "train_loss": final},
        "diverged": diverged,
        "reason": "non-finite" if diverged else "",
        "wall_time": 1.0,
        "versions": {"torch": "2.13.0"},
        "platform": {"cpu_capability": "AVX2", "torch_threads": 1, "cpu_model": "AMD EPYC"},
    }


# seeds 0, 1 tune; seeds 2, 3 are held out
TABLE = {
    ("A", 0.1): [1.0, 1.0, 0.6, 0.6],
    ("A", 1.0): [0.5, 0.5, 0.5, 0.7],
    ("B", 0.1): [0.8, 0.8, 0.9, 0.9],
    ("B", 1.0): [math.nan] * 4,
}
RECORDS = [_rec(s, lr, seed, v) for (s, lr), vals in TABLE.items() for seed, v in enumerate(vals)]


def test_outcome_caps_diverged_runs_at_the_initial_loss() -> None:
    """A diverged run scores its initial loss; a finished one its final loss."""
    assert outcome(_rec("B", 1.0, 0, math.nan)) == INITIAL
    assert outcome(_rec("A", 1.0, 0, 0.5)) == 0.5
    assert outcome(_rec("A", 1.0, 0, 3.0)) == INITIAL  # worse than untrained: capped


def test_sensitivity_is_mean_over_lrs_minus_best() -> None:
    """Wortsman et al.'s sensitivity, computed by hand from the table's seed means."""
    sens = sensitivity(RECORDS)
    a_means = [0.8, 0.55]  # lr 0.1, lr 1.0
    b_means = [0.85, INITIAL]
    assert sens["A"] == pytest.approx(sum(a_means) / 2 - min(a_means))
    assert sens["B"] == pytest.approx(sum(b_means) / 2 - min(b_means))


def test_oracle_is_chosen_on_tuning_seeds_and_scored_on_held_out_ones() -> None:
    """At lr 0.1 the oracle picks B on seeds 0-1, so A's held-out regret there is negative."""
    reg = oracle_regret(RECORDS, resamples=500)
    assert reg is not None
    # lr 0.1: oracle B (0.8 < 1.0 on tuning); held out A - B = 0.6 - 0.9 = -0.3 on both seeds
    # lr 1.0: oracle A; held out B - A = 2.0 - 0.5 and 2.0 - 0.7 -> mean 1.4
    mean_a, lo_a, hi_a = reg["A"]
    assert mean_a == pytest.approx((-0.3 + 0.0) / 2)
    assert lo_a == pytest.approx(-0.15)
    assert hi_a == pytest.approx(-0.15)
    mean_b, lo_b, hi_b = reg["B"]
    assert mean_b == pytest.approx((0.0 + 1.4) / 2)  # B is the oracle at lr 0.1: regret 0
    assert 1.3 / 2 - 1e-9 <= lo_b <= mean_b <= hi_b <= 1.5 / 2 + 1e-9


def test_oracle_needs_two_seeds() -> None:
    """With one seed there is nothing to hold out: no regret is reported."""
    assert oracle_regret([r for r in RECORDS if r["config"]["seed"] == 0]) is None


def test_aggregate_counts_failures_and_averages_finite_losses() -> None:
    """Rows hold seeds, failures and the mean of the finite final losses."""
    rows = {(r.strategy, r.peak_lr): r for r in aggregate(RECORDS)}
    assert rows[("B", 1.0)].diverged == 4
    assert math.isnan(rows[("B", 1.0)].loss[0])
    assert rows[("A", 1.0)].loss[0] == pytest.approx(0.55)
    assert rows[("A", 1.0)].seeds == 4


def test_lab_report_command_writes_markdown_and_plots(tmp_path: Path) -> None:
    """`rampup lab report DIR` writes report.md with the tables and its PNGs."""
    for rec in RECORDS:
        results.append(tmp_path / results.RESULTS_NAME, rec)
    assert main(["lab", "report", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    assert "## t" in md
    assert "| `A` | 0.1 | 4 | 0.800 ± 0.231 |" in md
    assert "| `B` | 0.575 | 50% |" in md  # sensitivity (0.85 + 2.0) / 2 - 0.85
    for png in ("t-loss-lr0.1.png", "t-loss-lr1.png", "t-vs-lr.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert (
        "Ran on: torch 2.13.0, CPU capability AVX2 (AMD EPYC), 1 torch thread per run (16 runs)."
        in md
    )


@pytest.mark.parametrize(
    ("values", "cell"),
    [
        ([1.0416], "1.042"),  # one seed: no spread
        ([1.0416, math.nan], "1.042 (1 of 2 seeds)"),  # the other seed failed
        ([0.5, 0.7], "0.600 ± 0.141"),  # sd sqrt(2 * 0.1^2 / 1)
        ([0.5, 0.7, math.nan], "0.600 ± 0.141 (2 of 3 seeds)"),
        ([1.0, 1.0, 0.6, 0.6], "0.800 ± 0.231"),  # sd sqrt(4 * 0.2^2 / 3)
        ([math.nan, math.nan], "-"),
    ],
)
def test_table_cells_give_no_spread_below_two_finite_values(
    values: list[float], cell: str, tmp_path: Path
) -> None:
    """A cell is mean ± sd over two finite values or more, else the mean alone, with n of seeds."""
    recs = [_rec("C", 0.5, seed, v) for seed, v in enumerate(values)]
    (row,) = aggregate(recs)
    assert fmt(row.loss) == cell
    for rec in recs:
        results.append(tmp_path / results.RESULTS_NAME, rec)
    assert main(["lab", "report", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    failed = sum(not math.isfinite(v) for v in values)
    assert f"| `C` | 0.5 | {len(values)} | {cell} |" in md
    assert f"| {failed}/{len(values)} |" in md


def test_fmt_formats_a_scaled_stat_with_its_unit() -> None:
    """The demo's exact-match cell: the unit follows the mean, the sd follows ±."""
    assert fmt(Stat(95.0, 1.84, 3, 3), 1, " %") == "95.0 % ± 1.8"
    assert fmt(Stat(95.0, math.nan, 1, 1), 1, " %") == "95.0 %"


def test_records_without_a_platform_still_load_and_say_unknown(tmp_path: Path) -> None:
    """A record written before the platform was recorded loads, and the report says unknown."""
    path = tmp_path / results.RESULTS_NAME
    old = _rec("A", 0.1, 0, 0.6)
    del old["platform"]
    results.append(path, old)
    results.append(path, _rec("A", 0.1, 1, 0.7))
    recs = list(results.read(path))
    assert len(recs) == 2
    assert recs[0]["platform"] == {
        "cpu_capability": "unknown", "torch_threads": None, "cpu_model": "unknown"
    }  # fmt: skip
    assert main(["lab", "report", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    assert (
        "Ran on: torch 2.13.0, CPU capability unknown (1 run); "
        "torch 2.13.0, CPU capability AVX2 (AMD EPYC), 1 torch thread per run (1 run)."
    ) in md
