"""Run a grid of task x strategy x peak lr x seed on a backend, appending results as they finish.

Backends: ``local`` (a process pool, one torch thread per worker, spawned processes; with one
worker the jobs run in the calling process) and ``ray``
(each job a Ray task with one CPU; ``address=None`` starts a local Ray instance with ``workers``
CPUs). Engines (:mod:`rampup.lab.engines`): ``batched`` (the default) makes a job of each stack
of cells that train as one stacked model (:func:`rampup.lab.engines.run_stack`), ``process`` a
job of each cell (:func:`rampup.lab.train.run`); a task whose model cannot be stacked runs on
the process engine either way. Every backend runs the same code, so the same seed gives the same
numbers. The grid is validated before anything runs: every bad input is a
:class:`~rampup.RampupError`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rampup import RampupError
from rampup.lab import results
from rampup.lab.engines import DEFAULT_ENGINE, Job, check_engine, plan_jobs, run_stack
from rampup.lab.loading import is_builtin, load_task
from rampup.lab.strategies import not_applicable, resolve
from rampup.lab.train import RunConfig, check_lr, check_task, run

__all__ = ["BACKENDS", "Grid", "check_backend", "make_grid", "run_grid"]

BACKENDS = ("local", "ray")

#: ``on_event(kind, config, payload)``: "start", "step" (payload (step, total)), "done" (record).
Events = Callable[[str, RunConfig, Any], None]


@dataclass(frozen=True)
class Grid:
    """The cells of a grid, and the (task, strategy) pairs left out as not applicable."""

    cells: tuple[RunConfig, ...]
    skipped: tuple[tuple[str, str, str], ...]  # (task, strategy, why)


def make_grid(
    tasks: Sequence[str],
    strategies: Sequence[str],
    lrs: Sequence[float],
    seeds: Sequence[int],
    *,
    steps: int | None = None,
    func: str = "lab run",
) -> Grid:
    """Validate the options and list the grid's cells (task-major, seed-minor order).

    A task is a built-in name or a reference to a user's task (``module:name``,
    ``path/to/file.py:name``: :func:`rampup.lab.loading.load_task`); a user's task is checked
    by one forward pass and one evaluation of seed 0 (:func:`rampup.lab.train.check_task`)
    before anything runs. The cells carry the reference string, which every worker loads again.
    """
    for name, values in (("tasks", tasks), ("strategies", strategies), ("lrs", lrs)):
        if not values:
            raise RampupError.invalid(func, name, list(values), "at least one value")
    if not seeds:
        raise RampupError.invalid(func, "seeds", list(seeds), "at least one seed")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise RampupError.invalid(func, "seeds", s, "non-negative integers")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise RampupError.invalid(func, "steps", steps, "a positive number of updates")
    lr_values = [check_lr(lr, func=func) for lr in lrs]
    task_objs = [(ref, load_task(ref, func=func)) for ref in tasks]
    for ref, task in task_objs:
        if not is_builtin(ref):
            check_task(task, name=ref, func=func)
    cells: list[RunConfig] = []
    skipped: list[tuple[str, str, str]] = []
    for ref, task in task_objs:
        n = steps if steps is not None else task.steps
        for strat in strategies:
            why = not_applicable(strat, task, n)
            if why is not None:
                skipped.append((ref, strat, why))
                continue
            resolve(strat, task, n, func=func)
            cells.extend(
                RunConfig(ref, strat, lr, seed, steps) for lr in lr_values for seed in seeds
            )
    if not cells:
        raise RampupError.invalid(
            func, "strategies", list(strategies), "at least one that applies to the tasks"
        )
    return Grid(tuple(cells), tuple(skipped))


# -- workers -----------------------------------------------------------------------------------
_QUEUE: Any = None


def _init_worker(queue: Any) -> None:
    """Pool initializer: one torch thread per worker, and the progress queue."""
    global _QUEUE  # noqa: PLW0603  # one queue per worker process
    _QUEUE = queue
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch  # noqa: PLC0415

    torch.set_num_threads(1)


def _work(job: Job) -> list[dict[str, Any]]:
    """One job in a pool worker: a stack on the batched engine, or one process-engine run."""
    if job.engine == "batched":
        return run_stack(job.cells)
    queue = _QUEUE
    every = 5
    (config,) = job.cells

    def progress(step: int, total: int) -> None:
        if queue is not None and (step % every == 0 or step == total):
            queue.put((config.key(), step, total))

    return [run(config, progress)]


def _drain(queue: Any, by_key: dict[str, RunConfig], on_event: Events | None) -> None:
    import queue as queue_mod  # noqa: PLC0415

    while True:
        try:
            key, step, total = queue.get_nowait()
        except queue_mod.Empty:
            return
        if on_event is not None and key in by_key:
            on_event("step", by_key[key], (step, total))


def _started(job: Job, on_event: Events | None) -> None:
    if on_event is not None:
        for cfg in job.cells:
            on_event("start", cfg, None)


def _finished(
    job: Job, records: list[dict[str, Any]], out: Path, done: list[dict[str, Any]],
    on_event: Events | None,
) -> None:  # fmt: skip
    for cfg, record in zip(job.cells, records, strict=True):
        results.append(out, record)
        done.append(record)
        if on_event is not None:
            on_event("done", cfg, record)


def _run_serial(jobs: Sequence[Job], out: Path, on_event: Events | None) -> list[dict[str, Any]]:
    """One worker: the jobs in this process, one after the other (no pool to start)."""
    done: list[dict[str, Any]] = []
    for job in jobs:
        _started(job, on_event)
        if job.engine == "batched":
            records = run_stack(job.cells)
        else:
            (cfg,) = job.cells

            def progress(step: int, total: int, cfg: RunConfig = cfg) -> None:
                if on_event is not None:
                    on_event("step", cfg, (step, total))

            records = [run(cfg, progress)]
        _finished(job, records, out, done, on_event)
    return done


def _run_local(
    jobs: Sequence[Job], workers: int, out: Path, on_event: Events | None
) -> list[dict[str, Any]]:
    if workers == 1:
        return _run_serial(jobs, out, on_event)
    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    queue = manager.Queue()
    by_key = {c.key(): c for job in jobs for c in job.cells}
    done: list[dict[str, Any]] = []
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(queue,)
        ) as pool:
            pending: dict[Future[list[dict[str, Any]]], Job] = {}
            todo = list(jobs)
            while todo or pending:
                while todo and len(pending) < workers:
                    job = todo.pop(0)
                    pending[pool.submit(_work, job)] = job
                    _started(job, on_event)
                finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(queue, by_key, on_event)
                for fut in finished:
                    _finished(pending.pop(fut), fut.result(), out, done, on_event)
    finally:
        manager.shutdown()
    return done


def _run_ray(
    jobs: Sequence[Job],
    workers: int,
    out: Path,
    on_event: Events | None,
    address: str | None,
) -> list[dict[str, Any]]:
    try:
        import ray  # noqa: PLC0415
    except ImportError:
        raise RampupError.invalid(
            "lab run", "backend", "ray", "Ray installed (pip install rampup[ray])"
        ) from None
    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            try:
                ray.init(address=address, log_to_driver=False)
            except Exception as exc:  # Ray's errors for a cluster it cannot join vary
                said = str(exc).strip().splitlines()
                raise RampupError.invalid(
                    "lab run",
                    "address",
                    address,
                    "the address of a running Ray cluster that accepts this client "
                    f"(Ray: {type(exc).__name__}: {said[0] if said else 'no message'})",
                ) from None
        started = True
    remote = ray.remote(num_cpus=1)(_ray_task)
    done: list[dict[str, Any]] = []
    try:
        refs = {}
        base = os.getcwd()  # where relative task files (and modules) are found, as here
        for job in jobs:
            refs[remote.remote(job, base)] = job
            _started(job, on_event)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                _finished(refs[ref], ray.get(ref), out, done, on_event)
    finally:
        if started:
            ray.shutdown()
    return done


def _ray_task(job: Job, base: str) -> list[dict[str, Any]]:
    """One Ray task: the same job as the local backend, one torch thread.

    The task is loaded here from its reference, a relative file path (or a module) looked up in
    ``base``, the driver's working directory: on another machine the same path must hold it.
    """
    import torch  # noqa: PLC0415

    torch.set_num_threads(1)
    if job.engine == "batched":
        return run_stack(job.cells, base)
    (config,) = job.cells
    load_task(config.task, func="run", base=base)
    return [run(config)]


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def check_backend(workers: object, backend: object, *, func: str = "lab run") -> None:
    """Check the ``workers`` count and the ``backend`` name."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise RampupError.invalid(func, "workers", workers, "a positive number of worker processes")
    if backend not in BACKENDS:
        raise RampupError.invalid(func, "backend", backend, "one of " + ", ".join(BACKENDS))


def run_grid(
    grid: Grid,
    out: Path,
    *,
    workers: int = 2,
    backend: str = "local",
    address: str | None = None,
    on_event: Events | None = None,
    engine: str = DEFAULT_ENGINE,
    log: Callable[[str], None] | None = _stderr,
) -> tuple[list[dict[str, Any]], int]:
    """Run the cells of ``grid`` not yet in ``out/results.jsonl``; return (new records, skipped).

    ``engine``: ``batched`` (stacks where the task's model allows, else the process engine) or
    ``process``; ``log`` gets one line per (task, optimiser) group saying which engine runs it
    (default: stderr; None: silent). Records are appended as each job finishes (in completion
    order); each says its ``"engine"``.
    """
    check_backend(workers, backend)
    engine = check_engine(engine)
    path = out / results.RESULTS_NAME
    have = results.finished_keys(path)
    todo = [c for c in grid.cells if c.key() not in have]
    n_skip = len(grid.cells) - len(todo)
    if not todo:
        return [], n_skip
    jobs = plan_jobs(todo, engine, workers, log)
    if backend == "ray":
        return _run_ray(jobs, workers, path, on_event, address), n_skip
    return _run_local(jobs, min(workers, len(jobs)), path, on_event), n_skip
