"""rampup.torch.save_atomic: a checkpoint is never left half-written.

Expected values come from hand-derived formulas (docs/conventions.md), from torch's own
schedulers (OneCycleLR, CosineAnnealingLR, ReduceLROnPlateau), from pytorch_warmup, or from the
pure schedule evaluated independently of the adapter.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import rampup
import rampup.torch as rt
from rampup import RampupError

torch.set_num_threads(1)


# -- atomic checkpoints ---------------------------------------------------------------------------
def test_save_atomic_writes_through_a_temporary_file_in_the_same_directory(
    tmp_path: Path, renames: list[tuple[str, str]]
) -> None:
    """The checkpoint is written beside its target and renamed over it; nothing stays behind."""
    target = tmp_path / "ckpt.pt"
    rt.save_atomic({"w": torch.arange(3.0)}, target)
    [(src, dst)] = renames
    assert Path(src).parent == tmp_path
    assert Path(src).name.startswith(".ckpt.pt.")
    assert Path(dst) == target
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.arange(3.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_save_atomic_keeps_the_old_checkpoint_when_saving_fails(tmp_path: Path) -> None:
    """A save that raises (an object that does not pickle) leaves the old file and no temp file."""
    target = tmp_path / "ckpt.pt"
    rt.save_atomic({"version": 1}, str(target))
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        rt.save_atomic({"version": 2, "fn": lambda: 0}, target)
    assert torch.load(target, weights_only=True) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


KILLED_WRITER = """
import sys, time, torch, rampup.torch
path, mode = sys.argv[1], sys.argv[2]
save = rampup.torch.save_atomic if mode == "atomic" else torch.save
save({"version": 1, "w": torch.arange(1000.0)}, path)

class Slow:  # pickled in the middle of the second save: the parent kills us there
    def __reduce__(self):
        print("writing", flush=True)
        time.sleep(60)
        return (int, (2,))

save({"version": 2, "w": torch.arange(1000.0), "slow": Slow()}, path)
"""


@pytest.mark.parametrize("mode", ["atomic", "plain"])
def test_a_writer_killed_mid_save_leaves_the_previous_checkpoint_readable(
    tmp_path: Path, mode: str
) -> None:
    """Killed mid-save, save_atomic leaves the last checkpoint; torch.save(obj, path) does not."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415

    path = tmp_path / "ckpt.pt"
    env = {**os.environ, "PYTHONPATH": str(Path(rampup.__file__).parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    with child.stdout:
        try:
            assert child.stdout.readline().strip() == "writing"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    if mode == "plain":
        with pytest.raises(Exception):  # noqa: B017, PT011  # EOFError or a zip error
            torch.load(path, weights_only=True)
        return
    loaded = torch.load(path, weights_only=True)
    assert loaded["version"] == 1
    assert torch.equal(loaded["w"], torch.arange(1000.0))


def test_save_atomic_bad_path() -> None:
    """A path that is no path, or in no existing directory, is a RampupError; nothing written."""
    with pytest.raises(RampupError, match=r"save_atomic\(\): path=3 is invalid: expected a file"):
        rt.save_atomic({}, 3)  # type: ignore[arg-type]
    with pytest.raises(RampupError, match=r"path='/no/such/dir/x.pt' is invalid: expected a file"):
        rt.save_atomic({}, "/no/such/dir/x.pt")
