"""The lab's task protocol: :class:`Task`, the problem a grid trains, and its :class:`Evaluation`.

A task is four separate functions and some metadata. For a run with seed ``s`` the engine builds
``model(s)``, and for every update ``t`` it computes::

    inputs, targets = batch(s, t)
    output = model(*inputs) if isinstance(inputs, tuple) else model(inputs)
    loss(output, targets)          # the mean training loss, a scalar tensor: backward, step

Every ``eval_every`` updates (and at 0 and at the end) it calls ``evaluate(model)`` with the
model in eval mode under ``torch.no_grad()`` (:func:`evaluation`), then puts the model back in
train mode. Keeping the model, the data, the loss and the evaluation apart lets an engine train
many members of one architecture at once (``torch.func.functional_call`` over stacked
parameters) as well as one model per process.

A run is deterministic given its seed when ``model(s)`` seeds torch before building
(``torch.manual_seed(s)``) and ``batch(s, t)`` depends only on ``(s, t)``: :class:`SeedStream`
turns a numpy ``Generator`` consumed in order into such a random-access function.

This module does not import torch (the lab's tasks import it when they build a model).
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rampup import RampupError

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

__all__ = [
    "OPTIMIZERS",
    "Evaluation",
    "SeedStream",
    "Task",
    "as_evaluation",
    "best_level",
    "call_model",
    "constant_level",
    "evaluation",
]

#: The optimisers a task can ask for (a strategy may swap in RAdam).
OPTIMIZERS = ("adamw", "adam", "sgd")
_OBJECTIVES = ("loss", "error")

T = TypeVar("T")


@dataclass(frozen=True)
class Evaluation:
    """One evaluation on the validation set: the loss and the task's score (lower is better)."""

    loss: float
    score: float


