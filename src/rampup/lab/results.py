"""Results as JSON lines: one line per finished run, appended atomically, read back tolerantly.

Only the coordinating process writes. Each record is serialised to one line and written with a
single ``os.write`` on a descriptor opened with ``O_APPEND``, then fsynced: an interrupted grid
loses at most the runs in flight, never a finished one. A torn last line (a crash in the middle
of a write, a full disk) is skipped on reading and fenced off by a newline before the next
append, so it cannot corrupt the lines that follow.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["RECORD_KEYS", "RESULTS_NAME", "append", "encode", "finished_keys", "read"]

#: The results file inside a lab folder.
RESULTS_NAME = "results.jsonl"

#: Keys every record has (the JSON schema of one line, checked by the tests).
RECORD_KEYS = frozenset(
    {
        "key", "config", "task", "spec", "curve", "lr_curve", "final", "diverged", "reason",
        "wall_time", "versions",
    }
)  # fmt: skip


def _clean(value: Any) -> Any:
    """NaN and infinities as null: the file stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def encode(record: dict[str, Any]) -> str:
    """``record`` as one line of strict JSON (NaN and infinities as null), newline included."""
    return json.dumps(_clean(record), sort_keys=True, allow_nan=False) + "\n"


def append(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` to the JSON-lines file at ``path`` as one atomic write, then fsync."""
    data = encode(record).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            # a torn last line (no trailing newline) is fenced off, never extended
            with path.open("rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The complete records of ``path`` in file order (torn or foreign lines are skipped)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and rec.keys() >= RECORD_KEYS:
                yield rec


def finished_keys(path: Path) -> set[str]:
    """The cell keys already in ``path``: a resumed grid skips them."""
    return {rec["key"] for rec in read(path)}
