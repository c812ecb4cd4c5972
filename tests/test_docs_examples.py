"""The Python examples of docs/ run as written, and the values they state are right.

Like tests/test_readme.py for the README: each ```python block of docs/torch.md, frameworks.md,
monitor.md and lab.md is executed in a namespace that supplies only what the block leaves to the
reader (an optimizer, a loader, a model). The values the comments and the surrounding prose state
are derived by hand from docs/conventions.md, docs/monitor.md and docs/torch.md (or taken from the
peer the doc names: torch's own schedulers, YOLOv5's ``np.interp``), never read back from rampup.

A block that cannot run exactly as written here (no CUDA, a placeholder the reader fills in, a
training run too long for a unit test) is run with the smallest change, listed in ``ADAPTED`` with
the reason; ``SKIPPED`` would list a block not run at all (none is). Every block of the four files
is one of ``EXAMPLES`` or ``SKIPPED``: a new example cannot go untested silently.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import io
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported: no TensorFlow here

import numpy as np
import pytest
import torch

import rampup
import rampup.torch
from doc_code import Tiny, one_block, python_blocks, run_block

torch.set_num_threads(1)

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC_FILES = ("torch.md", "frameworks.md", "monitor.md", "lab.md", "probe.md")

# Every Python block of the four docs, by a name the tests use: (file, needles it alone contains).
EXAMPLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "torch_loop": ("torch.md", ("# once per optimizer update, after optimizer.step()",)),
    "torch_groups": ("torch.md", ('"name": "backbone"',)),
    "torch_controller": ("torch.md", ("controller=monitor",)),
    "torch_accumulation": ("torch.md", ("accumulation",)),
    "torch_scaler": ("torch.md", ("rampup.torch.scaler_step(",)),
    "torch_epochs": ("torch.md", ("compat.torch_sequential(",)),
    "torch_compile": ("torch.md", ("@torch.compile",)),
    "torch_state": ("torch.md", ('"format": "rampup.torch.Scheduler"',)),
    "torch_rebind": ("torch.md", ("rebind=True",)),
    "torch_atomic": ("torch.md", ("rampup.torch.save_atomic(",)),
    "torch_noam": ("torch.md", ("noam(d_model=128, warmup=4000)",)),
    "torch_onecycle": ("torch.md", ("onecycle(peak_at=0.25)",)),
    "torch_yolo": ("torch.md", ("nw = 1000",)),
    "torch_plateau": ("torch.md", ("ReduceLROnPlateau",)),
    "frameworks_spec": ("frameworks.md", ("SPEC = ", "TOTAL = ")),
    "frameworks_torch": ("frameworks.md", ("import rampup.torch",)),
    "frameworks_optax": ("frameworks.md", ("optimizer = optax.adamw(learning_rate=lr)",)),
    "frameworks_inject": ("frameworks.md", ("optax.inject_hyperparams",)),
    "frameworks_keras": ("frameworks.md", ("rampup.keras.Schedule(",)),
    "monitor_loop": ("monitor.md", ("monitor = Monitor(warmup_steps=500)",)),
    "monitor_guard": ("monitor.md", ("AdaptiveWarmup.for_schedule(", "last_good_checkpoint")),
    "monitor_rewind": ("monitor.md", ("rampup.torch.Rewinder(",)),
    "monitor_callback_probe": ("monitor.md", ("probe=True", "on_probe=results.append")),
    "lab_python": ("lab.md", ("make_grid(", "run_grid(")),
    "lab_task": ("lab.md", ("rampup.lab.Task(",)),
    "probe_loop": ("probe.md", ("rampup.probe(model, optimizer",)),
}

# Blocks not run at all: (file, needle) -> why. None so far; add here rather than drop a test.
SKIPPED: dict[tuple[str, str], str] = {}

# Blocks run with one stated change: name -> why (each test applies exactly this change).
ADAPTED: dict[str, str] = {
    "torch_scaler": "written for CUDA: run on the CPU, GradScaler('cpu') and autocast('cpu')",
    "torch_compile": "@torch.compile(backend='eager'): inductor's first compile takes ~8 s on "
    "this CPU; dynamo's guards, which decide recompiles, are the same for every backend",
    "monitor_loop": "`loss = ...` is the reader's own training step: replaced by one call that "
    "returns the loss and the gradient norm (`norm`, which the block also leaves to the reader)",
    "monitor_callback_probe": "a 2000-update run is cut to 60 updates on the CPU, without the "
    "logger, checkpoints, progress bar and summary (60 is enough for one trial: 45 or more)",
    "lab_python": "one markov-postln run takes ~10 s and the grid 6 such runs in 2 spawned "
    "processes: the run is cut to 20 updates and run_grid records its arguments",
}


def _blocks(doc: str) -> list[str]:
    return python_blocks(DOCS / doc)


def _example(name: str) -> str:
    """The one block of its file that contains every needle of ``EXAMPLES[name]``."""
    doc, needles = EXAMPLES[name]
    return one_block(DOCS / doc, needles)


def _adapt(code: str, old: str, new: str) -> str:
    """``code`` with its one occurrence of ``old`` replaced (the change ``ADAPTED`` states)."""
    assert code.count(old) == 1, f"expected {old!r} once in the example"
    return code.replace(old, new)


def _run(name: str, code: str, namespace: dict[str, Any]) -> dict[str, Any]:
    namespace.setdefault("__name__", f"docs_{name}")
    return run_block(code, DOCS / EXAMPLES[name][0], namespace)


def _record_lrs(optimizer: torch.optim.Optimizer) -> list[list[float]]:
    """Per optimizer update (taken, not skipped), the lr of every group that update used."""
    used: list[list[float]] = []
    optimizer.register_step_pre_hook(
        lambda opt, a, k: used.append([float(g["lr"]) for g in opt.param_groups])
    )
    return used


def _first(rows: list[list[float]]) -> list[float]:
    return [r[0] for r in rows]


def _decay(t: float, start: int, length: int, to: float = 0.0) -> float:
    """conventions.md's cosine decay from 1 over ``length`` steps from ``start``, then ``to``."""
    x = min(max(t - start, 0) / length, 1.0)
    return to + (1.0 - to) * 0.5 * (1.0 + math.cos(math.pi * x))