#: A level: a number, a function computing it (called once per process), or unknown (None).
Level = float | Callable[[], float] | None


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True, kw_only=True)
class Task:
    """A training problem for the lab: four functions and what the engine needs to know.

    ``model(seed) -> nn.Module``
        The model, initialised deterministically from the seed (``torch.manual_seed(seed)``
        before building it).
    ``batch(seed, step) -> (inputs, targets)``
        The training batch of update ``step`` for the run with that seed: ``inputs`` a tensor or
        a tuple of tensors (the model is called as ``model(*inputs)``); deterministic, readable
        at any step (:class:`SeedStream`).
    ``loss(output, targets) -> Tensor``
        The mean training loss, a scalar tensor.
    ``evaluate(model) -> Evaluation | float``
        The validation loss and score (a bare float is the loss, and the score too). It runs in
        eval mode under ``torch.no_grad()``; the engine restores train mode after.

    Metadata: ``name``, ``steps`` (updates per run), ``eval_every`` (default a tenth of the run),
    the optimiser (``"adamw"``, ``"adam"`` or ``"sgd"``, with ``betas``, ``momentum`` and
    ``weight_decay``; by default torch's: 0.01 for AdamW, 0 otherwise), ``constant_loss`` (the
    validation loss of the best input-independent predictor: a run ending at or above
    ``collapse_ratio`` times it collapsed; without it only a non-finite loss fails a run),
    ``best_loss`` (the best possible loss L*, e.g. a Bayes loss, if known), ``score_name``,
    ``objective`` (what comparisons use: ``"loss"`` or ``"error"``, the score), ``control``
    (the task this one is paired with) and a one-line ``summary``. Both levels may be given as
    functions, computed once per process when a run needs them.
    """

    name: str
    steps: int
    model: Callable[[int], nn.Module]
    batch: Callable[[int, int], tuple[Any, Any]]
    loss: Callable[[Any, Any], torch.Tensor]
    evaluate: Callable[[nn.Module], Evaluation | float]
    #: Updates between evaluations; left out, a tenth of the run (set by ``__post_init__``).
    eval_every: int = None  # type: ignore[assignment]
    optimizer: str = "adamw"
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    #: Left out, torch's default for the optimiser: 0.01 for AdamW, 0 otherwise.
    weight_decay: float = None  # type: ignore[assignment]
    constant_loss: Level = None
    best_loss: Level = None
    score_name: str = "loss"
    objective: str = "loss"
    collapse_ratio: float = 0.98
    control: str | None = None
    summary: str = ""

    def __post_init__(self) -> None:
        def bad(param: str, value: object, expected: str) -> RampupError:
            return RampupError.invalid("Task", param, value, expected)

        if not isinstance(self.name, str) or not self.name.strip():
            raise bad("name", self.name, "a non-empty string")
        if not _positive_int(self.steps):
            raise bad("steps", self.steps, "a positive number of updates per run")
        every: object = self.eval_every
        if every is None:
            object.__setattr__(self, "eval_every", max(1, self.steps // 10))
        elif not _positive_int(every):
            raise bad("eval_every", every, "a positive number of updates between evaluations")
        for field in ("model", "batch", "loss", "evaluate"):
            if not callable(getattr(self, field)):
                raise bad(field, getattr(self, field), "a function (see rampup.lab.Task)")
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", self.optimizer, "one of " + ", ".join(OPTIMIZERS))
        betas = self.betas
        if (
            not isinstance(betas, tuple | list)
            or len(betas) != 2
            or not all(_real(b) and 0 <= b < 1 for b in betas)
        ):
            raise bad("betas", betas, "two numbers in [0, 1), e.g. (0.9, 0.999)")
        object.__setattr__(self, "betas", (float(betas[0]), float(betas[1])))
        if not _real(self.momentum) or not 0 <= self.momentum < 1:
            raise bad("momentum", self.momentum, "a number in [0, 1)")
        wd: object = self.weight_decay
        if wd is None:
            object.__setattr__(self, "weight_decay", 0.01 if self.optimizer == "adamw" else 0.0)
        elif not _real(wd) or not 0 <= float(wd) < math.inf:  # type: ignore[arg-type]
            raise bad("weight_decay", wd, "a finite number >= 0")
        for field in ("constant_loss", "best_loss"):
            level = getattr(self, field)
            if (
                level is not None
                and not callable(level)
                and (not _real(level) or not math.isfinite(level))
            ):
                raise bad(field, level, "a finite loss, a function returning one, or None")
        if not isinstance(self.score_name, str) or not self.score_name.strip():
            raise bad("score_name", self.score_name, "a non-empty string")
        if self.objective not in _OBJECTIVES:
            raise bad("objective", self.objective, "one of " + ", ".join(_OBJECTIVES))
        if not _real(self.collapse_ratio) or not 0 < self.collapse_ratio <= 1:
            raise bad("collapse_ratio", self.collapse_ratio, "a number in (0, 1]")
        if self.control is not None and not isinstance(self.control, str):
            raise bad("control", self.control, "a task name or None")
        if not isinstance(self.summary, str):
            raise bad("summary", self.summary, "a string")

    @property
    def beta2(self) -> float | None:
        """Adam's beta2 for the Adam-family tasks; None for SGD."""
        return None if self.optimizer == "sgd" else self.betas[1]


# -- levels ------------------------------------------------------------------------------------
_LEVELS: dict[tuple[int, str], tuple[Task, float | None]] = {}


def _level(task: Task, field: str) -> float | None:
    key = (id(task), field)
    if key not in _LEVELS:
        level = getattr(task, field)
        value = None if level is None else float(level() if callable(level) else level)
        _LEVELS[key] = (task, value)  # the task is kept so its id is not reused
    return _LEVELS[key][1]


def constant_level(task: Task) -> float | None:
    """The task's constant-predictor validation loss (computed once per process), or None."""
    return _level(task, "constant_loss")


def best_level(task: Task) -> float | None:
    """The task's best possible loss L* (computed once per process), or None."""
    return _level(task, "best_loss")


# -- the engine's side of the protocol --------------------------------------------------------
def call_model(model: nn.Module, inputs: Any) -> Any:
    """``model(*inputs)`` for a tuple of inputs, ``model(inputs)`` otherwise."""
    return model(*inputs) if isinstance(inputs, tuple) else model(inputs)


def as_evaluation(value: object, *, task: str, func: str = "run") -> Evaluation:
    """What ``evaluate`` returned, checked: an :class:`Evaluation` of floats, or a float loss.

    A score or a loss that is not a real number (a tensor, None, a string) is a
    :class:`~rampup.RampupError` naming the task; a non-finite one is allowed here (a diverged
    model's loss is NaN), :func:`rampup.lab.train.check_task` refuses it for the untrained model.
    """
    if isinstance(value, Evaluation):
        loss, score = value.loss, value.score
    elif _real(value):
        loss = score = value  # type: ignore[assignment]
    else:
        raise RampupError.invalid(
            func, "task", task, f"an evaluate(model) that returns an Evaluation(loss, score) "
            f"or a float loss; it returned a {type(value).__name__}",
        )  # fmt: skip
    for what, x in (("loss", loss), ("score", score)):
        if not _real(x):
            raise RampupError.invalid(
                func, "task", task, f"an evaluation whose {what} is a float (use float() or "
                f".item() on a tensor); it is a {type(x).__name__}: {x!r:.60}",
            )  # fmt: skip
    return Evaluation(float(loss), float(score))


def evaluation(task: Task, model: nn.Module, *, name: str, func: str = "run") -> Evaluation:
    """``task.evaluate(model)`` in eval mode under ``torch.no_grad()``, train mode restored."""
    import torch  # noqa: PLC0415

    model.eval()
    try:
        with torch.no_grad():
            value = task.evaluate(model)
    finally:
        model.train()
    return as_evaluation(value, task=name, func=func)


class SeedStream(Generic[T]):
    """A seed's batches, drawn in order from ``numpy.random.default_rng(seed)`` and kept.

    ``stream(seed, step)`` is the ``step``-th value ``draw(rng)`` returned for a generator seeded
    with ``seed``: the same values, in the same order, as a loop calling ``draw`` once per update,
    but readable at any step. The last ``seeds`` seeds' streams are kept (least recently used
    dropped).
    """

    def __init__(self, draw: Callable[[np.random.Generator], T], *, seeds: int = 32) -> None:
        self._draw = draw
        self._keep = seeds
        self._streams: OrderedDict[int, tuple[np.random.Generator, list[T]]] = OrderedDict()

    def __call__(self, seed: int, step: int) -> T:
        """The value drawn for update ``step`` of the run with ``seed``."""
        import numpy as np  # noqa: PLC0415

        if not (isinstance(step, int) and step >= 0):
            raise RampupError.invalid("SeedStream", "step", step, "an update index >= 0")
        if seed not in self._streams:
            self._streams[seed] = (np.random.default_rng(seed), [])
            while len(self._streams) > self._keep:
                self._streams.popitem(last=False)
        self._streams.move_to_end(seed)
        rng, drawn = self._streams[seed]
        while len(drawn) <= step:
            drawn.append(self._draw(rng))
        return drawn[step]
