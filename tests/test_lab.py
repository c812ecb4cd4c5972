"""The lab's pieces without a grid: strategies, tasks, results files, input checks, one run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rampup import RampupError, parse
from rampup.lab import results
from rampup.lab.runner import make_grid
from rampup.lab.strategies import multiplier, not_applicable, resolve
from rampup.lab.tasks import TASKS, constant_level, get_task, markov_levels, words_of
from rampup.lab.tasks.markov import _markov_chain
from rampup.lab.tasks.sort import _sort_val
from rampup.lab.tasks.words import _words_data
from rampup.lab.train import RunConfig, Trace, check_lr, run, verdict

MARKOV = get_task("markov-postln")
DIGITS = get_task("digits-largebatch")


# -- strategies --------------------------------------------------------------------------------
def _cosine(t: int, n: int) -> float:
    """The shared decay, written out: cosine from 1 to 0 over n steps."""
    return 0.5 * (1 + math.cos(math.pi * t / n))


@pytest.mark.parametrize(
    ("name", "step", "expected"),
    [
        ("none", 0, 1.0),
        ("none", 100, _cosine(100, 200)),
        ("linear", 0, 1 / 20),  # 10 % of 200 = 20 steps, update t uses (t + 1) / 20
        ("linear", 19, 1.0),
        ("linear", 20, 1.0),  # first decay step uses the peak
        ("linear", 110, _cosine(90, 180)),
        ("hf", 0, 0.0),  # HF's convention: update 0 at lr 0
        ("hf", 20, 1.0),
        ("untuned-linear", 0, 1 / 2000),  # beta2 0.999: 2000-step rule, longer than the run
        ("untuned-linear", 199, 200 / 2000 * _cosine(199, 200)),
        ("untuned-exp", 0, (1 - math.exp(-0.001)) * 1.0),
        ("radam", 50, _cosine(50, 200)),
        ("noam", 19, 1.0),  # warmup 20: peak exactly on update W - 1
        ("noam", 79, math.sqrt(20 / 80)),  # then n**-0.5 scaled to 1 at n = W
        ("noam", 0, 1 / 20),
    ],
)
def test_named_strategy_multipliers(name: str, step: int, expected: float) -> None:
    """Each named strategy's multiplier equals its formula, written out by hand."""
    f = multiplier(resolve(name, MARKOV, 200), 200)
    assert f(step) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_spec_strategy_is_the_spec() -> None:
    """A spec string strategy runs exactly that spec, bound to the run."""
    f = multiplier(resolve("linear(25%) >> cosine(to=0.1)", DIGITS, 100), 100)
    assert f(0) == pytest.approx(1 / 25)
    assert f(24) == 1.0
    assert f(100) == pytest.approx(0.1)


def test_radam_strategy_switches_the_optimizer() -> None:
    """The radam strategy runs torch.optim.RAdam; the others keep the task's optimiser."""
    assert resolve("radam", MARKOV, 200).optimizer == "radam"
    assert resolve("none", MARKOV, 200).optimizer is None


def _message(exc: pytest.ExceptionInfo[RampupError]) -> str:
    return str(exc.value)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"tasks": ["nope"]}, ["lab run()", "task='nope'", "markov-postln"]),
        ({"strategies": ["warp"]}, ["lab run()", "strategy='warp'", "none"]),
        ({"strategies": ["linear(("]}, ["strategy='linear(('", "spec"]),
        ({"strategies": ["linear(500)"]}, ["strategy='linear(500)'", "200"]),
        ({"strategies": ["untuned-linear"], "tasks": ["digits-largebatch"]}, ["strategies"]),
        ({"strategies": ["auto"], "steps": 1}, ["strategies=['auto']", "applies"]),
        ({"lrs": [0.0]}, ["peak_lr=0.0", "positive finite"]),
        ({"lrs": [float("nan")]}, ["peak_lr=nan"]),
        ({"lrs": []}, ["lrs=[]", "at least one"]),
        ({"seeds": [-1]}, ["seeds=-1"]),
        ({"steps": 0}, ["steps=0"]),
    ],
)
def test_bad_grid_inputs_are_rampup_errors(kwargs: dict[str, Any], fragments: list[str]) -> None:
    """Every bad grid option raises a RampupError naming function, parameter and value."""
    args: dict[str, Any] = {
        "tasks": ["markov-postln"],
        "strategies": ["none"],
        "lrs": [1e-2],
        "seeds": [0],
    }
    args.update(kwargs)
    steps = args.pop("steps", None)
    with pytest.raises(RampupError) as exc:
        make_grid(args["tasks"], args["strategies"], args["lrs"], args["seeds"], steps=steps)
    for frag in fragments:
        assert frag in _message(exc)


