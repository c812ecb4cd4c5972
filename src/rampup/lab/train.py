"""One training run of the lab: a task, a strategy, a peak learning rate, a seed.

Deterministic given the seed: one torch thread, seeded generators, the same code in every backend.
The learning rate of every update is set by ``rampup.torch.Scheduler`` from the strategy's
schedule (``peak_lr`` times the multiplier at the update), as in a user's own loop.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from rampup import RampupError
from rampup.lab.loading import load_task
from rampup.lab.optimizers import build_optimizer, optimizer_kind
from rampup.lab.protocol import (
    Evaluation,
    Task,
    best_level,
    call_model,
    constant_level,
    evaluation,
)
from rampup.lab.strategies import DECAY, Strategy, probed_spec, resolve, schedule

if TYPE_CHECKING:
    import torch
    from torch import nn

    from rampup.core.schedule import Schedule

__all__ = [
    "BLOWUP",
    "RunConfig",
    "Setup",
    "Trace",
    "check_lr",
    "check_task",
    "library_versions",
    "make_record",
    "platform_info",
    "run",
    "setup",
    "verdict",
]

#: A training loss above this many times the constant level (or non-finite) stops the run early.
BLOWUP = 1000.0


@dataclass
class Setup:
    """The process engine's view of a task for one seed: a model and the two calls it trains with.

    ``train_loss(step)`` is ``task.loss(model(*inputs), targets)`` on ``task.batch(seed, step)``
    (graph kept); ``evaluate()`` is ``task.evaluate(model)`` in eval mode under no_grad.
    """

    model: nn.Module
    train_loss: Callable[[int], torch.Tensor]
    evaluate: Callable[[], Evaluation]


def setup(task: Task, seed: int, *, name: str | None = None, func: str = "run") -> Setup:
    """Compose ``task``'s functions for ``seed`` (``name``: its reference, for errors)."""
    import torch  # noqa: PLC0415

    ref = task.name if name is None else name
    model = task.model(seed)

    def train_loss(step: int) -> torch.Tensor:
        inputs, targets = task.batch(seed, step)
        loss = task.loss(call_model(model, inputs), targets)
        if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
            what = (
                f"a tensor of shape {tuple(loss.shape)}"
                if isinstance(loss, torch.Tensor)
                else f"a {type(loss).__name__}"
            )
            raise RampupError.invalid(
                func, "task", ref, f"a loss(output, targets) that returns the mean loss as a "
                f"scalar tensor; it returned {what}",
            )  # fmt: skip
        return loss

    def evaluate() -> Evaluation:
        return evaluation(task, model, name=ref, func=func)

    return Setup(model, train_loss, evaluate)


def check_task(task: Task, *, name: str, func: str = "run") -> None:
    """One forward pass and one evaluation of seed 0's untrained model, before a grid starts.

    Refused, each as a :class:`~rampup.RampupError` naming the task's reference: a function that
    raises, a loss that is not a scalar tensor or is not finite at step 0, an evaluation whose
    loss or score is not a finite float.
    """
    import torch  # noqa: PLC0415

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    stage = "model(0)"
    try:
        built = setup(task, 0, name=name, func=func)
        stage = "the loss at step 0 (batch(0, 0), the model's forward pass, loss)"
        value = float(built.train_loss(0).detach())
        if not math.isfinite(value):
            raise RampupError.invalid(
                func, "task", name, f"a model whose training loss is finite at step 0 (seed 0); "
                f"it is {value}",
            )  # fmt: skip
        stage = "evaluate(model)"
        ev = built.evaluate()
    except RampupError:
        raise
    except Exception as exc:  # the user's code: say where it failed
        said = str(exc).strip().splitlines()
        raise RampupError.invalid(
            func, "task", name, f"a task whose {stage} runs; it raised {type(exc).__name__}: "
            f"{said[0] if said else 'no message'}",
        ) from None  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    for what, x in (("loss", ev.loss), ("score", ev.score)):
        if not math.isfinite(x):
            raise RampupError.invalid(
                func, "task", name, f"an evaluation of the untrained model (seed 0) whose "
                f"{what} is finite; it is {x}",
            )  # fmt: skip


@dataclass(frozen=True)
class RunConfig:
    """One cell of a grid: the run's full configuration (plain data, JSON-ready)."""

    task: str
    strategy: str
    peak_lr: float
    seed: int
    steps: int | None = None  # None: the task's own length

    def key(self) -> str:
        """The cell's identity in a results file (task, strategy, lr, seed, steps)."""
        return f"{self.task}|{self.strategy}|{self.peak_lr!r}|{self.seed}|{self.steps}"


