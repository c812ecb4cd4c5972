"""Finding a task from its reference: a built-in name, ``module:name`` or ``path/to/file.py:name``.

The reference string is what a grid's cells, its workers and its results records carry: each
process (a spawned pool worker, a Ray worker) loads the task again from it, so nothing but a
string crosses a process boundary.

- a built-in name (``markov-postln``, see ``rampup lab tasks``);
- ``module:name``: ``import module`` (the working directory is added at the end of the import
  path), then its attribute ``name``;
- ``path/to/file.py:name``: the file imported by its path (relative to the working directory),
  then its attribute ``name``.

The attribute is a :class:`rampup.lab.Task` or a function of no arguments returning one (called
once per process). Each reference loads once per process. Every way a reference can be wrong (no
such module or file, no such attribute, not a Task, an import that fails) is a
:class:`~rampup.RampupError` naming the reference.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType

from rampup import RampupError
from rampup.lab.protocol import Task
from rampup.lab.tasks import TASKS

__all__ = ["is_builtin", "load_task"]

_LOADED: dict[str, Task] = {}
_FORMS = "a built-in task (see `rampup lab tasks`), module:name or path/to/file.py:name"


def is_builtin(ref: str) -> bool:
    """Whether ``ref`` names one of the lab's own tasks."""
    return ref in TASKS


def load_task(ref: object, *, func: str = "load_task", base: str | None = None) -> Task:
    """The task ``ref`` refers to (loaded once per process).

    ``base`` is the directory a relative file path, and a module reference, are looked up in
    (default: the working directory); the Ray backend passes the driver's.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise RampupError.invalid(func, "task", ref, _FORMS)
    if ref in TASKS:
        return TASKS[ref]
    if ref not in _LOADED:
        _LOADED[ref] = _load(ref, func, Path(base) if base is not None else Path.cwd())
    return _LOADED[ref]


def _load(ref: str, func: str, base: Path) -> Task:
    where, colon, attr = ref.rpartition(":")
    if not colon or not where or not attr.isidentifier():
        known = ", ".join(TASKS)
        raise RampupError.invalid(
            func, "task", ref, f"{_FORMS}; the built-in tasks are {known}"
        )  # fmt: skip
    module = (
        _import_file(ref, where, base, func) if _is_path(where) else _import(ref, where, base, func)
    )
    if not hasattr(module, attr):
        tasks = [n for n, v in vars(module).items() if isinstance(v, Task)]
        has = f"; it has the Task(s) {', '.join(tasks)}" if tasks else ""
        raise RampupError.invalid(
            func, "task", ref, f"an attribute {attr!r} in {where}: there is none{has}"
        )
    obj = getattr(module, attr)
    if isinstance(obj, Task):
        return obj
    if callable(obj) and not isinstance(obj, type) and _takes_no_arguments(obj):
        made = obj()
        if isinstance(made, Task):
            return made
        raise RampupError.invalid(
            func, "task", ref, f"a function returning a rampup.lab.Task; {attr}() returned a "
            f"{type(made).__name__}",
        )  # fmt: skip
    raise RampupError.invalid(
        func, "task", ref, f"{attr} to be a rampup.lab.Task (or a function of no arguments "
        f"returning one); it is a {type(obj).__name__}",
    )  # fmt: skip


def _is_path(where: str) -> bool:
    return where.endswith(".py") or "/" in where or os.sep in where


def _takes_no_arguments(obj: object) -> bool:
    try:
        sig = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in sig.parameters.values()
    )


def _failed(func: str, ref: str, what: str, exc: BaseException) -> RampupError:
    said = str(exc).strip().splitlines()
    return RampupError.invalid(
        func, "task", ref, f"{what} to import: it raised {type(exc).__name__}: "
        f"{said[0] if said else 'no message'}",
    )  # fmt: skip


def _import(ref: str, name: str, base: Path, func: str) -> ModuleType:
    """``import name``, with ``base`` on the import path (after what is already there)."""
    if str(base) not in sys.path:
        sys.path.append(str(base))
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise RampupError.invalid(
                func, "task", ref, f"an importable module: there is no module {exc.name!r} "
                f"(looked in {base} and on the import path)",
            ) from None  # fmt: skip
        raise _failed(func, ref, f"module {name!r}", exc) from None
    except Exception as exc:  # the user's module failed while importing
        raise _failed(func, ref, f"module {name!r}", exc) from None


def _import_file(ref: str, where: str, base: Path, func: str) -> ModuleType:
    """The Python file ``where`` imported by its path, under a name unique to that path."""
    path = Path(where) if Path(where).is_absolute() else base / where
    if not path.is_file():
        raise RampupError.invalid(
            func, "task", ref, f"an existing Python file: there is no file {path}"
        )
    path = path.resolve()
    name = "rampup_lab_user_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RampupError.invalid(func, "task", ref, f"a Python file importable by path: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the module's own dataclasses and pickles look it up
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file failed while importing
        del sys.modules[name]
        raise _failed(func, ref, f"file {path}", exc) from None
    return module