@dataclasses.dataclass
class _Output:
    loss: torch.Tensor


class _HFLike(Tiny):
    """The same model with an HF-style output: ``model(batch).loss``."""

    def forward(self, x: torch.Tensor) -> _Output:  # type: ignore[override]  # the HF convention
        return _Output(super().forward(x))


def _batches(n: int, value: float = 0.1) -> list[torch.Tensor]:
    return [torch.full((3,), value) for _ in range(n)]


# -- every block is tested ---------------------------------------------------------------------
def test_every_python_block_of_the_docs_is_run_or_listed() -> None:
    """Each block of the four docs is exactly one entry of EXAMPLES or SKIPPED, used by a test."""
    source = Path(__file__).read_text()
    for doc in DOC_FILES:
        blocks = _blocks(doc)
        named = [n for n, (d, _) in EXAMPLES.items() if d == doc]
        skipped = [needle for (d, needle) in SKIPPED if d == doc]
        assert len(blocks) == len(named) + len(skipped), f"{doc}: a block is neither run nor listed"
        for name in named:
            _example(name)
            assert source.count(f'_example("{name}")') >= 1, f"no test runs {name}"
        for needle in skipped:
            assert sum(needle in b for b in blocks) == 1, f"{doc}: skipped {needle!r} not unique"
    assert set(ADAPTED) <= set(EXAMPLES)


# -- docs/torch.md -----------------------------------------------------------------------------
class _NotingLoader:
    """Yields the batches; before each, notes the lr the coming update will use (group 0)."""

    def __init__(self, batches: list[torch.Tensor], namespace: dict[str, Any]) -> None:
        self.batches, self.namespace = batches, namespace
        self.seen: list[float] = []

    def __iter__(self) -> Iterator[torch.Tensor]:
        for batch in self.batches:
            self.seen.append(float(self.namespace["optimizer"].param_groups[0]["lr"]))
            yield batch


def _check_after_warmup(
    scheduler: rampup.torch.Scheduler, optimizer: torch.optim.Optimizer
) -> None:
    """Jumped to update t (step(t), O(1)): linear(5%) >> cosine(to=0.01) of 10 000 at base 3e-4.

    The peak at 499 and 500, the cosine over D = 9500 from 500, 3e-6 after the run and after.
    """
    for t in (499, 500, 5250, 10_000, 12_000):
        scheduler.step(t)
        want = 3e-4 * _decay(t, 500, 9500, to=0.01)
        assert optimizer.param_groups[0]["lr"] == pytest.approx(want, rel=1e-13), f"update {t}"
    assert optimizer.param_groups[0]["lr"] == pytest.approx(3e-6, rel=1e-13)


def test_torch_loop_uses_the_warmup_from_update_zero() -> None:
    """linear(5%) of 10 000 is W = 500: update t uses 3e-4 * (t + 1) / 500 (never 0)."""
    ns: dict[str, Any] = {"model": _HFLike()}
    ns["loader"] = loader = _NotingLoader(_batches(6), ns)
    _run("torch_loop", _example("torch_loop"), ns)
    assert loader.seen == pytest.approx([3e-4 * (t + 1) / 500 for t in range(6)], rel=1e-15)
    assert ns["scheduler"].last_epoch == 6
    _check_after_warmup(ns["scheduler"], ns["optimizer"])


def test_torch_per_group_mapping_values() -> None:
    """backbone: linear(10%) >> cosine; head: 0.1 for 10 % of 20 000 updates, then the cosine.

    W = 2000: the backbone uses 1e-4 * (t + 1) / 2000, the head 1e-3 * 0.1; from update 2000 both
    run the cosine over D = 18 000 updates from their own peak, reaching 0 after the run.
    """
    backbone, head = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    ns = _run(
        "torch_groups",
        _example("torch_groups"),
        {"torch": torch, "rampup": rampup, "backbone": backbone, "head": head},
    )
    optimizer, scheduler = ns["optimizer"], ns["scheduler"]
    want = {
        0: (1e-4 / 2000, 1e-4),
        1: (2e-4 / 2000, 1e-4),
        1999: (1e-4, 1e-4),
        2000: (1e-4, 1e-3),
        11_000: (1e-4 * 0.5, 1e-3 * 0.5),
        15_000: (1e-4 * _decay(15_000, 2000, 18_000), 1e-3 * _decay(15_000, 2000, 18_000)),
        20_000: (0.0, 0.0),
    }
    got = {}
    for t in range(20_001):
        if t in want:
            got[t] = tuple(g["lr"] for g in optimizer.param_groups)
        scheduler.step()
    for t, (b, h) in want.items():
        assert got[t] == pytest.approx((b, h), rel=1e-12, abs=1e-18), f"update {t}"


class _HalfSpeed:
    """A ClockController that advances the clock by 0.5 per update."""

    def __init__(self) -> None:
        self.calls = 0

    def advance(self, update: int, clock: float) -> float:
        self.calls += 1
        return clock + 0.5

    def state_dict(self) -> dict[str, Any]:
        return {"calls": self.calls}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.calls = int(state["calls"])