def check_lr(value: object, *, func: str = "run") -> float:
    """A peak learning rate: a positive finite number."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise RampupError.invalid(
            func, "peak_lr", value, "a positive finite learning rate, e.g. 1e-3"
        )
    return float(value)


def library_versions() -> dict[str, str]:
    """The versions that decide a run's numbers: Python, torch, numpy, scikit-learn, rampup."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    def one(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:  # pragma: no cover - only in a broken install
            return "missing"

    out = {"python": platform.python_version()}
    out.update({d: one(d) for d in ("rampup", "torch", "numpy", "scikit-learn")})
    return out


def _cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def platform_info() -> dict[str, Any]:
    """The CPU path of this process: torch's CPU capability, its thread count, the CPU model.

    The capability (``torch.backends.cpu.get_cpu_capability()``: ``AVX512``, ``AVX2``,
    ``DEFAULT``, ...; ``ATEN_CPU_CAPABILITY`` lowers it) picks torch's own float kernels, whose sums
    run in different orders; the BLAS library (MKL) picks its kernels from the CPU model. The same
    seed gives the same numbers only on the same CPU path.
    """
    import torch  # noqa: PLC0415

    return {
        "cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "torch_threads": torch.get_num_threads(),
        "cpu_model": _cpu_model(),
    }


@dataclass
class Trace:
    """What a training loop leaves behind: the eval curve, the lr curve, where it stopped.

    ``curve`` rows are ``{"step", "val_loss", "score", "train_loss"}`` (the training loss: the
    mean over the updates since the previous row); ``lrs`` rows are ``[update, lr]``;
    ``last_train`` is the last training loss computed (the one that stopped a stopped run).
    """

    curve: list[dict[str, float]]
    lrs: list[list[float]]
    stopped_at: int | None
    last_train: float


def _train(
    built: Setup,
    opt: torch.optim.Optimizer,
    schedule: Schedule | str,
    steps: int,
    every: int,
    blowup: float,
    progress: Callable[[int, int], None] | None,
) -> Trace:
    """The training loop: ``rampup.torch.Scheduler`` sets every update's learning rate.

    A guarded strategy (``auto``) brings its guard as the scheduler's controller: it sees the
    loss and the gradient norm before each update, and a non-finite one ends the run (a real
    loop would restore a checkpoint: the lab records the failure instead).
    """
    import torch  # noqa: PLC0415

    import rampup.torch  # noqa: PLC0415  # the adapter: torch is imported only when training

    sched = rampup.torch.Scheduler(opt, schedule, total_steps=steps)
    guard: Any = sched.controller
    trace = Trace([], [], None, math.nan)
    lr_every = max(1, steps // 100)
    window: list[float] = []
    params = [p for g in opt.param_groups for p in g["params"]]

    def record(step: int) -> None:
        ev = built.evaluate()
        train = sum(window) / len(window) if window else math.nan
        trace.curve.append(
            {"step": step, "val_loss": ev.loss, "score": ev.score, "train_loss": train}
        )
        window.clear()

    record(0)
    for t in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = built.train_loss(t)
        value = float(loss.detach())
        trace.last_train = value
        if not math.isfinite(value) or value > blowup:
            trace.stopped_at = t
            break
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        if guard is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(params, math.inf))
            if guard.observe(value, grad_norm=norm) is not None:
                trace.stopped_at = t
                break
        if t % lr_every == 0 or t == steps - 1:
            trace.lrs.append([t, float(opt.param_groups[0]["lr"])])
        opt.step()
        sched.step()
        window.append(value)
        if (t + 1) % every == 0 or t + 1 == steps:
            record(t + 1)
        if progress is not None:
            progress(t + 1, steps)
    if trace.stopped_at is not None and progress is not None:
        progress(steps, steps)
    return trace


def verdict(trace: Trace, task: Task, const: float | None) -> tuple[dict[str, float], str]:
    """The final metrics and, for a failed run, why it failed ("" if it did not).

    A run failed if it stopped early (a non-finite training loss, one above :data:`BLOWUP` x the
    constant level, or its guard), if its final validation loss is not finite, or if it
    collapsed: final validation loss >= ``task.collapse_ratio`` x the constant level.
    """
    if trace.stopped_at is not None:
        final = {"val_loss": math.nan, "score": 1.0, "train_loss": trace.last_train}
        why = "non-finite" if not math.isfinite(trace.last_train) else "blown up"
        return final, f"training loss {trace.last_train:.3g} at step {trace.stopped_at} ({why})"
    final = dict(trace.curve[-1])
    final.pop("step")
    if not math.isfinite(final["val_loss"]):
        return final, "non-finite validation loss"
    if const is not None and final["val_loss"] >= task.collapse_ratio * const:
        return final, (
            f"collapsed to a constant predictor: validation loss {final['val_loss']:.3f} "
            f">= {task.collapse_ratio} x constant level {const:.3f}"
        )
    return final, ""


