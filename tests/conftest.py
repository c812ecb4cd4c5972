"""Fixtures shared by several test modules."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def renames(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every ``os.replace(src, dst)`` the test makes, in order (each still renames the file)."""
    calls: list[tuple[str, str]] = []
    replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        calls.append((str(src), str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    return calls