def test_torch_controller_at_half_speed_halves_the_warmup() -> None:
    """Advancing by 0.5 "runs it at half speed": update k uses base * (k / 2 + 1) / 1000.

    The controller's state is saved in the scheduler's under "controller".
    """
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    used = _record_lrs(optimizer)
    monitor = _HalfSpeed()
    ns = _run(
        "torch_controller",
        _example("torch_controller"),
        {"rampup": rampup, "optimizer": optimizer, "monitor": monitor},
    )
    scheduler = ns["scheduler"]
    for _ in range(6):
        optimizer.step()
        scheduler.step()
    assert _first(used) == pytest.approx([0.1 * (k / 2 + 1) / 1000 for k in range(6)], rel=1e-15)
    assert (scheduler.last_epoch, scheduler.clock) == (6, 3.0)
    assert scheduler.state_dict()["controller"] == {"calls": 6}


def test_torch_gradient_accumulation_steps_once_per_update() -> None:
    """12 micro-batches of 4: 3 updates, update k at 0.1 * s(k) = 0.1 * (k + 1) / 100."""
    model = _HFLike()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = rampup.torch.Scheduler(optimizer, "linear(100)")
    used = _record_lrs(optimizer)
    ns: dict[str, Any] = {
        "loader": _batches(12),
        "model": model,
        "accumulation": 4,
        "optimizer": optimizer,
        "scheduler": scheduler,
    }
    _run("torch_accumulation", _example("torch_accumulation"), ns)
    assert scheduler.last_epoch == 3
    assert _first(used) == pytest.approx([0.1 * (k + 1) / 100 for k in range(3)], rel=1e-15)


def test_torch_gradient_scaler_skip_leaves_the_clock() -> None:
    """A batch with inf gradients is skipped by the scaler: no update, the clock stays.

    Batches 0, 1, 3, 4 are updates 0-3 at 0.1 * (t + 1) / 100; batch 2 (inf) is none of them.
    """
    model = _HFLike()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = rampup.torch.Scheduler(optimizer, "linear(100)")
    used = _record_lrs(optimizer)
    loader = _batches(5)
    loader[2] = torch.full((3,), math.inf)
    code = _adapt(_example("torch_scaler"), "torch.amp.GradScaler()", 'torch.amp.GradScaler("cpu")')
    code = _adapt(code, 'torch.autocast("cuda")', 'torch.autocast("cpu")')
    ns: dict[str, Any] = {"torch": torch, "rampup": rampup, "loader": loader, "model": model}
    ns |= {"optimizer": optimizer, "scheduler": scheduler}
    _run("torch_scaler", code, ns)
    assert scheduler.last_epoch == 4
    assert _first(used) == pytest.approx([0.1 * (t + 1) / 100 for t in range(4)], rel=1e-15)
    assert ns["scaler"].get_scale() == 2.0**16 / 2  # lowered once, by the default backoff 0.5


def test_torch_epochwise_example_gives_torchs_per_epoch_values() -> None:
    """LinearLR(0.1, 10) then CosineAnnealingLR(90, eta_min = 1e-3 * base), epoch by epoch.

    By hand: epoch e < 10 uses base * (0.1 + 0.9 * e / 10); from 10, base * (r + (1 - r) *
    (1 + cos(pi * (e - 10) / 90)) / 2), r = 1e-3. torch's own SequentialLR gives the same.
    """
    base = 0.1
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=base)
    seen: list[float] = []

    def train_epoch(
        model: torch.nn.Module, loader: object, optimizer: torch.optim.Optimizer
    ) -> None:
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()

    ns: dict[str, Any] = {
        "rampup": rampup,
        "optimizer": optimizer,
        "model": model,
        "loader": [],
        "train_epoch": train_epoch,
    }
    _run("torch_epochs", _example("torch_epochs"), ns)
    r = 1e-3
    hand = [
        base * (0.1 + 0.9 * e / 10) if e < 10 else base * _decay(e, 10, 90, to=r)
        for e in range(100)
    ]
    assert seen == pytest.approx(hand, rel=1e-12)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(base * r, rel=1e-12)  # epoch 100

    peer_opt = torch.optim.SGD(Tiny().parameters(), lr=base)
    peer = torch.optim.lr_scheduler.SequentialLR(
        peer_opt,
        [
            torch.optim.lr_scheduler.LinearLR(peer_opt, start_factor=0.1, total_iters=10),
            torch.optim.lr_scheduler.CosineAnnealingLR(peer_opt, T_max=90, eta_min=base * r),
        ],
        milestones=[10],
    )
    theirs = []
    for _ in range(100):
        theirs.append(peer_opt.param_groups[0]["lr"])
        peer_opt.step()
        peer.step()
    assert seen == pytest.approx(theirs, rel=1e-9)  # torch's values are recursive: rounding drift


# dynamo, tracing torch's own optimizer code, trips over a deprecation inside torch.jit
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_torch_tensor_lr_is_filled_in_place_without_recompiling() -> None:
    """The tensor lr keeps its identity; it holds float32(base * (t + 1) / 1000); 0 recompiles."""
    from torch._dynamo.utils import counters  # noqa: PLC0415  # dynamo loads on demand

    torch._dynamo.reset()
    counters.clear()
    model = torch.nn.Linear(3, 1)
    code = _adapt(
        _example("torch_compile"), "@torch.compile\n", '@torch.compile(backend="eager")\n'
    )
    ns = _run("torch_compile", code, {"torch": torch, "rampup": rampup, "model": model})
    optimizer, scheduler = ns["optimizer"], ns["scheduler"]
    lr = optimizer.param_groups[0]["lr"]
    base = float(torch.tensor(3e-4))  # the tensor's own value is the base rate
    graphs = None
    for t in range(6):
        assert optimizer.param_groups[0]["lr"] is lr
        assert lr.item() == torch.tensor(base * (t + 1) / 1000, dtype=torch.float32).item()
        assert scheduler.get_last_lr() == pytest.approx([base * (t + 1) / 1000], rel=1e-15)
        model(torch.ones(3)).sum().backward()
        ns["optimizer_step"]()
        scheduler.step()
        if t == 0:
            graphs = counters["stats"]["unique_graphs"]
    assert graphs  # the first call compiled
    assert counters["stats"]["unique_graphs"] == graphs
    torch._dynamo.reset()


