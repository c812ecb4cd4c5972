"""The task protocol: rampup.lab.Task, the built-in tasks on it, and a user's task by reference.

The built-in tasks' batches are checked against the loops they replaced, written out here (one
numpy Generator per seed, consumed once per update); their first training losses against values
measured with the code before the conversion (``build(seed)`` returning closures), on this
machine's CPU path (AVX512, torch 2.x) with one thread. A user's task is loaded from a module and
from a file, in this process, in the local pool's workers and on Ray; every way a task can be
wrong is one RampupError naming its reference (exit 2 from the CLI).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import rampup.lab
from rampup import RampupError
from rampup.cli import app
from rampup.lab import results
from rampup.lab.loading import load_task
from rampup.lab.runner import make_grid, run_grid
from rampup.lab.tasks import TASKS, best_level, constant_level, get_task
from rampup.lab.tasks.digits import _digits
from rampup.lab.tasks.markov import _MK_BATCH, _markov_sample
from rampup.lab.tasks.words import _words_data
from rampup.lab.train import RunConfig, check_task, run, setup

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "lab_task.py"
runner = CliRunner()


def _tiny(**changes: Any) -> rampup.lab.Task:
    from lab_user_tasks import tiny  # noqa: PLC0415

    return dataclasses.replace(tiny, **changes)


# -- the dataclass -----------------------------------------------------------------------------
def test_task_defaults_are_filled_in() -> None:
    """eval_every defaults to a tenth of the run, weight decay to torch's for the optimiser."""
    t = _tiny(eval_every=None, weight_decay=None, optimizer="adamw", steps=50)
    assert t.eval_every == 5
    assert t.weight_decay == 0.01
    assert _tiny(weight_decay=None, optimizer="adam").weight_decay == 0.0
    assert _tiny(optimizer="sgd").beta2 is None
    assert _tiny(optimizer="adam", betas=[0.9, 0.98]).betas == (0.9, 0.98)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("steps", 0),
        ("steps", True),
        ("eval_every", 0),
        ("model", "net"),
        ("batch", None),
        ("optimizer", "lion"),
        ("betas", (0.9,)),
        ("betas", (0.9, 1.0)),
        ("momentum", -0.1),
        ("weight_decay", math.nan),
        ("constant_loss", math.inf),
        ("best_loss", "low"),
        ("objective", "accuracy"),
        ("collapse_ratio", 0.0),
        ("control", 3),
    ],
)
def test_bad_task_fields_are_rampup_errors(field: str, value: object) -> None:
    """Each bad field is refused when the Task is built, naming Task(), the field and the value."""
    with pytest.raises(RampupError) as exc:
        _tiny(**{field: value})
    assert str(exc.value).startswith(f"Task(): {field}=")


def test_the_protocol_is_public_and_torch_free() -> None:
    """rampup.lab exports Task, Evaluation and SeedStream; the built-ins are Tasks."""
    assert rampup.lab.Task is type(TASKS["markov-postln"])
    assert all(isinstance(t, rampup.lab.Task) for t in TASKS.values())
    assert {"Task", "Evaluation", "SeedStream"} <= set(rampup.lab.__all__)


# -- the built-in tasks on the protocol ----------------------------------------------------------
def test_seed_stream_is_the_generator_consumed_in_order() -> None:
    """stream(seed, step) is the step-th draw of default_rng(seed), read in any order."""
    stream = rampup.lab.SeedStream(lambda rng: rng.integers(0, 1000, size=3), seeds=2)
    rng = np.random.default_rng(5)
    expected = [rng.integers(0, 1000, size=3) for _ in range(6)]
    for step in (4, 0, 5, 2, 1, 3):
        assert (stream(5, step) == expected[step]).all()
    stream(6, 0), stream(7, 0)  # seed 5 is dropped (two kept) and drawn again on demand
    assert (stream(5, 3) == expected[3]).all()
    with pytest.raises(RampupError, match="step=-1"):
        stream(5, -1)


