"""The README's Python examples run as written, and the values their comments state are right.

Each ```python block of README.md is executed in a namespace that supplies only what the block
leaves to the reader (an optimizer, a loader, a model); the comments' numbers are derived by hand
from docs/conventions.md, not read back from rampup.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported: no TensorFlow here

import pytest
import torch

from doc_code import Tiny, one_block, python_blocks, run_block

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return python_blocks(README)


def _run(code: str, namespace: dict[str, Any]) -> dict[str, Any]:
    return run_block(code, README, namespace)


def _block(*needles: str) -> str:
    """The one block that contains every needle (the README may reorder its sections)."""
    return one_block(README, needles)


def test_the_readme_has_the_examples_this_file_runs() -> None:
    """Every Python block of the README is one of those tested below."""
    tested = [
        ("rampup.parse(", "s.values("),
        ("scheduler = rampup.torch.Scheduler(",),
        ("AdaptiveWarmup.for_schedule",),
        ("rampup.optax.schedule",),
        ("rampup.keras.Schedule",),
    ]
    blocks = _blocks()
    assert len(blocks) == len(tested)
    for needles in tested:
        _block(*needles)


def test_first_example_values_match_its_comments() -> None:
    """linear(5%) over 10,000 steps is a 500-step warmup: s(t) = (t + 1) / 500 up to the peak.

    Every line ``expr  # value ...`` of the block is checked: the value in the comment must be what
    the hand-derived formula gives, and what the expression gives.
    """
    code = _block("rampup.parse(", "s.values(")
    ns = _run(code, {})
    hand = {  # conventions.md: warmup (t + 1)/W; the decay starts at 1, ends at to after the run
        "s(0)": 1 / 500,
        "s(499)": 1.0,
        "s(500)": 1.0,
        "s(10_000)": 0.01,
        "str(s)": "bind(linear(5%) >> cosine(to=0.01), total_steps=10000)",
    }
    checked = 0
    for line in code.splitlines():
        m = re.match(r"^(\S.*?)\s+#\s+('[^']*'|\S+)", line)
        if m is None or m.group(1) not in hand:
            continue
        expr, stated = m.groups()
        want = hand[expr]
        said = ast.literal_eval(stated)
        assert said == want, f"README comment for {expr} says {stated}"
        got = _run(f"_value = {expr}", ns)["_value"]
        assert got == pytest.approx(want, rel=1e-15) if isinstance(want, float) else got == want
        checked += 1
    assert checked == len(hand)
    assert len(ns["s"].values(range(10_000))) == 10_000


def test_pytorch_example_steps_the_documented_schedule() -> None:
    """Five updates of the PyTorch example: update t used lr 0.1 * (t + 1) / 500."""
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    used: list[float] = []
    optimizer.register_step_pre_hook(lambda opt, a, k: used.append(opt.param_groups[0]["lr"]))
    loader = [torch.randn(3) for _ in range(5)]
    ns = {"optimizer": optimizer, "loader": loader}
    _run(_block("scheduler = rampup.torch.Scheduler("), ns)
    assert used == pytest.approx([0.1 * (t + 1) / 500 for t in range(5)], rel=1e-15)


@pytest.mark.training  # the guard's clock moves on the losses of a (tiny) training run
def test_guard_example_restores_a_nan_update_at_the_schedules_lr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard loop: a NaN loss is restored and skipped; every update runs at the guard's lr.

    auto(0.999) warms up over the untuned length 2 / (1 - 0.999) = 2000 updates: at clock c the
    lr is 0.1 * (c + 1) / 2000. docs/monitor.md's table: a stable update moves the clock by 1/S;
    a NaN doubles the stretch S (1 -> 2) and moves it by 0. Batches 0-2 use c = 0, 1, 2; batch 3
    is NaN (no update); batch 4 uses c = 3 and moves it by 1/2, so batch 5 uses c = 3.5. The
    restore brings back the step-0 checkpoint, whose lr is c = 0's: the update after it must
    still run at c = 3 (regression: it ran at the checkpoint's stale lr).
    """
    import rampup  # noqa: PLC0415  # the block uses the name; it imports rampup.torch itself
    import rampup.torch  # noqa: PLC0415

    monkeypatch.chdir(tmp_path)  # the block writes last_good.pt
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    used: list[float] = []
    optimizer.register_step_pre_hook(lambda opt, a, k: used.append(opt.param_groups[0]["lr"]))
    loader = [torch.full((3,), 0.1) for _ in range(6)]
    loader[3] = torch.full((3,), float("nan"))
    ns = {"rampup": rampup, "torch": torch, "optimizer": optimizer, "loader": loader}
    ns = _run(_block("AdaptiveWarmup.for_schedule"), {**ns, "model": model})
    assert len(used) == 5  # the NaN batch never stepped
    assert used == pytest.approx([0.1 * (c + 1) / 2000 for c in (0, 1, 2, 3, 3.5)], rel=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_good.pt"]
    assert torch.load("last_good.pt", weights_only=True)["optimizer"]["param_groups"][0][
        "lr"
    ] == pytest.approx(0.1 / 2000, rel=1e-15)  # the step-0 checkpoint: a stale lr to restore


def test_optax_example_builds_the_optimizer() -> None:
    """optax: AdamW's first update is lr(0) = 3e-4 / 500 per unit gradient.

    With zero parameters (no weight decay term) and gradient 1, Adam's bias-corrected first
    update is -lr * g / (|g| + eps), i.e. -lr(0) to float32 precision.
    """
    jnp = pytest.importorskip("jax.numpy")
    pytest.importorskip("optax")
    ns = _run(_block("rampup.optax.schedule"), {})
    params = {"w": jnp.zeros(2)}
    opt = ns["optimizer"]
    updates, _ = opt.update({"w": jnp.ones(2)}, opt.init(params), params)
    assert [float(u) for u in updates["w"]] == pytest.approx([-3e-4 / 500] * 2, rel=2e-5)  # float32
    assert float(ns["lr"](499)) == pytest.approx(3e-4, rel=1e-6)


def _keras_block_in_a_process(backend: str) -> subprocess.CompletedProcess[str]:
    """The README's Keras block, as written, in a fresh process with KERAS_BACKEND=backend.

    Only the model, which the block leaves to the reader, is added: defined just before the
    block's first line that uses it. Afterwards the process prints lr(0), lr(499) and whether
    the model was compiled with an optimizer.
    """
    lines = _block("rampup.keras.Schedule").splitlines()
    first_use = next(i for i, line in enumerate(lines) if line.startswith("model."))
    model = "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])"
    code = "\n".join(
        [
            *lines[:first_use],
            model,
            *lines[first_use:],
            "print(float(lr(0)), float(lr(499)), model.optimizer is not None)",
        ]
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KERAS_BACKEND": backend},
        timeout=120,
    )


def test_keras_example_runs_with_the_backend_set() -> None:
    """KERAS_BACKEND=torch, as the README says: lr(0) = 3e-4 / 500, lr(499) = 3e-4, compiled."""
    pytest.importorskip("keras")
    out = _keras_block_in_a_process("torch")
    assert out.returncode == 0, out.stderr
    first, peak, compiled = out.stdout.split()
    assert float(first) == pytest.approx(3e-4 / 500, rel=1e-6)  # float32
    assert float(peak) == pytest.approx(3e-4, rel=1e-6)
    assert compiled == "True"


def test_keras_example_without_its_backend_says_what_to_do() -> None:
    """KERAS_BACKEND=tensorflow with no TensorFlow: the error names the cause and KERAS_BACKEND."""
    pytest.importorskip("keras")
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed here")
    out = _keras_block_in_a_process("tensorflow")
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: rampup.keras needs Keras 3 and its backend, 'tensorflow'")
    assert "set KERAS_BACKEND=torch|jax|tensorflow" in last
    assert last.endswith("(No module named 'tensorflow')")
    assert "KERAS_BACKEND" in " ".join(README.read_text().split())