def _state_10k() -> tuple[torch.optim.Optimizer, rampup.torch.Scheduler]:
    optimizer = torch.optim.AdamW(Tiny().parameters(), lr=3e-4)
    return optimizer, rampup.torch.Scheduler(
        optimizer, "linear(5%) >> cosine(to=0.01)", total_steps=10_000
    )


def test_torch_state_dict_example_is_the_state_at_update_4200() -> None:
    """The printed state is that of the doc's schedule after 4200 updates, and it loads.

    Loaded into a fresh scheduler (weights_only), the next update uses 3e-4 * (0.01 + 0.99 *
    (1 + cos(pi * 3700 / 9500)) / 2): W = 500, D = 9500.
    """
    code = _example("torch_state")
    _run("torch_state", code, {})
    printed = ast.literal_eval(code)
    _, scheduler = _state_10k()
    for _ in range(4200):
        scheduler.step()
    assert scheduler.state_dict() == printed
    buf = io.BytesIO()
    torch.save(printed, buf)
    buf.seek(0)
    optimizer, fresh = _state_10k()
    optimizer.param_groups[0]["lr"] = 1.0  # overwritten by the load
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    want = 3e-4 * _decay(4200, 500, 9500, to=0.01)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(want, rel=1e-13)


def test_torch_atomic_checkpoint_example_writes_whole_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renames: list[tuple[str, str]]
) -> None:
    """Both writes rename a temporary file of the same directory over ckpt.pt, which then loads."""
    monkeypatch.chdir(tmp_path)
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = rampup.torch.Scheduler(optimizer, "linear(4)")
    optimizer.step()
    scheduler.step()
    ns = {"torch": torch, "rampup": rampup, "model": model, "optimizer": optimizer}
    _run("torch_atomic", _example("torch_atomic"), {**ns, "scheduler": scheduler})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]
    assert len(renames) == 2  # save_atomic's, then the hand-written one
    for src, dst in renames:
        assert Path(src).parent == tmp_path
        assert Path(src).name.startswith(".ckpt.pt.")
        assert Path(dst).name == "ckpt.pt"
    loaded = torch.load("ckpt.pt", weights_only=True)
    fresh_opt = torch.optim.SGD(Tiny().parameters(), lr=0.1)
    fresh = rampup.torch.Scheduler(fresh_opt, "linear(4)")
    fresh.load_state_dict(loaded["scheduler"])
    assert fresh_opt.param_groups[0]["lr"] == pytest.approx(0.1 * 2 / 4, rel=1e-15)