@pytest.mark.parametrize("seed", [0, 3])
def test_builtin_batches_are_the_old_loops(seed: int) -> None:
    """Each family's batch(seed, step) equals the draw its training loop made at that update."""
    order = (3, 0, 2, 1)
    rng = np.random.default_rng(seed)  # markov: sample(rng, 16) once per update
    want = [_markov_sample(rng, _MK_BATCH) for _ in range(4)]
    for t in order:
        x, y = get_task("markov-postln").batch(seed, t)
        assert (x.numpy() == want[t][:, :-1]).all()
        assert (y.numpy() == want[t][:, 1:]).all()
    rng = np.random.default_rng(seed)  # sort: integers(0, 32, (64, 16)), targets sorted
    want = [rng.integers(0, 32, size=(64, 16)) for _ in range(4)]
    for t in order:
        x, y = get_task("preln-sort").batch(seed, t)
        assert (x.numpy() == want[t]).all()
        assert (y.numpy() == np.sort(want[t], axis=1)).all()
    xtr, ytr, _, _ = _digits()  # digits: 1024 indices into the 1300 training images
    rng = np.random.default_rng(seed)
    want = [rng.integers(0, 1300, size=1024) for _ in range(4)]
    for t in order:
        x, y = get_task("digits-plainmlp").batch(seed, t)
        assert (x.numpy() == xtr[want[t]]).all()
        assert (y.numpy() == ytr[want[t]]).all()
    src, tgt, _, _ = _words_data()  # words: 32 indices into the 800 training numbers
    rng = np.random.default_rng(seed)
    want = [rng.integers(0, 800, size=32) for _ in range(4)]
    for t in order:
        (s, t_in), t_out = get_task("digits-words").batch(seed, t)
        assert (s.numpy() == src[want[t]]).all()
        assert (t_in.numpy() == tgt[want[t]][:, :-1]).all()
        assert (t_out.numpy() == tgt[want[t]][:, 1:]).all()


#: The first three training losses of seed 0, no warmup, 10 updates (the cosine decay over 10),
#: measured with the code before the
#: conversion to the protocol (AVX512, one thread). Step 0 is the untrained model; steps 1-2
#: follow one and two optimizer updates, so another CPU path may move them in the 6th digit.
BEFORE = {
    "markov": (1e-2, [3.6843066215515137, 3.4376120567321777, 3.5620534420013428]),
    "sort": (3e-3, [3.6191744804382324, 3.540355682373047, 3.540205955505371]),
    "digits": (0.4, [2.71677303314209, 3.0339465141296387, 3.7134015560150146]),
    "words": (7e-3, [2.9728894233703613, 2.3667235374450684, 2.3781652450561523]),
}


