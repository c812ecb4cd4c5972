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
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "RECORD_KEYS",
    "REQUIRED_KEYS",
    "RESULTS_NAME",
    "UNKNOWN_PLATFORM",
    "append",
    "encode",
    "finished_keys",
    "platform_line",
    "read",
]

#: The results file inside a lab folder.
RESULTS_NAME = "results.jsonl"

#: Keys every record has (the JSON schema of one line, checked by the tests).
RECORD_KEYS = frozenset(
    {
        "key", "config", "task", "spec", "curve", "lr_curve", "final", "diverged", "reason",
        "wall_time", "versions", "platform", "engine",
    }
)  # fmt: skip

#: Keys a line must have to be read as a record: records written before ``platform`` (or
#: ``engine``) was recorded still load, with :data:`UNKNOWN_PLATFORM` (and ``"process"``).
REQUIRED_KEYS = RECORD_KEYS - {"platform", "engine"}

#: The ``platform`` of a record that did not record one.
UNKNOWN_PLATFORM: dict[str, Any] = {
    "cpu_capability": "unknown",
    "torch_threads": None,
    "cpu_model": "unknown",
}


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
    """The complete records of ``path`` in file order (torn or foreign lines are skipped).

    A record without ``platform`` (written by an older rampup) gets :data:`UNKNOWN_PLATFORM`;
    one without ``engine`` (older: there was one engine) gets ``"process"``.
    """
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
            if isinstance(rec, dict) and rec.keys() >= REQUIRED_KEYS:
                if not isinstance(rec.get("platform"), dict):
                    rec["platform"] = dict(UNKNOWN_PLATFORM)
                rec.setdefault("engine", "process")
                yield rec


def finished_keys(path: Path) -> set[str]:
    """The cell keys already in ``path``: a resumed grid skips them."""
    return {rec["key"] for rec in read(path)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _where(rec: dict[str, Any]) -> str:
    """One record's CPU path, e.g. ``torch 2.13.0, CPU capability AVX2 (AMD EPYC), 1 thread``."""
    plat = rec.get("platform")
    plat = {**UNKNOWN_PLATFORM, **(plat if isinstance(plat, dict) else {})}
    versions = rec.get("versions")
    torch = versions.get("torch", "unknown") if isinstance(versions, dict) else "unknown"
    threads = plat["torch_threads"]
    text = f"torch {torch}, CPU capability {plat['cpu_capability']}"
    if plat["cpu_model"] != "unknown":
        text += f" ({plat['cpu_model']})"
    if isinstance(threads, int):
        text += f", {_plural(threads, 'torch thread')} per run"
    return text


def platform_line(records: Iterable[dict[str, Any]]) -> str:
    """Where the runs ran, for a report: torch version, CPU capability, threads, run counts.

    Float kernels differ between CPU capabilities (AVX-512, AVX2, default), so the same command
    reproduces a number exactly only on the same CPU path. One entry per distinct path, e.g.
    ``torch 2.13.0, CPU capability AVX2 (AMD EPYC), 1 torch thread per run (12 runs)``; records
    written before the platform was recorded say ``CPU capability unknown``.
    """
    counts = Counter(_where(rec) for rec in records)
    return "; ".join(f"{where} ({_plural(n, 'run')})" for where, n in counts.items())