def test_torch_rebind_example_and_its_stated_jump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Update 5000 of 10 000 (W 500, D 9500) at ≈ 0.54 resumes at ≈ 0.89 of 20 000 (W 1000).

    The values the prose states are checked against the hand formula; the lr after the re-bind
    is 3e-4 (the checkpoint's base, not the new optimizer's 1.0) times the new multiplier.
    """
    old = 0.5 * (1 + math.cos(math.pi * (5000 - 500) / (10_000 - 500)))
    new = 0.5 * (1 + math.cos(math.pi * (5000 - 1000) / (20_000 - 1000)))
    stated = re.findall(r"≈ (\d\.\d+)", (DOCS / "torch.md").read_text())
    assert stated == [f"{old:.2f}", f"{new:.2f}"]

    first = torch.optim.AdamW(Tiny().parameters(), lr=3e-4)
    before = rampup.torch.Scheduler(first, "linear(5%) >> cosine", total_steps=10_000)
    for _ in range(5000):
        before.step()
    assert first.param_groups[0]["lr"] == pytest.approx(3e-4 * old, rel=1e-13)
    monkeypatch.chdir(tmp_path)
    torch.save({"scheduler": before.state_dict()}, "ckpt.pt")

    optimizer = torch.optim.AdamW(Tiny().parameters(), lr=1.0)
    ns = _run(
        "torch_rebind",
        _example("torch_rebind"),
        {"torch": torch, "rampup": rampup, "optimizer": optimizer},
    )
    assert optimizer.param_groups[0]["lr"] == pytest.approx(3e-4 * new, rel=1e-13)
    assert (ns["scheduler"].last_epoch, ns["scheduler"].clock) == (5000, 5000.0)

    # the comment's alternative: rebind=True in the constructor
    other = torch.optim.AdamW(Tiny().parameters(), lr=1.0)
    sched = rampup.torch.Scheduler(other, "linear(5%) >> cosine", total_steps=20_000, rebind=True)
    sched.load_state_dict(torch.load("ckpt.pt", weights_only=True)["scheduler"])
    assert other.param_groups[0]["lr"] == pytest.approx(3e-4 * new, rel=1e-13)


def test_torch_noam_in_absolute_values() -> None:
    """conventions.md: update t uses 128**-0.5 * min(n**-0.5, n * 4000**-1.5), n = t + 1.

    Update 3999 uses the peak (128 * 4000)**-0.5; update 0 is not at 0.
    """
    optimizer = torch.optim.Adam(Tiny().parameters(), lr=0.0)
    used = _record_lrs(optimizer)
    ns = _run("torch_noam", _example("torch_noam"), {"rampup": rampup, "optimizer": optimizer})
    for _ in range(4002):
        optimizer.step()
        ns["scheduler"].step()
    hand = [128**-0.5 * min((t + 1) ** -0.5, (t + 1) * 4000**-1.5) for t in range(4002)]
    assert _first(used) == pytest.approx(hand, rel=1e-12)
    assert used[3999][0] == pytest.approx((128 * 4000) ** -0.5, rel=1e-12)
    assert used[0][0] > 0


def test_torch_onecycle_example_equals_torchs_onecycle() -> None:
    """Value for value torch's OneCycleLR(max_lr, 100, pct_start=0.25): lr and momentum.

    By hand (torch's formula): lr max_lr / 25 at update 0, max_lr at 24, max_lr / 25 / 1e4 at 99;
    momentum 0.95, 0.85 (update 24, the low point the prose states), 0.95 (the last update).
    """
    max_lr = 0.1
    model = Tiny()
    ns = _run(
        "torch_onecycle",
        _example("torch_onecycle"),
        {"torch": torch, "rampup": rampup, "model": model, "max_lr": max_lr},
    )
    optimizer, scheduler = ns["optimizer"], ns["scheduler"]
    peer_opt = torch.optim.SGD(Tiny().parameters(), lr=max_lr, momentum=0.9)
    peer = torch.optim.lr_scheduler.OneCycleLR(peer_opt, max_lr, total_steps=100, pct_start=0.25)
    ours, theirs = [], []
    for _ in range(100):
        ours.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["momentum"]))
        theirs.append((peer_opt.param_groups[0]["lr"], peer_opt.param_groups[0]["momentum"]))
        optimizer.step()
        scheduler.step()
        peer_opt.step()
        peer.step()
    hand = {0: (max_lr / 25, 0.95), 24: (max_lr, 0.85), 99: (max_lr / 25 / 1e4, 0.95)}
    for t, want in hand.items():
        assert ours[t] == pytest.approx(want, rel=1e-12), f"update {t}"
    assert np.allclose(ours, theirs, rtol=1e-12, atol=0)


def test_torch_yolo_example_equals_np_interp() -> None:
    """YOLOv5's np.interp over [0, nw]: each value reaches its target at iteration nw = 1000.

    Bias lr 0.1 -> lr0, the other lr 0 -> lr0, momentum 0.8 -> 0.937; then they hold.
    """
    lr0 = 0.01
    biases, weights = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.SGD(
        [{"params": [biases]}, {"params": [weights]}], lr=lr0, momentum=0.937
    )
    ns = _run(
        "torch_yolo", _example("torch_yolo"), {"rampup": rampup, "optimizer": optimizer, "lr0": lr0}
    )
    xi = [0, 1000]
    for t in range(1003):
        bias_g, weight_g = optimizer.param_groups
        want = (
            np.interp(t, xi, [0.1, lr0]),
            np.interp(t, xi, [0.0, lr0]),
            np.interp(t, xi, [0.8, 0.937]),
        )
        got = (bias_g["lr"], weight_g["lr"], weight_g["momentum"])
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), f"iteration {t}"
        assert bias_g["momentum"] == pytest.approx(want[2], rel=1e-12)
        ns["scheduler"].step()


def test_torch_warmup_over_plateau() -> None:
    """lr(t) = a(t) * w(t): w(t) = (t + 1) / 1000; the plateau halves a after 3 bad epochs.

    ReduceLROnPlateau(factor=0.5, patience=2) with a constant metric: epoch 0 sets the best,
    epochs 1-3 do not improve, so it halves after epoch 3 and again after epoch 6. Two updates
    per epoch: epochs 0-3 use a = 0.1, 4-6 a = 0.05, 7 a = 0.025.
    """
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    used = _record_lrs(optimizer)
    ns: dict[str, Any] = {
        "torch": torch,
        "rampup": rampup,
        "optimizer": optimizer,
        "epochs": 8,
        "loader": _batches(2),
        "model": model,
        "validate": lambda m: 1.0,
    }
    _run("torch_plateau", _example("torch_plateau"), ns)
    a = [0.1] * 8 + [0.05] * 6 + [0.025] * 2
    assert _first(used) == pytest.approx([a[t] * (t + 1) / 1000 for t in range(16)], rel=1e-12)


# -- docs/frameworks.md ------------------------------------------------------------------------
def test_frameworks_spec_and_the_values_the_prose_states() -> None:
    """5 % of 10 000 is W = 500: update 0 at peak / 500, the peak at 499 and 500, peak * 0.01 after.

    The numbers are read from the prose and compared with the hand derivation.
    """
    ns = _run("frameworks_spec", _example("frameworks_spec"), {})
    spec, total = ns["SPEC"], ns["TOTAL"]
    assert (spec, total) == ("linear(5%) >> cosine(to=0.01)", 10_000)
    text = " ".join((DOCS / "frameworks.md").read_text().split())
    m = re.search(
        r"`3e-4 / (\d+)` for update 0 \(never 0\), the peak `3e-4` for updates (\d+) and (\d+),"
        r" then the cosine, reaching `([0-9.e-]+)` after the run",
        text,
    )
    assert m is not None, "the prose's values moved: update this test"
    w = math.floor(0.05 * total + 0.5)
    assert (int(m[1]), int(m[2]), int(m[3])) == (w, w - 1, w)
    assert float(m[4]) == pytest.approx(3e-4 * 0.01, rel=1e-15)
    s = rampup.parse(spec).bind(total_steps=total)
    assert [s(0), s(499), s(500), s(10_000), s(20_000)] == pytest.approx(
        [1 / 500, 1.0, 1.0, 0.01, 0.01], rel=1e-15
    )


def test_frameworks_torch_block_starts_at_peak_over_500() -> None:
    """The PyTorch block as written: update t uses 3e-4 * (t + 1) / 500."""
    ns: dict[str, Any] = {"model": _HFLike()}
    ns["loader"] = loader = _NotingLoader(_batches(5), ns)
    _run("frameworks_torch", _example("frameworks_torch"), ns)
    assert loader.seen == pytest.approx([3e-4 * (t + 1) / 500 for t in range(5)], rel=1e-15)
    assert ns["scheduler"].last_epoch == 5
    _check_after_warmup(ns["scheduler"], ns["optimizer"])


def test_frameworks_optax_and_inject_hyperparams() -> None:
    """optax: lr(count) is 3e-4 * s(count); b1 = 0.5 + 0.4 * t / 19, 0.9 from t = 19 on.

    linear(20, start=0.5, to=0.9) is a warmup reaching its end on its last step, 19; the
    hyperparams after three updates hold the values update 2 used.
    """
    jnp = pytest.importorskip("jax.numpy")
    optax = pytest.importorskip("optax")
    import rampup.optax  # noqa: PLC0415  # the second block uses the name from the first

    ns = _run("frameworks_optax", _example("frameworks_optax"), {})
    lr = ns["lr"]
    got = [float(lr(t)) for t in (0, 499, 500, 10_000, 20_000)]
    assert got == pytest.approx([3e-4 / 500, 3e-4, 3e-4, 3e-6, 3e-6], rel=1e-6)  # float32
    params = {"w": jnp.zeros(2)}
    opt = ns["optimizer"]
    updates, _ = opt.update({"w": jnp.ones(2)}, opt.init(params), params)
    assert [float(u) for u in updates["w"]] == pytest.approx([-3e-4 / 500] * 2, rel=2e-5)

    ns = _run(
        "frameworks_inject",
        _example("frameworks_inject"),
        {"optax": optax, "rampup": rampup, "lr": lr},
    )
    b1 = ns["b1"]
    hand = [0.5 + 0.4 * t / 19 if t < 19 else 0.9 for t in range(25)]
    assert [float(b1(t)) for t in range(25)] == pytest.approx(hand, rel=1e-6)
    opt = ns["optimizer"]
    state = opt.init(params)
    for _ in range(3):
        _, state = opt.update({"w": jnp.ones(2)}, state, params)
    assert float(state.hyperparams["b1"]) == pytest.approx(0.5 + 0.4 * 2 / 19, rel=1e-6)
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(3e-4 * 3 / 500, rel=1e-6)


# fit's progress bar (the block's default verbose) converts the loss with numpy 2's
# __array__(copy=False), which warns for a torch tensor; raised as an error (the project's
# filterwarnings), that conversion fails and the bar's np.mean gets a tensor it cannot average
@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"
)
def test_frameworks_keras_fit_runs_the_schedule() -> None:
    """Keras: update t uses 3e-4 * s(t); after 10 epochs of 2 batches, iterations is 20.

    The optimizer's current rate is then that of update 20: 3e-4 * 21 / 500.
    """
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 2)), rng.normal(size=(64, 1))
    ns = _run("frameworks_keras", _example("frameworks_keras"), {"model": model, "x": x, "y": y})
    lr = ns["lr"]
    got = [float(lr(t)) for t in (0, 499, 500, 10_000)]
    assert got == pytest.approx([3e-4 / 500, 3e-4, 3e-4, 3e-6], rel=1e-6)
    assert int(model.optimizer.iterations) == 20
    assert float(model.optimizer.learning_rate) == pytest.approx(3e-4 * 21 / 500, rel=1e-6)


def test_frameworks_keras_missing_backend_message_is_the_real_one() -> None:
    """frameworks.md quotes the ImportError `import rampup.keras` raises without its backend."""
    pytest.importorskip("keras")
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed here")
    text = " ".join((DOCS / "frameworks.md").read_text().split())
    m = re.search(r"`(ImportError: rampup\.keras needs Keras 3 and its backend, .*?)`", text)
    assert m is not None
    code = "import os; os.environ.pop('KERAS_BACKEND', None); import rampup.keras"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.stderr.strip().splitlines()[-1] == m[1]


# -- docs/monitor.md ---------------------------------------------------------------------------
def _stated_messages() -> list[str]:
    """The example messages monitor.md prints, indented under "Messages say ..."."""
    text = (DOCS / "monitor.md").read_text()
    m = re.search(r"Messages say where and what to do, e\.g\.\n\n((?:    .*\n)+)", text)
    assert m is not None
    return [line.strip() for line in m[1].splitlines()]


def test_monitor_loop_prints_the_messages_the_doc_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inputs built by hand from the rules table give the doc's three example messages.

    Loss 1.9 (so l0 = 1.9, MAD 0) and gradient norm 0.534 at every update, except:
    update 9's loss 25 > 1.9 + max(1 * 1.9, 0, 0.1 * 1.9) = 3.8, x13.2 the median;
    update 36's norm 12.62 > 0.534 + max(2 * 0.534, 0, 0.5 * 0.534), x23.6;
    update 71's loss NaN. The CSV header is the comment's column list; the JSON is strict.
    """
    losses = [1.9] * 72
    losses[9], losses[71] = 25.0, math.nan
    norms = [0.534] * 72
    norms[36] = 12.62

    def train_step(batch: int) -> tuple[torch.Tensor, float]:
        return torch.tensor(losses[batch], dtype=torch.float64), norms[batch]

    opt = torch.optim.SGD(Tiny().parameters(), lr=0.1)
    code = _example("monitor_loop")
    code = _adapt(code, "loss = ...", "loss, norm = train_step(batch)")
    monkeypatch.chdir(tmp_path)
    _run("monitor_loop", code, {"data": range(72), "train_step": train_step, "opt": opt})
    assert capsys.readouterr().out.splitlines() == _stated_messages()

    columns = re.search(r'to_csv\("history\.csv"\)\s+# (.*)', code)
    assert columns is not None
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    assert header.split(",") == columns[1].split(", ")

    def no_constant(name: str) -> object:
        raise AssertionError(f"history.json is not strict JSON: {name}")

    data = json.loads((tmp_path / "history.json").read_text(), parse_constant=no_constant)
    assert data["history"]["loss"][71] == "nan"


def test_monitor_guard_holds_slows_and_stretches() -> None:
    """The table, per update: hold after a spike, 10 updates at 0.5, stretch S = 2 after a NaN.

    auto(0.98) warms up over round(2 / 0.02) = 100 updates: at clock c the lr is
    0.1 * (c + 1) / 100. Batch 12 spikes (x = 1 against 0.1: loss x100): update 12 is taken at
    c = 12 and the clock holds; updates 13-22 move it by 0.5, then by 1 again. Batch 28 is NaN:
    restored, no update, S = 2, so the next update moves the clock by 1 / 2.
    """
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    used = _record_lrs(opt)
    data = _batches(32)
    data[12] = torch.ones(3)
    data[28] = torch.full((3,), math.nan)
    restored: list[object] = []
    checkpoint = object()
    ns: dict[str, Any] = {
        "T": 1000,
        "opt": opt,
        "model": model,
        "data": data,
        "restore_model_and_optimizer": restored.append,
        "last_good_checkpoint": checkpoint,
    }
    ns = _run("monitor_guard", _example("monitor_guard"), ns)
    assert restored == [checkpoint]
    clocks = [float(c) for c in range(13)]  # updates 0-12
    clocks += [12 + 0.5 * k for k in range(11)]  # 13 holds at 12; 14-23 after 0.5 steps
    clocks += [18.0, 19.0, 20.0, 21.0, 22.0]  # updates 24-28 (batch 29 is update 28)
    clocks += [22.5, 23.0]  # S = 2
    assert len(used) == 31  # 32 batches, one NaN
    assert _first(used) == pytest.approx([0.1 * (c + 1) / 100 for c in clocks], rel=1e-12)
    guard = ns["guard"]
    assert (guard.holds, guard.slowed) == (1, 10 + 3)  # the three 1/S moves count as slowed


def test_monitor_rewind_goes_back_to_the_snapshot_and_slows_the_warmup() -> None:
    """48 batches, batch 20 NaN; tensors are read at observations 15, 31 and 47 (one read each).

    Snapshots: the start, then update 16 (after the first read). The read at 31 finds the NaN:
    rewind to update 16, clock 16, S = 2 (auto(0.98): W = 100). Batches 32-47 move the clock by
    1/2 each: 16 + 16 / 2 = 24; 47 updates taken (batch 31 is not one); a snapshot again at 47.
    """
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    data = _batches(48)
    data[20] = torch.full((3,), math.nan)
    ns: dict[str, Any] = {"T": 1000, "opt": opt, "model": model, "data": data}
    ns = _run("monitor_rewind", _example("monitor_rewind"), ns)
    guard, sched, rewinder = ns["guard"], ns["sched"], ns["rewinder"]
    assert (rewinder.rewinds, rewinder.snapshots, guard.host_reads) == (1, 3, 3)
    assert guard.snapshot == (47, 24.0, 47)
    assert (sched.clock, sched.last_epoch, guard.factor) == (24.0, 47, 2.0)
    assert torch.isfinite(model.w).all()


# -- docs/probe.md -----------------------------------------------------------------------------
def test_probe_example_derives_its_warmup_by_the_rule_and_leaves_the_model() -> None:
    """SGD at peak 8 over 1000 updates: 22 trials (floor(30 / (4/3))), start = eta_c / 16.

    The start is shown to 4 digits, W' = ceil(250 (1 - start)); the printed output has the doc's
    lines; the model is the freshly seeded one (the probe put it back); the scheduler starts at
    8 * start.
    """
    out = io.StringIO()
    ns = _run("probe_loop", _example("probe_loop"), {"print": lambda *a: print(*a, file=out)})
    r, model = ns["result"], ns["model"]
    assert len(r.trials) == 22
    assert r.cost == pytest.approx(22 * 4 / 3)
    assert r.cost <= 30
    start = float(f"{0.5 * r.critical_lr / 8.0:.4g}")
    assert r.start == start
    assert r.warmup_steps == math.ceil(250 * (1 - start) - 1e-9)
    assert r.spec == f"linear({r.warmup_steps}, start={start!r}) >> cosine"
    assert r.critical_lr <= r.unstable_lr <= r.critical_lr * 1.01
    text = out.getvalue()
    doc = (DOCS / "probe.md").read_text()
    for line in ("- the peak 8: the optimizer's lr", "without a beta2 the rule's length is 0.25"):
        assert line in text
        assert line in doc
    torch.manual_seed(0)
    fresh = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 5))
    for a, b in zip(model.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b)
    assert ns["optimizer"].param_groups[0]["lr"] == pytest.approx(8.0 * start)


