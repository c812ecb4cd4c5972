"""The package itself: public surface, metadata, and importing without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import rampup


def test_all_is_sorted_and_complete() -> None:
    """rampup.__all__ is sorted and every name in it exists."""
    assert list(rampup.__all__) == sorted(rampup.__all__)
    for name in rampup.__all__:
        assert hasattr(rampup, name), name


def test_version_comes_from_package_metadata() -> None:
    """__version__ is the installed distribution's version, not a second copy."""
    assert rampup.__version__ == version("rampup")


def test_package_is_typed() -> None:
    """The package ships py.typed so type checkers use its hints."""
    assert (Path(rampup.__file__).parent / "py.typed").is_file()


def test_import_works_without_torch() -> None:
    """`import rampup` and evaluating a schedule never import torch, jax or keras."""
    code = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"torch", "jax", "keras", "tensorflow", "matplotlib"}:
                    raise ImportError(f"{name} is blocked in this test")
                return None
        sys.meta_path.insert(0, Block())
        import rampup
        s = rampup.parse("linear(5%) >> cosine(to=0.01)").bind(total_steps=100)
        assert s(0) == 0.2 and s(4) == 1.0, (s(0), s(4))
        assert not any(m.split(".")[0] in {"torch", "jax", "keras"} for m in sys.modules)
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_demo_prints_the_seed_schedules() -> None:
    """`rampup demo --schedules` prints both tables of classic recipes (1e-4 at iteration 100)."""
    out = subprocess.run(
        [sys.executable, "-m", "rampup", "demo", "--schedules"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    row_99 = next(line for line in lines if line.split()[:1] == ["99"])
    # Update 99 is the classic loop's iteration 100: (99 + 1) / 1000 * 1e-3 = 1e-4.
    assert row_99.split()[1] == "1.0000e-04"
    assert "noam(d_model=128" in out.stdout
