"""Placeholder for the demo; replaced below."""

from __future__ import annotations


def run_demo() -> int:
    """Run the demo."""
    return 0