LIGHTNING_HINTS = (
    "ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning",
    "ignore:.*does not have many workers:UserWarning",
)


@pytest.mark.training  # a real (short) Lightning run
@pytest.mark.filterwarnings(LIGHTNING_HINTS[0])
@pytest.mark.filterwarnings(LIGHTNING_HINTS[1])
def test_monitor_callback_probe_runs_once_at_the_configured_peak(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One result, for a run of 60 updates at the optimizer's 0.02 (not linear(10)'s 0.002)."""
    import lightning  # noqa: PLC0415  # only this test trains with Lightning

    class Module(lightning.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            return torch.nn.functional.mse_loss(self.lin(x), y)

        def configure_optimizers(self) -> Any:
            opt = torch.optim.SGD(self.parameters(), lr=0.02)
            sched = rampup.torch.Scheduler(opt, "linear(10) >> cosine", total_steps=60)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    torch.manual_seed(0)
    x = torch.randn(480, 4)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    code = _adapt(
        _example("monitor_callback_probe"),
        "max_steps=2000",
        "max_steps=60, logger=False, enable_checkpointing=False, enable_progress_bar=False, "
        "enable_model_summary=False, accelerator='cpu', devices=1",
    )
    ns: dict[str, Any] = {"module": Module(), "loader": torch.utils.data.DataLoader(data, 8)}
    ns = _run("monitor_callback_probe", code, ns)
    (result,) = ns["results"]
    assert result is ns["callback"].probe_result
    assert (result.peak_lr, result.total_steps, ns["trainer"].global_step) == (0.02, 60, 60)
    rampup.parse(result.spec)
    printed = capsys.readouterr().out
    assert f"critical lr {result.critical_lr:.4g}" in printed
    assert "peak 0.02 " in printed
    assert printed.splitlines()[0].endswith(result.spec)


# -- docs/lab.md -------------------------------------------------------------------------------
def test_lab_python_example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The run is a real markov-postln run of the "linear" strategy (cut to 20 updates here).

    linear(10%) >> cosine over 20 updates: W = 2, lr 1e-2 * (t + 1) / 2, then 1e-2 times the
    cosine over 18 updates. The grid is 1 task x 2 strategies x 1 lr x 3 seeds.
    """
    from rampup.lab import runner, train  # noqa: PLC0415  # torch-heavy: imported on use

    real_run = train.run
    runs: list[train.RunConfig] = []
    grids: list[tuple[Any, Path, int]] = []

    def short_run(config: train.RunConfig) -> dict[str, Any]:
        runs.append(config)
        return real_run(dataclasses.replace(config, steps=20))

    def record_grid(grid: Any, out: Path, *, workers: int) -> tuple[list[dict[str, Any]], int]:
        grids.append((grid, out, workers))
        return [], 0

    monkeypatch.setattr(train, "run", short_run)
    monkeypatch.setattr(runner, "run_grid", record_grid)
    monkeypatch.chdir(tmp_path)
    ns = _run("lab_python", _example("lab_python"), {"__name__": "__main__"})
    assert runs == [train.RunConfig("markov-postln", "linear", 1e-2, seed=0)]
    record = ns["record"]
    hand = [1e-2 * (t + 1) / 2 if t < 2 else 1e-2 * _decay(t, 2, 18) for t in range(20)]
    steps, lrs = zip(*record["lr_curve"], strict=True)
    assert list(steps) == list(range(20))
    assert list(lrs) == pytest.approx(hand, rel=1e-12, abs=1e-18)
    assert not record["diverged"]

    ((grid, out, workers),) = grids
    assert (out, workers) == (Path("runs/markov"), 2)
    keys = [c.key() for c in grid.cells]
    assert keys == [
        f"markov-postln|{s}|0.01|{seed}|None"
        for s in ("none", "linear(5%) >> cosine")
        for seed in (0, 1, 2)
    ]
    assert (ns["new_records"], ns["already_done"]) == ([], 0)


