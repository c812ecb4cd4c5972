"""The package itself: public surface, metadata, and importing without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

import rampup
import rampup.adaptive


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


def test_dir_shows_only_the_public_names() -> None:
    """dir(rampup) is __all__: no typing helper, import helper, version function or submodule."""
    assert dir(rampup) == sorted(rampup.__all__)
    for leak in ("Any", "TYPE_CHECKING", "import_module", "version", "annotations", "shapes"):
        assert leak not in dir(rampup), leak
    for helper in ("Any", "TYPE_CHECKING", "import_module", "version", "PackageNotFoundError"):
        assert not hasattr(rampup, helper), helper


def test_import_loads_no_tool() -> None:
    """`import rampup` loads the core only; rampup.Monitor and the others load their tool on use."""
    code = textwrap.dedent(
        """
        import sys
        import rampup
        tools = ("monitor", "adaptive", "guard", "plotting", "rules", "cli", "lab", "advice",
                 "callbacks")
        def loaded():
            return sorted(m for m in sys.modules if m.split(".")[:2][-1] in tools
                          and m.startswith("rampup."))
        assert loaded() == [], loaded()
        s = rampup.parse("auto(0.98) >> cosine").bind(total_steps=400)
        assert s(0) == 0.01 and loaded() == [], loaded()
        assert rampup.Monitor.__module__ == "rampup.guard.monitor"
        assert rampup.AdaptiveWarmup.__module__ == "rampup.guard.adaptive"
        assert callable(rampup.suggest) and callable(rampup.plot)
        assert "rampup.guard.monitor" in sys.modules and "rampup.guard.adaptive" in sys.modules
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A name that is neither public nor a lazy tool raises AttributeError (hasattr works)."""
    with pytest.raises(AttributeError, match="no_such_name"):
        rampup.no_such_name  # noqa: B018  # the access is the test
    assert not hasattr(rampup, "no_such_name")


def test_rampup_error_invalid_is_the_house_wording() -> None:
    """RampupError.invalid(func, param, value, expected) words the error as every check does."""
    err = rampup.RampupError.invalid("lab run", "seed", -1, "an int >= 0")
    assert type(err) is rampup.RampupError
    assert isinstance(err, ValueError)
    assert str(err) == "lab run(): seed=-1 is invalid: expected an int >= 0"
    restore = rampup.adaptive.RestoreRequired.invalid("f", "p", "x", "y")
    assert type(restore) is rampup.adaptive.RestoreRequired
    assert str(restore) == "f(): p='x' is invalid: expected y"