@pytest.mark.training
@pytest.mark.parametrize("family", sorted(BEFORE))
def test_builtin_first_losses_equal_the_code_before_the_protocol(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed 0's first training losses (an evaluation after every update) are the old ones."""
    monkeypatch.syspath_prepend(str(HERE))
    lr, want = BEFORE[family]
    rec = run(RunConfig(f"lab_user_tasks:{family}_every_step", "none", lr, 0, steps=10))
    got = [p["train_loss"] for p in rec["curve"][1:4]]
    assert got[0] == pytest.approx(want[0], rel=1e-6)
    assert got == pytest.approx(want, rel=1e-4)


# -- loading a user's task -----------------------------------------------------------------------
@pytest.mark.training
def test_module_file_and_factory_references_load_the_same_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """module:name, path.py:name and a zero-argument factory give the same task and numbers."""
    monkeypatch.chdir(HERE)
    a = load_task("lab_user_tasks:tiny")
    b = load_task("lab_user_tasks:make_tiny")
    c = load_task(str(HERE / "lab_user_tasks.py") + ":tiny")
    assert a is b
    assert a.name == b.name == c.name == "tiny"
    ra = run(RunConfig("lab_user_tasks:tiny", "linear", 0.05, 1))
    rc = run(RunConfig("lab_user_tasks.py:tiny", "linear", 0.05, 1))
    assert ra["config"]["task"] == "lab_user_tasks:tiny"  # the record holds the reference
    assert rc["config"]["task"] == "lab_user_tasks.py:tiny"
    assert ra["curve"] == rc["curve"]
    assert ra["final"]["val_loss"] < 0.1 * ra["curve"][0]["val_loss"]  # it trains
    assert ra["task"]["constant_loss"] is None
    assert not ra["diverged"]


def _grid_records(out: Path, refs: list[str], **kwargs: Any) -> list[dict[str, Any]]:
    grid = make_grid(refs, ["none", "linear", "auto"], [0.05], [0, 1], steps=12)
    run_grid(grid, out, **kwargs)
    return sorted(results.read(out / results.RESULTS_NAME), key=lambda r: r["key"])


def _numbers(rec: dict[str, Any]) -> tuple[Any, ...]:
    return (rec["key"], rec["curve"], rec["final"], rec["lr_curve"], rec["diverged"])


@pytest.mark.training
# Ray forks helper processes; after an earlier test imported JAX, JAX's at-fork hook warns (the
# child execs at once), as in tests/test_lab_runner.py
@pytest.mark.filterwarnings(r"ignore:os\.fork\(\) was called:RuntimeWarning")
def test_a_user_task_runs_in_the_local_pool_and_on_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spawned workers and Ray workers load the task from its reference: the same numbers."""
    pytest.importorskip("ray")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(HERE / "lab_user_tasks.py", work / "my_tasks.py")
    monkeypatch.chdir(work)  # a module and a file in the working directory, as a user has them
    # Ray's workers import rampup afresh: the same rampup as this process (PYTHONPATH=src is
    # relative, and the workers do not start in this directory)
    here = str(Path(rampup.lab.__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    refs = ["my_tasks:tiny", "my_tasks.py:tiny"]
    serial = _grid_records(tmp_path / "serial", refs, workers=1)
    local = _grid_records(tmp_path / "local", refs, workers=2)
    ray = _grid_records(tmp_path / "ray", refs, workers=2, backend="ray")
    assert len(serial) == 2 * 3 * 2
    assert [_numbers(r) for r in local] == [_numbers(r) for r in serial]
    assert [_numbers(r) for r in ray] == [_numbers(r) for r in serial]
    assert {r["config"]["task"] for r in ray} == set(refs)


@pytest.mark.training
def test_the_examples_task_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/lab_task.py (the docs' worked example) passes the checks and trains a few steps."""
    monkeypatch.chdir(EXAMPLE.parent)
    task = load_task("lab_task.py:task")
    check_task(task, name="lab_task.py:task")
    rec = run(RunConfig("lab_task.py:task", "linear", 3e-2, 0, steps=30))
    assert [p["step"] for p in rec["curve"]] == [0, 30]
    assert rec["final"]["val_loss"] < rec["curve"][0]["val_loss"]
    assert 0 <= rec["final"]["score"] <= 1


# -- bad tasks -----------------------------------------------------------------------------------
BAD = [
    ("no_such_module_xyz:task", "there is no module 'no_such_module_xyz'"),
    ("no/such/file.py:task", "there is no file"),
    ("lab_user_tasks:missing", "an attribute 'missing' in lab_user_tasks: there is none; it has "
     "the Task(s) tiny"),
    ("lab_user_tasks:not_a_task", "not_a_task to be a rampup.lab.Task"),
    ("lab_user_tasks:make_nothing", "make_nothing() returned a str"),
    ("lab_user_tasks:broken_nan", "training loss is finite at step 0 (seed 0); it is nan"),
    ("lab_user_tasks:broken_loss", "scalar tensor; it returned a tensor of shape (32, 1)"),
    ("lab_user_tasks:broken_score_type", "score is a float"),
    ("lab_user_tasks:broken_score_inf", "score is finite; it is inf"),
    ("lab_user_tasks:broken_forward", "forward pass, loss) runs; it raised RuntimeError"),
    ("nonsense", "a built-in task (see `rampup lab tasks`), module:name or path/to/file.py:name"),
]  # fmt: skip


@pytest.mark.parametrize(("ref", "fragment"), BAD)
def test_a_bad_task_is_one_rampup_error_naming_it(
    ref: str, fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building the grid refuses the task before anything runs, naming the reference."""
    monkeypatch.chdir(HERE)
    with pytest.raises(RampupError) as exc:
        make_grid([ref], ["none"], [0.1], [0])
    msg = str(exc.value)
    assert msg.startswith(f"lab run(): task={ref!r} is invalid: expected ")
    assert fragment in msg


def test_a_file_that_fails_to_import_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception while importing the user's file is reported with its type and message."""
    (tmp_path / "oops.py").write_text("raise ImportError('needs sklearn 9')\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RampupError, match="it raised ImportError: needs sklearn 9"):
        load_task("oops.py:task", func="lab run")


def test_a_bad_task_on_the_cli_is_exit_2_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rampup lab run --task mod:broken` prints one `rampup lab run: error:` line, exit 2."""
    monkeypatch.chdir(HERE)
    argv = ["lab", "run", "--task", "lab_user_tasks:broken_nan", "--strategy", "none"]
    result = runner.invoke(app, [*argv, "--lr", "0.1"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "rampup lab run: error: lab run(): task='lab_user_tasks:broken_nan' is invalid"
    )
    assert "Traceback" not in result.output


def test_a_non_scalar_loss_mid_run_is_an_error() -> None:
    """The process engine checks every update's loss, not only the first."""
    from lab_user_tasks import tiny  # noqa: PLC0415

    calls = []

    def late(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return tiny.loss(out, y) if len(calls) < 3 else (out - y) ** 2

    built = setup(_tiny(loss=late), 0, name="mine:late")
    built.train_loss(0), built.train_loss(1)
    with pytest.raises(RampupError, match="task='mine:late'"):
        built.train_loss(2)


# -- the shapes and cipher families --------------------------------------------------------------
NEW = ["shapes-bn", "shapes-bn-b64", "postln-cipher", "preln-cipher"]


def _first_loss(name: str, seed: int) -> tuple[Any, Any, torch.Tensor]:
    task = get_task(name)
    x, y = task.batch(seed, 0)
    with torch.no_grad():
        return x, y, task.loss(task.model(seed)(x), y)


@pytest.mark.parametrize("name", NEW)
def test_new_tasks_are_deterministic_given_the_seed(name: str) -> None:
    """Same seed: the same first batch and the same initial loss, bit for bit; seeds differ."""
    x0, y0, l0 = _first_loss(name, 0)
    x1, y1, l1 = _first_loss(name, 0)
    x2, _, l2 = _first_loss(name, 1)
    assert torch.equal(x0, x1)
    assert torch.equal(y0, y1)
    assert l0.item() == l1.item()
    assert not torch.equal(x0, x2)
    assert l0.item() != l2.item()
    assert math.isfinite(l0.item())


def test_shapes_batches_levels_and_models() -> None:
    """512 images (1, 12, 12) per batch, 64 in the control; the class entropy is the level."""
    from torch import nn  # noqa: PLC0415

    from rampup.lab.tasks.conv import _patterns, _shapes  # noqa: PLC0415

    big, small = get_task("shapes-bn"), get_task("shapes-bn-b64")
    xtr, ytr, xva, yva = _shapes()
    assert xtr.shape == (8192, 1, 12, 12)
    assert xva.shape == (1024, 1, 12, 12)
    pats = _patterns()
    assert pats.shape == (10, 5, 5)
    assert len({p.tobytes() for p in pats}) == 10  # ten distinct patterns
    for task, size in ((big, 512), (small, 64)):
        x, y = task.batch(3, 7)
        assert x.shape == (size, 1, 12, 12)
        assert x.dtype == torch.float32
        assert y.shape == (size,)
        assert y.dtype == torch.int64
        rng = np.random.default_rng(3)  # the batch: pool indices drawn from default_rng(seed)
        for _ in range(7):
            rng.integers(0, 8192, size=size)
        idx = rng.integers(0, 8192, size=size)
        assert (x.numpy() == xtr[idx]).all()
        assert (y.numpy() == ytr[idx]).all()
    p = np.array([(yva == c).mean() for c in range(10)])
    assert constant_level(big) == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)
    assert constant_level(big) == pytest.approx(math.log(10), abs=0.01)  # classes ~ uniform
    assert (big.optimizer, big.momentum, big.steps) == ("sgd", 0.9, 100)
    assert (small.optimizer, small.momentum, small.steps) == ("sgd", 0.9, 100)
    assert big.control == "shapes-bn-b64"
    assert small.control is None
    model = big.model(0)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 4
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.stride) for c in convs] == [
        (16, (1, 1)), (32, (2, 2)), (32, (1, 1)), (64, (2, 2)),
    ]  # fmt: skip
    assert all(c.bias is None for c in convs)
    assert sum(p.numel() for p in model.parameters()) == SHAPES_PARAMS
    same = small.model(0).state_dict()  # the control is the same net, the same initial values
    assert all(torch.equal(v, same[k]) for k, v in model.state_dict().items())
    assert model(torch.from_numpy(xva[:5])).shape == (5, 10)


#: Parameters: convs 1-16-32-32-64 (3x3, no bias), batch norm's weight and bias, a 64 x 10 head.
SHAPES_PARAMS = 9 * (16 + 16 * 32 + 32 * 32 + 32 * 64) + 2 * (16 + 32 + 32 + 64) + 650


def test_cipher_batches_levels_and_models() -> None:
    """A key and 15 symbols in, their images under the key's cipher out; Post-LN vs Pre-LN."""
    from rampup.lab.tasks.cipher import _cipher_val, _ciphers  # noqa: PLC0415

    post, pre = get_task("postln-cipher"), get_task("preln-cipher")
    x, y = post.batch(2, 5)
    assert x.shape == (32, 16)
    assert y.shape == (32, 15)
    assert x.dtype == y.dtype == torch.int64
    ciphers = _ciphers()
    assert ciphers.shape == (16, 32)
    assert all(sorted(row) == list(range(32)) for row in ciphers)  # permutations
    for row_x, row_y in zip(x.tolist(), y.tolist(), strict=True):
        assert 0 <= row_x[0] < 16
        assert row_y == [int(ciphers[row_x[0], s]) for s in row_x[1:]]
    val = _cipher_val()
    targets = np.array([[ciphers[r[0], s] for s in r[1:]] for r in val])
    total = 0.0
    for j in range(targets.shape[1]):
        p = np.bincount(targets[:, j], minlength=32) / len(targets)
        p = p[p > 0]
        total -= float((p * np.log(p)).sum())
    assert constant_level(post) == pytest.approx(total / targets.shape[1], rel=1e-12)
    assert best_level(post) == 0.0
    assert (post.optimizer, post.betas, post.steps) == ("adam", (0.9, 0.999), 300)
    assert 2 / (1 - post.betas[1]) > post.steps  # the untuned rule cannot fit the run
    assert post.control == "preln-cipher"
    assert pre.control is None
    m_post, m_pre = post.model(0), pre.model(0)
    for m, norm_first in ((m_post, False), (m_pre, True)):
        body = m.get_submodule("body")
        assert isinstance(body, torch.nn.TransformerEncoder)
        layers = [
            layer for layer in body.layers if isinstance(layer, torch.nn.TransformerEncoderLayer)
        ]
        assert len(layers) == 4
        assert all(layer.norm_first is norm_first for layer in layers)
        assert m(x).shape == (32, 15, 32)
    assert m_post.get_submodule("body").norm is None
    assert m_pre.get_submodule("body").norm is not None  # Pre-LN's final LayerNorm
    n_post = sum(p.numel() for p in m_post.parameters())
    assert sum(p.numel() for p in m_pre.parameters()) == n_post + 2 * 64
    assert n_post == CIPHER_PARAMS


#: Embeddings 16 x 64 + 32 x 64 + positions 16 x 64, 4 encoder layers (attention 4 * 64 * 65,
#: ff 64 * 256 + 256 + 256 * 64 + 64, two LayerNorms 2 * 128), a 64 x 32 head.
CIPHER_PARAMS = (
    (16 + 32 + 16) * 64 + 4 * (4 * 64 * 65 + 64 * 256 + 256 + 256 * 64 + 64 + 256) + 65 * 32
)


def _fit(name: str, lr: float, steps: int) -> tuple[float, float]:
    """The first training loss and the mean of the last five, at a constant lr (seed 0)."""
    torch.set_num_threads(1)
    task = get_task(name)
    model = task.model(0)
    opt: torch.optim.Optimizer
    if task.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=task.momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=task.betas)
    losses = []
    for t in range(steps):
        x, y = task.batch(0, t)
        loss = task.loss(model(x), y)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        losses.append(loss.item())
    return losses[0], sum(losses[-5:]) / 5


@pytest.mark.training
@pytest.mark.parametrize(
    ("name", "lr", "steps"),
    [
        ("shapes-bn", 0.4, 20),
        ("shapes-bn-b64", 0.4, 20),
        ("postln-cipher", 3e-3, 40),
        ("preln-cipher", 3e-3, 40),
    ],
)
def test_new_tasks_train_at_a_small_lr(name: str, lr: float, steps: int) -> None:
    """A few updates at a small constant lr lower the training loss below the constant level.

    The initial loss is near the constant level (log 10 for the shapes, about log 32 for the
    cipher); the bound is a margin below it, not a measured value, so it holds on any CPU.
    """
    first, last = _fit(name, lr, steps)
    const = constant_level(get_task(name))
    assert const is not None
    assert math.isfinite(first)
    assert last < min(first, const) - 0.1
