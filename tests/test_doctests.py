"""The examples in rampup's docstrings run and print what they say.

Each module's ``>>>`` examples are run with :mod:`doctest`; their expected output is written in
the docstring by hand, from the formula beside it.
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported: no TensorFlow here

import pytest

import rampup

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(rampup.__path__, "rampup.")
    if not info.name.endswith("__main__")  # importing it would run the command line
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_print_what_they_say(name: str) -> None:
    """Every ``>>>`` example of the module gives the output written under it."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"


def test_the_docstrings_have_examples() -> None:
    """The core's public modules carry runnable examples (a guard against losing them)."""
    found = {
        name: doctest.testmod(importlib.import_module(name), report=False).attempted
        for name in (
            "rampup.core.schedule",
            "rampup.core.shapes",
            "rampup.core.recipes",
            "rampup.core.spec",
        )
    }
    assert all(n > 0 for n in found.values()), found
