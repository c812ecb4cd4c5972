"""Grids on the backends: same numbers everywhere, resumable, clean CLI errors."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rampup.cli import app, main
from rampup.lab import results
from rampup.lab.commands import _split
from rampup.lab.runner import make_grid, run_grid
from rampup.lab.train import RunConfig, run

SPEC = "linear(25%) >> cosine"
#: A valid, tiny grid's options, for tests that need the others right.
GRID = ["--task", "digits-largebatch", "--strategy", "none", "--lr", "0.4"]


def _numbers(rec: dict[str, Any]) -> tuple[Any, ...]:
    """What must be identical between two executions of a cell (not the wall time)."""
    return (rec["key"], rec["curve"], rec["final"], rec["lr_curve"], rec["diverged"])


@pytest.fixture(scope="module")
def local_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A 4-cell grid run on the local pool with 2 workers."""
    out = tmp_path_factory.mktemp("local")
    grid = make_grid(["digits-largebatch"], ["none", SPEC], [0.8], [0, 1], steps=6)
    new, skipped = run_grid(grid, out, workers=2)
    assert skipped == 0
    assert len(new) == 4
    return list(results.read(out / results.RESULTS_NAME))


@pytest.mark.training
def test_local_pool_equals_in_process_runs(local_records: list[dict[str, Any]]) -> None:
    """Each pool result equals the same cell trained in this process (the file is JSON)."""
    assert len(local_records) == 4
    for rec in local_records:
        c = rec["config"]
        here = run(RunConfig(c["task"], c["strategy"], c["peak_lr"], c["seed"], c["steps"]))
        # through JSON, as the file stores it
        assert _numbers(rec) == _numbers(json.loads(results.encode(here)))


