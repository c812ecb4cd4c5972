"""The lab's engines: ``run_grid(engine="batched")`` gives the process engine's records (rounded).

Agreement measured (torch 2.13, CPU, AVX512): over each member's first 10 training losses of
the runs that trained, batched and process records differ by at most 1.2e-6 relative on the
tiny user task (SGD with momentum and Adam; strategies linear and auto; 0 under
ATEN_CPU_CAPABILITY=default) and 7.7e-8 on markov-postln (a Post-LN Transformer; AdamW and
RAdam; the same under the default capability). The tests allow ``RTOL = 1e-5`` (8x the largest
deviation seen), not bit-identity: the batched kernels sum in another order. The
learning rates are the same bit for bit (both come from ``rampup.torch.Scheduler``), and so are
the failure verdicts on clear cases (a huge learning rate fails on both).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rampup import RampupError
from rampup.cli import app
from rampup.lab import results
from rampup.lab.engines import ENGINES, plan_jobs
from rampup.lab.runner import Grid, make_grid, run_grid
from rampup.lab.train import RunConfig

#: The relative tolerance on a training loss (see the module docstring for what was measured).
RTOL = 1e-5
N_LOSSES = 10


def _records(tmp: Path, grid: Any, engine: str, **kw: Any) -> dict[str, dict[str, Any]]:
    lines: list[str] = []
    new, _ = run_grid(grid, tmp / engine, workers=1, engine=engine, log=lines.append, **kw)
    assert len(new) == len(grid.cells)
    assert lines
    assert all(line.startswith("engine: ") for line in lines)
    return {r["key"]: r for r in new}


def _losses(record: dict[str, Any]) -> list[float]:
    """Per-update training losses (the task evaluates after every update)."""
    return [row["train_loss"] for row in record["curve"][1:]][:N_LOSSES]


def _compare(process: dict[str, Any], batched: dict[str, Any]) -> float:
    """Check two engines' records of one grid agree; return the largest relative loss gap.

    The losses are compared on the runs that trained (not diverged on either engine).
    """
    assert process.keys() == batched.keys()
    worst = 0.0
    for key, p in process.items():
        b = batched[key]
        assert p["engine"] == "process"
        assert b["engine"] == "batched"
        assert p.keys() == b.keys()
        assert (p["config"], p["spec"], p["task"]) == (b["config"], b["spec"], b["task"])
        assert p["lr_curve"] == b["lr_curve"], key  # the scheduler's values, bit for bit
        assert p["diverged"] == b["diverged"], key
        assert [r["step"] for r in p["curve"]] == [r["step"] for r in b["curve"]], key
        if p["diverged"]:  # a blow-up's losses are chaotic: only its verdict is compared
            continue
        pl, bl = _losses(p), _losses(b)
        assert len(pl) == len(bl) == N_LOSSES
        for x, y in zip(pl, bl, strict=True):
            if math.isfinite(x) or math.isfinite(y):
                gap = abs(x - y) / max(abs(x), 1e-12)
                worst = max(worst, gap)
                assert gap <= RTOL, (key, x, y)
    return worst


@pytest.mark.training
def test_tiny_task_batched_agrees_with_process(tmp_path: Path) -> None:
    """SGD with momentum (linear) and Adam (linear, auto with its guard per member).

    A huge lr fails in both. (auto on an SGD task probes each model first: the process engine
    runs it, see the next test.)
    """
    sgd, adam = "lab_user_tasks:tiny_every_step", "lab_user_tasks:tiny_adam_every_step"
    cells = [RunConfig(sgd, "linear", lr, s) for lr in (0.05, 1e3) for s in (0, 1)]
    cells += [RunConfig(adam, st, 0.05, s) for st in ("linear", "auto") for s in (0, 1)]
    grid = Grid(tuple(cells), ())
    process = _records(tmp_path, grid, "process")
    batched = _records(tmp_path, grid, "batched")
    assert _compare(process, batched) <= RTOL
    for key, record in batched.items():
        huge = record["config"]["peak_lr"] == 1e3
        assert record["diverged"] == huge, key
        if huge:
            assert record["reason"] == process[key]["reason"]
    assert all(r["wall_time"] > 0 for r in batched.values())


def test_auto_on_an_sgd_task_runs_on_the_process_engine() -> None:
    """A probed strategy is planned one process per run, and the log says why."""
    grid = make_grid(["lab_user_tasks:tiny_every_step"], ["linear", "auto"], [0.05], [0, 1])
    said: list[str] = []
    jobs = plan_jobs(grid.cells, "batched", 2, said.append)
    engines = {c.strategy: j.engine for j in jobs for c in j.cells}
    assert engines == {"linear": "batched", "auto": "process"}
    assert any("the probe measures each run's model on its own" in line for line in said)


@pytest.mark.training
def test_transformer_task_batched_agrees_with_process(tmp_path: Path) -> None:
    """markov-postln for 10 updates: an AdamW stack and a RAdam one; lr 3.0 fails in both."""
    ref = "lab_user_tasks:markov_every_step"
    cells = [RunConfig(ref, s, lr, 0, 10) for s, lr in (("none", 1e-3), ("radam", 1e-3))]
    grid = Grid((*cells, RunConfig(ref, "none", 3.0, 0, 10)), ())
    process = _records(tmp_path, grid, "process")
    batched = _records(tmp_path, grid, "batched")
    assert _compare(process, batched) <= RTOL
    for key, record in batched.items():
        if record["config"]["peak_lr"] == 3.0:
            assert record["diverged"], key
            assert process[key]["diverged"], key


@pytest.mark.training
def test_batch_norm_task_falls_back_to_the_process_engine(tmp_path: Path) -> None:
    """digits-largebatch has batch norm: the batched engine runs it on processes, and says so."""
    grid = make_grid(["digits-largebatch"], ["none"], [0.1], [0], steps=2)
    lines: list[str] = []
    new, _ = run_grid(grid, tmp_path, workers=1, engine="batched", log=lines.append)
    assert [r["engine"] for r in new] == ["process"]
    assert len(lines) == 1
    assert lines[0].startswith("engine: process for task digits-largebatch")
    assert "batch norm" in lines[0]


@pytest.mark.training
def test_a_rerun_skips_the_finished_cells(tmp_path: Path) -> None:
    """Batched records go through results.jsonl: the same grid again runs nothing."""
    grid = make_grid(["lab_user_tasks:tiny"], ["none"], [0.05], [0, 1])
    first, skipped = run_grid(grid, tmp_path, workers=1, engine="batched", log=None)
    assert (len(first), skipped) == (2, 0)
    assert [r["engine"] for r in first] == ["batched", "batched"]
    again, skipped = run_grid(grid, tmp_path, workers=1, engine="batched", log=None)
    assert (again, skipped) == ([], 2)
    assert len(list(results.read(tmp_path / results.RESULTS_NAME))) == 2


def test_stacks_group_by_task_and_optimizer() -> None:
    """RAdam is its own stack; a group is split so that every worker gets a stack."""
    grid = make_grid(["markov-postln"], ["none", "linear", "radam"], [1e-3, 1e-2], [0, 1])
    jobs = plan_jobs(grid.cells, "batched", workers=1)
    assert [j.engine for j in jobs] == ["batched", "batched"]
    assert sorted(len(j.cells) for j in jobs) == [4, 8]
    assert {c.strategy for c in jobs[1].cells} == {"radam"}
    two = plan_jobs(grid.cells, "batched", workers=4)
    assert [len(j.cells) for j in two] == [4, 4, 2, 2]
    process = plan_jobs(grid.cells, "process", workers=1)
    assert [len(j.cells) for j in process] == [1] * 12
    assert {j.engine for j in process} == {"process"}


def test_a_bad_engine_is_refused(tmp_path: Path) -> None:
    """run_grid and ``lab run --engine`` name the option, the value and the choices."""
    grid = make_grid(["lab_user_tasks:tiny"], ["none"], [0.05], [0])
    with pytest.raises(RampupError, match=r"--engine='gpu' is invalid: expected one of batched"):
        run_grid(grid, tmp_path, engine="gpu")
    argv = ["lab", "run", "-t", "lab_user_tasks:tiny", "-s", "none", "--lr", "0.1"]
    res = CliRunner().invoke(app, [*argv, "--out", str(tmp_path), "--engine", "gpu"])
    assert res.exit_code == 2
    assert "--engine='gpu' is invalid: expected one of " + ", ".join(ENGINES) in res.output
    assert not (tmp_path / results.RESULTS_NAME).exists()