@pytest.mark.parametrize("bad", [0, -1e-3, math.inf, True, "1e-3", None])
def test_check_lr_rejects_non_positive_or_non_numbers(bad: object) -> None:
    """A peak lr must be a positive finite number (bools and strings are refused)."""
    with pytest.raises(RampupError, match="peak_lr="):
        check_lr(bad)


def test_grid_skips_adam_only_strategies_on_sgd_tasks() -> None:
    """The untuned and radam strategies are left out of SGD tasks, the rest run."""
    grid = make_grid(["digits-largebatch"], ["none", "radam"], [0.4], [0, 1])
    assert [(t, s) for t, s, _ in grid.skipped] == [("digits-largebatch", "radam")]
    assert "SGD" in grid.skipped[0][2]
    assert [(c.strategy, c.seed) for c in grid.cells] == [("none", 0), ("none", 1)]


# -- tasks -------------------------------------------------------------------------------------
def test_words_targets_are_the_digit_words() -> None:
    """Digits map to their words, all ten (the original toy example's vocabulary stopped at 4)."""
    assert words_of(123) == ["one", "two", "three"]
    assert words_of(907) == ["nine", "zero", "seven"]
    assert words_of(0) == ["zero"]


def test_words_split_holds_out_two_hundred_numbers() -> None:
    """800 training and 200 validation numbers, disjoint, covering 0-999."""
    str_, _, sva, _ = _words_data()

    def number(row: Any) -> int:
        return int("".join(str(d) for d in row if d < 10))

    train = {number(r) for r in str_}
    val = {number(r) for r in sva}
    assert len(train) == 800
    assert len(val) == 200
    assert not train & val
    assert train | val == set(range(1000))


def test_markov_levels_match_a_simulation() -> None:
    """Bayes and unigram levels agree with empirical entropies of a long sampled chain."""
    p, _ = _markov_chain()
    rng = np.random.default_rng(7)
    n = 200_000
    x = np.empty(n, dtype=np.int64)
    x[0] = 0
    u = rng.random(n)
    cum = np.cumsum(p, axis=1)
    for i in range(1, n):
        x[i] = min(int(np.searchsorted(cum[x[i - 1]], u[i], side="right")), 31)
    counts = np.bincount(x, minlength=32) / n
    unigram = -(counts[counts > 0] * np.log(counts[counts > 0])).sum()
    bayes = -np.mean(np.log(p[x[:-1], x[1:]]))
    b, h = markov_levels()
    assert bayes == pytest.approx(b, abs=0.02)
    assert unigram == pytest.approx(h, abs=0.02)
    assert b < h


def test_every_task_control_exists() -> None:
    """Each task's named control is itself a task."""
    for task in TASKS.values():
        assert task.control is None or task.control in TASKS


# -- failure criterion -------------------------------------------------------------------------
def _trace(final_loss: float, stopped: int | None = None) -> Trace:
    point = {"step": 10.0, "val_loss": final_loss, "score": 0.9, "train_loss": final_loss}
    return Trace([point], [], stopped, final_loss)