def test_lab_docs_state_the_cpu_path_and_cite_no_issue_numbers() -> None:
    """lab.md and results.md promise exactness only on the same CPU path and give the spread."""
    lab, res = ((DOCS / name).read_text(encoding="utf-8") for name in ("lab.md", "results.md"))
    assert "reproduce every number below exactly, on the same\nCPU path" in res
    assert "## Across CPUs: the spread to expect" in res
    assert "## Reproducibility across CPUs" in lab
    for text in (lab, res):
        assert not re.search(r"issue #\d", text)
        assert "seeds'" not in text


def test_lab_task_example_is_the_examples_file_and_a_valid_task() -> None:
    """docs/lab.md's own task is examples/lab_task.py (below its docstring), and it is sound.

    Run as written, the block defines a rampup.lab.Task that passes the grid's check (one
    forward pass and one evaluation of seed 0: finite loss, float score) and whose batches are
    random access: batch(seed, step) is the same whenever it is read.
    """
    from rampup.lab.train import check_task  # noqa: PLC0415

    code = _example("lab_task")
    source = (DOCS.parent / "examples" / "lab_task.py").read_text()
    assert source.endswith(code)
    assert source[: -len(code)].rstrip().endswith('"""')  # only the docstring is left out
    ns = _run("lab_task", code, {"__name__": "docs_example"})
    task = ns["task"]
    assert isinstance(task, rampup.lab.Task)
    check_task(task, name="docs_example.py:task")
    x1, y1 = task.batch(2, 7)
    task.batch(2, 0)
    x2, y2 = task.batch(2, 7)
    assert torch.equal(x1, x2)
    assert torch.equal(y1, y2)
    assert task.steps == 300
    assert task.beta2 == 0.98
