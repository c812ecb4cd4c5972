"""Running the Python examples of a Markdown document: shared by test_readme and test_docs_examples.

A block is found by needles it alone contains (documents may reorder their sections) and run with
``exec`` in a namespace that supplies what the block leaves to the reader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of the Markdown file, in order."""
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.M | re.S)


def one_block(path: Path, needles: tuple[str, ...]) -> str:
    """The one python block of ``path`` that contains every needle."""
    found = [b for b in python_blocks(path) if all(n in b for n in needles)]
    assert len(found) == 1, f"expected one {path.name} block with {needles}, found {len(found)}"
    return found[0]


def run_block(code: str, path: Path, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run ``code`` (a block of ``path``) in ``namespace``; return the namespace."""
    exec(compile(code, str(path), "exec"), namespace)  # noqa: S102  # the document's own example
    return namespace


class Tiny(torch.nn.Module):
    """One weight; a batch x gives the loss (w * x)^2, summed."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The loss of batch ``x``."""
        return ((self.w * x) ** 2).sum()