def test_collapse_to_the_constant_level_is_a_failure() -> None:
    """A finite loss stuck at the unigram level counts as failed, a lower one does not."""
    const = 3.3
    _, why = verdict(_trace(3.29), MARKOV, const)
    assert "collapsed to a constant predictor" in why
    _, why = verdict(_trace(3.0), MARKOV, const)
    assert why == ""


def test_non_finite_and_stopped_runs_are_failures() -> None:
    """A NaN validation loss or a run stopped for a blown-up training loss is failed."""
    assert verdict(_trace(math.nan), MARKOV, 3.3)[1] == "non-finite validation loss"
    final, why = verdict(_trace(math.inf, stopped=3), MARKOV, 3.3)
    assert "at step 3" in why
    assert math.isnan(final["val_loss"])


# -- results files -----------------------------------------------------------------------------
def _record(key: str, value: float = 1.0) -> dict[str, Any]:
    rec: dict[str, Any] = dict.fromkeys(results.RECORD_KEYS, 0)
    rec.update(key=key, final={"val_loss": value})
    return rec


def test_append_and_read_round_trip_with_nan_as_null(tmp_path: Path) -> None:
    """Records come back in order; NaN is written as null so every line is strict JSON."""
    path = tmp_path / "r.jsonl"
    results.append(path, _record("a", math.nan))
    results.append(path, _record("b", 2.0))
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["final"]["val_loss"] is None
    assert [r["key"] for r in results.read(path)] == ["a", "b"]


def test_torn_last_line_is_skipped_and_fenced(tmp_path: Path) -> None:
    """A half-written last line is ignored and the next append starts on a fresh line."""
    path = tmp_path / "r.jsonl"
    results.append(path, _record("a"))
    with path.open("a") as f:
        f.write('{"key": "torn", "conf')
    assert results.finished_keys(path) == {"a"}
    results.append(path, _record("b"))
    assert results.finished_keys(path) == {"a", "b"}
    assert path.read_text().count("\n") == 3


def test_platform_records_the_capability_set_by_the_environment() -> None:
    """Under ATEN_CPU_CAPABILITY=default a run records DEFAULT, whatever the CPU offers."""
    code = "from rampup.lab.train import platform_info; print(platform_info()['cpu_capability'])"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120,
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "DEFAULT"


