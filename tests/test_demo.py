"""`rampup demo`: the seeds' toy Transformer under each warmup strategy, table and report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rampup.lab import results
from rampup.lab.demo import DEMO_LR, plan

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.training
def test_quick_demo_prints_the_table_and_writes_the_report(tmp_path: Path) -> None:
    """--quick trains no-warmup and warmup runs, prints the table, writes report.md and PNGs."""
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "rampup", "demo", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert proc.returncode == 0, proc.stderr
    for column in ("strategy", "final val loss", "exact match", "diverged", "wall time"):
        assert column in proc.stdout
    recs = list(results.read(out / results.RESULTS_NAME))
    assert sorted(r["config"]["strategy"] for r in recs) == ["linear", "none"]
    assert all(r["config"]["peak_lr"] == DEMO_LR for r in recs)
    by = {r["config"]["strategy"]: r for r in recs}
    # the comparison the demo is calibrated for: warmup trains, no warmup stalls
    assert by["linear"]["final"]["score"] < 0.2 < by["none"]["final"]["score"]
    assert by["linear"]["final"]["val_loss"] < by["none"]["final"]["val_loss"]
    md = (out / "report.md").read_text()
    assert "| none |" in md
    assert "| linear |" in md
    assert "## What this shows" in md
    for png in ("lr_curves.png", "loss_curves.png"):
        assert (out / png).read_bytes()[:8] == PNG_MAGIC
        assert f"]({png})" in md


def test_default_demo_covers_the_issue_strategies() -> None:
    """The default demo runs none, linear, Noam, untuned, RAdam and auto, and a Pre-LN control."""
    p = plan(quick=False)
    assert {"none", "linear", "noam", "untuned-linear", "radam", "auto"} <= set(p.strategies)
    assert p.control == ("none",)
    assert len(p.seeds) >= 3