# Ray forks helper processes; if an earlier test imported JAX, JAX's at-fork hook warns that a
# fork of a multithreaded process may deadlock (the child here execs at once, so it cannot).
@pytest.mark.filterwarnings(r"ignore:os\.fork\(\) was called:RuntimeWarning")
def test_ray_backend_equals_local_backend(
    local_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The same grid on a local Ray instance (2 CPUs) gives exactly the local pool's numbers."""
    pytest.importorskip("ray")
    grid = make_grid(["digits-largebatch"], ["none", SPEC], [0.8], [0, 1], steps=6)
    new, _ = run_grid(grid, tmp_path, workers=2, backend="ray")
    assert len(new) == 4
    on_ray = sorted(map(_numbers, results.read(tmp_path / results.RESULTS_NAME)))
    assert on_ray == sorted(map(_numbers, local_records))


def test_ray_address_that_cannot_be_joined_is_one_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--address of a cluster Ray cannot join: exit 2, one line naming the address and Ray's reason.

    Ray's own wait for a dead address runs for minutes, so ``ray.init`` is replaced by a stand-in
    raising what Ray raises then. (A real cluster, ``ray start --head`` in another process, was
    joined by hand with ``--address`` and gave the local backend's numbers.)
    """
    ray = pytest.importorskip("ray")

    def refuse(**kwargs: Any) -> None:
        raise ConnectionError(f"Failed to connect to Ray cluster at {kwargs['address']}\nmore")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    argv = ["lab", "run", "--task", "digits-largebatch", "--strategy", "none", "--lr", "0.4"]
    argv += ["--steps", "3"]
    argv += ["--backend", "ray", "--address", "10.0.0.9:6379", "--out", str(tmp_path / "g")]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert lines == [
        "rampup lab run: error: lab run(): address='10.0.0.9:6379' is invalid: expected the "
        "address of a running Ray cluster that accepts this client (Ray: ConnectionError: "
        "Failed to connect to Ray cluster at 10.0.0.9:6379)"
    ]


def test_rerun_of_a_finished_grid_runs_nothing(tmp_path: Path) -> None:
    """Re-running a finished grid skips every cell and leaves the file byte for byte."""
    grid = make_grid(["digits-largebatch"], ["none"], [0.4], [0], steps=3)
    run_grid(grid, tmp_path, workers=1)
    before = (tmp_path / results.RESULTS_NAME).read_bytes()
    new, skipped = run_grid(grid, tmp_path, workers=1)
    assert (new, skipped) == ([], 1)
    assert (tmp_path / results.RESULTS_NAME).read_bytes() == before


def test_killed_grid_resumes_without_touching_finished_lines(tmp_path: Path) -> None:
    """Kill a grid after its first result, rerun: old lines intact, missing ones added once."""
    args = [
        "lab", "run", "--out", str(tmp_path), "--task", "markov-postln", "--strategy", "none",
        "--lr", "1e-3,2e-3,3e-3", "--seed", "0,1", "--steps", "25", "--workers", "1",
    ]  # fmt: skip
    path = tmp_path / results.RESULTS_NAME
    proc = subprocess.Popen(
        [sys.executable, "-m", "rampup", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (path.exists() and path.read_bytes().count(b"\n")):
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = path.read_bytes()
    finished = before.count(b"\n")
    assert 1 <= finished < 6, "the grid was not interrupted mid-way"
    assert main(args) == 0
    after = path.read_bytes()
    assert after.startswith(before)
    keys = [r["key"] for r in results.read(path)]
    assert len(keys) == len(set(keys)) == 6
    expected = {
        RunConfig("markov-postln", "none", lr, seed, 25).key()
        for lr in (1e-3, 2e-3, 3e-3)
        for seed in (0, 1)
    }
    assert set(keys) == expected
    # the folder remembers the command; replaying it finds every cell done
    (line,) = (tmp_path / "commands.txt").read_text().splitlines()
    assert main(shlex.split(line)[1:]) == 0
    assert path.read_bytes() == after


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["lab", "run", *GRID[2:], "--task", "nope"], "task='nope'"),
        (["lab", "run", *GRID[:2], *GRID[4:], "--strategy", "linear(("], "strategy='linear(('"),
        (["lab", "run", *GRID[:4], "--lr", "abc"], "lr='abc'"),
        (["lab", "run", *GRID[:4], "--lr", "-1"], "peak_lr=-1.0"),
        (["lab", "run", *GRID, "--seed", "x"], "seed='x'"),
        (["lab", "run", *GRID, "--backend", "spark", "--steps", "1"], "backend='spark'"),
        (["lab", "run", *GRID, "--workers", "0", "--steps", "1"], "workers=0"),
        (["lab", "run", *GRID[:4]], "--lr not given"),
        (["lab", "report", "/nonexistent/folder"], "folder="),
        (["demo", "--workers", "0"], "workers=0"),
    ],
)
def test_cli_bad_input_is_one_message_and_exit_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A bad option prints one `rampup <command>: error:` line naming the value, exits 2."""
    command = "lab run" if argv[:2] == ["lab", "run"] else " ".join(argv[: 1 + (argv[0] == "lab")])
    if argv[:2] == ["lab", "run"]:
        argv = [*argv, "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rampup {command}: error: ")
    assert err.count("error") == 1  # one message (a spec error adds its caret lines)
    assert fragment in err
    assert "Traceback" not in err
    assert not (tmp_path / results.RESULTS_NAME).exists()


def test_strategy_lists_keep_the_commas_of_a_spec() -> None:
    """Comma-separated options split only outside parentheses, so specs keep their arguments."""
    got = _split(["none,linear(10%, start=0.1) >> cosine", "hf"], [])
    assert got == ["none", "linear(10%, start=0.1) >> cosine", "hf"]
    assert _split(None, ["linear"]) == ["linear"]


runner = CliRunner()


def test_lab_run_without_a_grid_refuses_and_names_what_is_missing(tmp_path: Path) -> None:
    """`lab run --out X` alone runs nothing: exit 2, one line naming --task, --strategy and --lr."""
    result = runner.invoke(app, ["lab", "run", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("rampup lab run: error: lab run(): --task, --strategy, --lr not given")
    assert "there is no default grid" in line
    assert "--task markov-postln --strategy none,linear --lr 1e-2" in line
    assert not any(tmp_path.iterdir())


def test_lab_run_help_shows_what_is_required_and_the_defaults() -> None:
    """--help says which options are required and shows every default."""
    result = runner.invoke(app, ["lab", "run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    # click's plain help: one entry per option, its help wrapped onto the following lines
    entries: dict[str, str] = {}
    name = ""
    for line in result.stdout.split("Options:", 1)[1].splitlines():
        words = line.split()
        if words and words[0].startswith("-"):
            name = next(w.rstrip(",") for w in words if w.startswith("--"))
            entries[name] = line
        elif name:
            entries[name] += " " + line.strip()
    for option, metavar in (("--task", "TASK"), ("--strategy", "STRATEGY"), ("--lr", "LR")):
        assert f"{option} {metavar}" in entries[option]  # a value, named; not '<list[str]>'
        assert "required" in entries[option]
    assert "[default: (0)]" in entries["--seed"]
    assert "[default: rampup-lab]" in entries["--out"]
    assert "[default: (the task's)]" in entries["--steps"]
    assert "[default: 2]" in entries["--workers"]
    assert "[default: local]" in entries["--backend"]
    assert "[default: (start a local Ray instance)]" in entries["--address"]
    assert "<" not in result.stdout  # no '<int>', '<path>' type placeholders
    demo = runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--quick " in demo
    assert "--no-quick" not in demo  # a flag, not a --x/--no-x pair with a default to read


def test_lab_run_prints_the_grid_before_it_starts(tmp_path: Path) -> None:
    """The grid's factors and run count come first; a rerun counts the runs already done."""
    argv = ["lab", "run", "--out", str(tmp_path), *GRID, "--seed", "0,1", "--steps", "2"]
    argv += ["--workers", "1"]
    first = runner.invoke(app, argv)
    assert first.exit_code == 0, first.stderr
    plan = (
        "grid: 2 runs = task digits-largebatch x strategy none x lr 0.4 x seed 0, 1 "
        f"(2 updates each); 0 already in {tmp_path}"
    )
    assert first.stdout.splitlines()[0] == plan
    again = runner.invoke(app, argv)
    assert again.stdout.splitlines()[0] == plan.replace("; 0 already", "; 2 already")
    assert f"0 runs done, 2 already in {tmp_path / 'results.jsonl'}" in again.stdout


def test_lab_command_outputs_cite_no_issue_numbers() -> None:
    """`lab tasks` and the lab's help texts say what things are: no issue number, no "seeds'"."""
    outputs = []
    for argv in (["lab", "tasks"], ["lab", "--help"], ["lab", "run", "--help"],
                 ["lab", "report", "--help"], ["demo", "--help"]):  # fmt: skip
        result = runner.invoke(app, argv, env={"COLUMNS": "200"})
        assert result.exit_code == 0, argv
        outputs.append(result.output)
    for text in outputs:
        assert "issue #" not in text.lower()
        assert "seeds'" not in text.lower()
    assert "auto: auto(beta2) >> cosine with its guard (the stability monitor's" in outputs[0]