# -- one real run --------------------------------------------------------------------------------
@pytest.mark.training
def test_run_record_schema_and_determinism() -> None:
    """A short run's record has the schema, and the same seed gives identical numbers."""
    cfg = RunConfig("digits-largebatch", "linear(25%) >> cosine", 0.4, 3, steps=12)
    a, b = run(cfg), run(cfg)
    assert a.keys() == results.RECORD_KEYS
    assert a["config"] == {
        "task": "digits-largebatch",
        "strategy": "linear(25%) >> cosine",
        "peak_lr": 0.4,
        "seed": 3,
        "steps": 12,
    }
    assert [p["step"] for p in a["curve"]] == [0, 10, 12]
    assert set(a["final"]) == {"val_loss", "score", "train_loss"}
    assert a["versions"]["torch"]
    import torch  # noqa: PLC0415  # the CPU path this process runs on, read independently

    assert a["platform"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert a["platform"]["torch_threads"] == 1  # a run trains on one thread
    assert a["platform"]["cpu_model"]
    # the lr actually applied: 25 % of 12 = 3 warmup steps, update 0 at 0.4 / 3
    assert a["lr_curve"][0] == [0, pytest.approx(0.4 / 3)]
    assert a["lr_curve"][2] == [2, pytest.approx(0.4)]
    assert a["curve"] == b["curve"]
    assert a["final"] == b["final"]
    other = run(RunConfig("digits-largebatch", "linear(25%) >> cosine", 0.4, 4, steps=12))
    assert other["curve"] != a["curve"]


@pytest.mark.training
def test_markov_postln_pilot_reproduces() -> None:
    """The issue's pilot in kind: at 1e-2 no warmup sticks at the unigram level, 10 % does not."""
    bayes, unigram = markov_levels()
    none = run(RunConfig("markov-postln", "none", 1e-2, 0))
    warm = run(RunConfig("markov-postln", "linear", 1e-2, 0))
    assert none["diverged"]
    assert "constant predictor" in none["reason"]
    assert none["final"]["val_loss"] == pytest.approx(unigram, abs=0.05)
    assert not warm["diverged"]
    assert warm["final"]["val_loss"] < bayes + 0.15


@pytest.mark.training
@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_trains_and_evaluates(name: str) -> None:
    """Each task runs two updates and records a finite loss below 10 x its constant level."""
    rec = run(RunConfig(name, "none", 1e-3, 0, steps=2))
    assert [p["step"] for p in rec["curve"]] == [0, 2]
    assert 0 < rec["final"]["val_loss"] < 10 * rec["task"]["constant_loss"]
    assert 0 <= rec["final"]["score"] <= 1


def test_sort_constant_level_is_the_per_position_entropy() -> None:
    """The sort task's constant level is the entropy of each sorted position, averaged."""
    ys = np.sort(_sort_val(), axis=1)
    total = 0.0
    for j in range(ys.shape[1]):
        p = np.bincount(ys[:, j]) / len(ys)
        p = p[p > 0]
        total -= float((p * np.log(p)).sum())
    assert constant_level(get_task("postln-sort")) == pytest.approx(total / ys.shape[1])


def test_auto_fits_every_run_it_can_bind() -> None:
    """On a 20-update Adam run with beta2 0.999 auto's 2000-update rule is cut to 5 (a quarter)."""
    grid = make_grid(["markov-postln", "digits-largebatch"], ["auto"], [1e-2], [0], steps=20)
    assert grid.skipped == ()
    assert [c.task for c in grid.cells] == ["markov-postln", "digits-largebatch"]
    task = get_task("markov-postln")
    assert task.beta2 == 0.999
    spec = resolve("auto", task, 20).spec
    assert parse(spec).bind(total_steps=20).bounds[0] == 20 // 4
    assert not_applicable("auto", task, 1) is not None


@pytest.mark.training
def test_auto_on_sgd_probes_the_model_first() -> None:
    """100 updates: 2 trials (3 % of 100 / (4/3)); the warmup starts at half the critical lr.

    Whatever the kernels make of the trials, the spec and the first lr follow the recorded
    measurement by the rule: start = crit / (2 lr), W = ceil(25 (1 - start)).
    """
    a = run(RunConfig("digits-largebatch", "auto", 0.4, 0))
    p = a["probe"]
    assert p["trials"] == 2
    assert p["cost"] == pytest.approx(8 / 3)
    start = float(f"{0.5 * p['critical_lr'] / 0.4:.4g}")
    assert p["start"] == start
    if 0 < start < 1:
        assert a["spec"] == f"auto(optimizer=sgd, start={start!r}) >> cosine(to=0)"
        assert a["lr_curve"][0] == [0, pytest.approx(0.4 * start)]
        assert p["warmup_steps"] == math.ceil(25 * (1 - start) - 1e-9)
    assert not a["diverged"]


@pytest.mark.training
def test_auto_runs_through_the_scheduler_and_its_guard() -> None:
    """The auto strategy starts on its schedule's step-0 value and is deterministic.

    20 updates are too short for the probe (3 % of 20 < one trial): auto is unmeasured, a
    quarter of the run, and the record says why.
    """
    cfg = RunConfig("digits-largebatch", "auto", 0.4, 0, steps=20)
    a, b = run(cfg), run(cfg)
    assert a["spec"] == "auto(optimizer=sgd) >> cosine(to=0)"
    assert "too short for one trial" in a["probe"]["skipped"]
    expected = 0.4 * parse("auto(optimizer=sgd) >> cosine").bind(total_steps=20)(0)
    assert a["lr_curve"][0] == [0, pytest.approx(expected)]
    assert a["curve"] == b["curve"]
    assert a["lr_curve"] == b["lr_curve"]
