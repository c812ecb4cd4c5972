"""Atomic checkpoints: ``torch.save`` that never leaves a partial file behind."""

from __future__ import annotations

import contextlib
import os
import secrets

import torch

from rampup import RampupError

__all__ = ["save_atomic"]


def save_atomic(obj: object, path: str | os.PathLike[str]) -> None:
    """``torch.save(obj, path)`` that never leaves a partial file at ``path``.

    ``torch.save`` to a path truncates the file first: a process killed while it writes (a
    ``kill -9``, an out-of-memory kill, a preempted node) leaves a checkpoint that does not load.
    This writes to a temporary file in the same directory (``.<name>.<random>.tmp``), flushes and
    fsyncs it, renames it over ``path`` with ``os.replace`` (atomic on one file system), then
    fsyncs the directory so the rename survives a power loss. At every moment ``path`` holds the
    old file or the new one; a killed process may leave its temporary file beside it. If saving
    raises, the temporary file is removed and ``path`` is untouched.

    >>> import os, tempfile, torch, rampup.torch
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = os.path.join(directory, "ckpt.pt")
    ...     rampup.torch.save_atomic({"step": 3}, path)
    ...     torch.load(path, weights_only=True)
    {'step': 3}
    """
    func = "save_atomic"
    if not isinstance(path, str | os.PathLike) or isinstance(os.fspath(path), bytes):
        raise RampupError.invalid(func, "path", path, "a file path (str or os.PathLike)")
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory) or os.path.isdir(target):
        raise RampupError.invalid(func, "path", path, "a file path in an existing directory")
    name = os.path.basename(target)
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: a fresh file of our own; mode 0o666 under the umask, as torch.save would create
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # the rename is durable once the directory entry is on disk
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