def run(
    config: RunConfig,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train one cell; return its result record (plain data, one JSON line).

    ``progress(step, total)`` is called after each update (for progress bars). The record holds
    the config, the resolved spec, the validation curve at the eval points, the final metrics,
    whether the run failed (non-finite, blown up, or collapsed to the constant predictor), the
    wall time, the library versions, the platform (CPU capability, torch threads) and the
    engine (``"process"``).
    """
    import torch  # noqa: PLC0415

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(config, progress)
    finally:
        torch.set_num_threads(threads)


def _run(config: RunConfig, progress: Callable[[int, int], None] | None) -> dict[str, Any]:
    task = load_task(config.task, func="run")
    lr = check_lr(config.peak_lr)
    steps = config.steps if config.steps is not None else task.steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise RampupError.invalid("run", "steps", steps, "a positive number of updates")
    strategy = resolve(config.strategy, task, steps, func="run")
    const = constant_level(task)

    ran_on = platform_info()
    start = time.perf_counter()
    built = setup(task, config.seed, name=config.task)
    opt = build_optimizer(task, strategy, built.model.parameters(), lr)
    every = max(1, min(task.eval_every, steps))
    measured: dict[str, Any] | None = None
    if strategy.probed:
        strategy, measured = _probe(task, config.seed, built, opt, strategy, lr, steps)
    plan = strategy.spec if strategy.guarded else schedule(strategy, steps)
    blowup = math.inf if const is None else BLOWUP * const
    trace = _train(built, opt, plan, steps, every, blowup, progress)
    wall = time.perf_counter() - start
    record = make_record(config, task, strategy, steps, trace, wall, ran_on, engine="process")
    if measured is not None:
        record["probe"] = measured
    return record


def _probe(
    task: Task,
    seed: int,
    built: Setup,
    opt: torch.optim.Optimizer,
    strategy: Strategy,
    lr: float,
    steps: int,
) -> tuple[Strategy, dict[str, Any]]:
    """Probe the run's model (:func:`rampup.lab.probing.probe_model`); the strategy it completes.

    A run too short for one trial within the budget (3 % of 45 updates is one trial) keeps the
    unmeasured ``auto`` and says so in the record.
    """
    from rampup.lab.probing import probe_model  # noqa: PLC0415
    from rampup.torch.probe import BUDGET, TRIAL_COST  # noqa: PLC0415

    if BUDGET * steps < TRIAL_COST:
        why = f"a run of {steps} updates is too short for one trial within {BUDGET:g} of it"
        return strategy, {"skipped": why}
    r = probe_model(task, seed, built.model, opt, lr, steps)
    spec = probed_spec(r.start, r.warmup_steps)
    measured = {
        "critical_lr": r.critical_lr,
        "unstable_lr": None if math.isinf(r.unstable_lr) else r.unstable_lr,
        "trials": len(r.trials),
        "cost": r.cost,
        "start": r.start,
        "warmup_steps": r.warmup_steps,
    }
    return replace(strategy, spec=spec, guarded=spec != DECAY), measured


def make_record(
    config: RunConfig,
    task: Task,
    strategy: Strategy,
    steps: int,
    trace: Trace,
    wall: float,
    ran_on: dict[str, Any],
    *,
    engine: str,
) -> dict[str, Any]:
    """A run's result record from its trace (every engine writes this format, one JSON line)."""
    const = constant_level(task)
    final, reason = verdict(trace, task, const)
    return {
        "key": config.key(),
        "config": {**asdict(config), "steps": steps},
        "task": {
            "optimizer": optimizer_kind(task, strategy),
            "betas": list(task.betas),
            "constant_loss": const,
            "best_loss": best_level(task),
            "score": task.score_name,
            "objective": task.objective,
        },
        "spec": strategy.spec,
        "curve": trace.curve,
        "lr_curve": trace.lrs,
        "final": final,
        "diverged": bool(reason),
        "reason": reason,
        "wall_time": wall,
        "versions": library_versions(),
        "platform": ran_on,
        "engine": engine,
    }
