"""The lab's warmup strategies: any rampup spec string, plus the named ones.

A strategy gives, for a task and a run length, the learning-rate multiplier ``f(t)`` (the peak
is 1, so the run's learning rate is ``peak_lr * f(t)``) and, for RAdam, the optimiser to use.
The post-warmup decay is the same across strategies (:data:`DECAY`, a cosine to 0) unless the
strategy defines its own (HF's linear decay, Noam's inverse square root), so comparisons isolate
the warmup.

Named strategies (``NAMED``):

- ``none``: no warmup, the shared decay from step 0: ``cosine(to=0)``.
- ``linear``: the pilot's 10 % linear warmup: ``linear(10%) >> cosine``.
- ``hf``: HF transformers' default shape, 10 % warmup from 0 then linear to 0:
  ``linear(10%, start=0.0, endpoint=false) >> linear``.
- ``untuned-linear`` / ``untuned-exp``: Ma & Yarats (2019)'s rules from the optimiser's beta2
  (``untuned(beta2)`` over ``2 / (1 - beta2)`` steps, or its exponential form), multiplied onto
  the shared decay. The rule's warmup may be longer than a short run: it is not shortened.
- ``radam``: ``torch.optim.RAdam`` (its own rectified warmup) with the shared decay, no warmup.
- ``noam``: the Noam formula of Vaswani et al. 2017 (``rampup.noam``) with a 10 % warmup ``W``,
  scaled so its peak is 1: ``noam(d_model=W, warmup=W, factor=W)`` (the model width only scales
  the peak).
- ``auto``: the stability monitor's adaptive warmup (``rampup.AdaptiveWarmup``):
  ``auto(beta2) >> cosine`` run with its guard (:func:`auto_hook`); its length is the untuned
  rule cut to a quarter of the run (:func:`rampup.core.measured.rule_steps`), so it always fits.
- ``suggest``: whatever ``rampup.suggest(...)`` advises for the task's own setup
  (:func:`suggestion`): the run length, the optimiser and its beta2; the batch is passed as the
  base batch (the Task has no batch size, so no scaling rule applies) and the model family as
  ``"other"`` (the Task does not say), so the advice is ``linear(W) >> cosine`` with ``W`` the
  untuned rule's length moved into the 5-10 % guideline (Adam), or its middle (SGD).

Adam-only strategies (untuned, radam) do not apply to SGD tasks: :func:`not_applicable` says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rampup import RampupError
from rampup.core.schedule import Schedule
from rampup.core.spec import parse
from rampup.lab.tasks import Task

if TYPE_CHECKING:
    from rampup.advice import Suggestion

__all__ = [
    "DECAY",
    "NAMED",
    "SUGGEST_BATCH",
    "Strategy",
    "applies",
    "auto_hook",
    "multiplier",
    "not_applicable",
    "probed_spec",
    "resolve",
    "schedule",
    "suggestion",
]

#: The decay every strategy shares unless it defines its own.
DECAY = "cosine(to=0)"
#: The warmup fraction of the named fixed-length strategies.
WARMUP = "10%"

NAMED: dict[str, str] = {
    "none": "no warmup: cosine(to=0)",
    "linear": "10 % linear warmup: linear(10%) >> cosine",
    "hf": "HF default shape: linear(10%, start=0.0, endpoint=false) >> linear",
    "untuned-linear": "untuned(beta2) * cosine(to=0) (Ma & Yarats 2019)",
    "untuned-exp": "untuned(beta2, shape=exp) * cosine(to=0) (Ma & Yarats 2019)",
    "radam": "torch.optim.RAdam, no warmup: cosine(to=0)",
    "noam": "noam(d_model=W, warmup=W, factor=W), W = 10 % of the run: peak 1 (Vaswani et al.)",
    "auto": "auto(beta2) >> cosine with its guard (the stability monitor's adaptive warmup, "
    "which holds or slows the warmup while training is unstable)",
    "suggest": "what rampup.suggest advises for the task's run length, optimiser and beta2: "
    "linear(W) >> cosine",
}
#: The batch size ``suggest`` is told, as the base batch too: the Task has no batch size, so
#: ``batch_size == base_batch_size`` (no linear scaling of the peak or of the warmup).
SUGGEST_BATCH = 256
_ADAM_ONLY = frozenset({"untuned-linear", "untuned-exp", "radam"})


@dataclass(frozen=True)
class Strategy:
    """A resolved strategy: its name, the spec(s) it runs, and the optimiser it asks for."""

    name: str
    #: The multiplier as rampup specs: the whole schedule, or a warmup factor times the decay.
    spec: str
    factor_spec: str | None = None
    decay_spec: str | None = None
    optimizer: str | None = None  # None: the task's optimiser
    #: Run through ``rampup.torch.Scheduler`` with its guard (``auto``'s AdaptiveWarmup), fed the
    #: loss and gradient norm before every update.
    guarded: bool = False
    #: Measure the model first (:func:`rampup.probe`) and start ``auto`` where the probe says:
    #: the spec is then completed per run (:func:`probed_spec`); process engine only.
    probed: bool = False


def not_applicable(name: str, task: Task, total_steps: int) -> str | None:
    """Why strategy ``name`` does not apply to ``task`` on a run of ``total_steps``, or None.

    The Adam-only strategies need an Adam task; ``auto`` and ``suggest`` a run of 2 updates or
    more (a warmup and a decay).
    """
    if name in _ADAM_ONLY and task.beta2 is None:
        return f"it needs Adam's beta2 and {task.name} uses SGD"
    if name == "suggest" and total_steps < 2:
        return (
            f"rampup.suggest needs a run of 2 updates or more (warmup and decay), not {total_steps}"
        )
    if name == "auto" and total_steps < 2:
        return f"auto needs a run of 2 updates or more (warmup and decay), not {total_steps}"
    return None


def applies(name: str, task: Task, total_steps: int) -> bool:
    """Whether strategy ``name`` applies to ``task`` on a run of ``total_steps`` updates."""
    return not_applicable(name, task, total_steps) is None


def auto_hook(task: Task, total_steps: int) -> Strategy:
    """The ``auto`` strategy: the monitor's adaptive warmup, then the shared decay.

    ``auto(beta2) >> cosine`` (Adam tasks: the untuned length, cut to a quarter of the run when
    it is longer, held or slowed by its guard while training is unstable) or, on SGD tasks, the
    measured ``auto(optimizer=sgd, start=s) >> cosine``: the trainer first runs
    :func:`rampup.probe` on the run's own model (within 3 % of the run, the model left as it
    was) and :func:`probed_spec` starts the quarter-run warmup at half the critical lr. The
    trainer runs it through ``rampup.torch.Scheduler``, which attaches the guard, and feeds the
    guard the loss and gradient norm before each update.
    """
    b2 = task.beta2
    if b2 is None:
        return Strategy("auto", f"auto(optimizer=sgd) >> {DECAY}", guarded=True, probed=True)
    return Strategy("auto", f"auto({b2}) >> cosine", guarded=True)


def probed_spec(start: float, warmup_steps: int) -> str:
    """The measured ``auto`` of an SGD task: ``auto(optimizer=sgd, start=s)``, then the decay.

    ``start`` and ``warmup_steps`` are the probe's (:class:`rampup.ProbeResult`); no warmup
    (a peak at or below half the critical lr) is the decay alone.
    """
    if warmup_steps == 0 or start >= 1:
        return DECAY
    if start <= 0:
        return f"auto(optimizer=sgd) >> {DECAY}"
    return f"auto(optimizer=sgd, start={start!r}) >> {DECAY}"


def suggestion(task: Task, total_steps: int) -> Suggestion:
    """What ``rampup.suggest`` advises for ``task`` on a run of ``total_steps`` updates.

    It is told what the task knows: ``total_steps``, the optimiser (``adamw``, ``adam`` or
    ``sgd``) and, for Adam, ``beta2 = task.betas[1]``. The Task has no batch size and no model
    family, so neither is guessed: the batch is :data:`SUGGEST_BATCH` and the base batch the same
    (scale ``k = 1``: no scaling), the model ``"other"`` (no per-model table row), no ``base_lr``.
    """
    from rampup.advice import suggest  # noqa: PLC0415  # only when the strategy is resolved

    return suggest(
        total_steps, SUGGEST_BATCH, base_batch_size=SUGGEST_BATCH, optimizer=task.optimizer,
        beta2=task.beta2, model="other",
    )  # fmt: skip


def _check_spec(func: str, spec: str, total_steps: int) -> None:
    try:
        parse(spec).bind(total_steps=total_steps)
    except RampupError as e:
        raise RampupError.invalid(
            func, "strategy", spec, f"a named strategy ({', '.join(NAMED)}) or a valid spec: {e}"
        ) from None


def resolve(name: object, task: Task, total_steps: int, *, func: str = "resolve") -> Strategy:
    """Resolve a strategy name or spec string for ``task`` and a run of ``total_steps``."""
    if not isinstance(name, str) or not name.strip():
        raise RampupError.invalid(
            func, "strategy", name, f"a named strategy ({', '.join(NAMED)}) or a spec"
        )
    why = not_applicable(name, task, total_steps)
    if why is not None:
        raise RampupError.invalid(
            func, "strategy", name, f"a strategy that applies to {task.name}: {why}"
        )
    b2 = task.beta2
    if name == "none":
        return Strategy(name, DECAY)
    if name == "linear":
        return Strategy(name, f"linear({WARMUP}) >> cosine")
    if name == "hf":
        return Strategy(name, f"linear({WARMUP}, start=0.0, endpoint=false) >> linear")
    if name == "untuned-linear":
        factor = f"untuned({b2})"
        return Strategy(name, f"{factor} * {DECAY}", factor, DECAY)
    if name == "untuned-exp":
        return Strategy(name, f"untuned({b2}, shape=exp) * {DECAY}")
    if name == "radam":
        return Strategy(name, DECAY, optimizer="radam")
    if name == "noam":
        w = max(1, math.floor(total_steps * 0.1 + 0.5))
        # the peak is factor * (d_model * W)**-0.5: d_model = factor = W makes it exactly 1
        return Strategy(name, f"noam(d_model={w}, warmup={w}, factor={w})")
    if name == "auto":
        return auto_hook(task, total_steps)
    if name == "suggest":
        return Strategy(name, suggestion(task, total_steps).spec)
    _check_spec(func, name, total_steps)
    return Strategy(name, name)


def schedule(strategy: Strategy, total_steps: int) -> Schedule:
    """The multiplier of ``strategy`` as a rampup schedule bound to a run of ``total_steps``.

    A warmup factor longer than the run (untuned's 2000 steps on a 200-step run) is bound on its
    own, open-ended, and multiplied onto the bound decay, so it is used as far as the run goes.
    """
    if strategy.factor_spec is not None and strategy.decay_spec is not None:
        factor = parse(strategy.factor_spec).bind()
        return factor * parse(strategy.decay_spec).bind(total_steps=total_steps)
    return parse(strategy.spec).bind(total_steps=total_steps)


def multiplier(strategy: Strategy, total_steps: int) -> Callable[[float], float]:
    """The per-step multiplier ``f(t)`` of ``strategy`` for a run of ``total_steps`` updates.

    A warmup factor longer than the run (untuned's 2000 steps on a 200-step run) is bound on its
    own, open-ended, and multiplied onto the bound decay, so it is used as far as the run goes.
    """
    if strategy.factor_spec is not None and strategy.decay_spec is not None:
        factor = parse(strategy.factor_spec).bind().as_function()
        decay = parse(strategy.decay_spec).bind(total_steps=total_steps).as_function()
        return lambda t: factor(t) * decay(t)
    return parse(strategy.spec).bind(total_steps=total_steps).as_function()
