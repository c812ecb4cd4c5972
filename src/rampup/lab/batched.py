"""The batched engine: many members of one architecture trained as one stacked model.

A *member* is one training run: a seed (its initial weights and its data order) and the learning
rate of every update. :func:`train_batched` builds each member's model, stacks their parameters
(``torch.func.stack_module_state``: every tensor gains a leading dimension ``N``), and at each
step runs the forward pass of all members at once (``torch.vmap`` over
``torch.func.functional_call``), each on its own batch. The members' losses are summed and one
backward pass gives each member's gradient (the members share no parameter, so the gradient of
the sum with respect to member ``n``'s slice is member ``n``'s own gradient). The update is
torch's optimiser written over the stack (:mod:`rampup.lab.functional_optim`), with one learning
rate per member.

What equals a separate run, and what does not:

- Initial weights: exactly (each member's model is built by ``build_model(seed)``).
- Data order: exactly (``batch(seed, step)`` gives every member its own batches).
- Losses: to rounding only. The batched kernels (a ``bmm`` instead of a ``mm``, another blocking
  of the sums) round differently, as another CPU does; the difference grows with training, and
  on a run at the edge of stability a member may diverge where the separate run did not (or the
  reverse). ``tests/test_lab_batched.py`` states the agreement measured over the first 20 losses.
- Randomness inside the model: not batched. Dropout with ``p > 0`` and batch norm make a model
  *unbatchable* (:func:`~rampup.lab.stacked.unbatchable_reason`, re-exported here): dropout's
  masks would come from another random stream than a separate run's, and batch norm's running
  statistics are updated in place, which ``vmap`` does not batch. :func:`train_batched` refuses
  such a model with a :class:`~rampup.RampupError`; it must use the process engine (one run per
  process). A task that needs randomness of its own (data augmentation, noise) draws it in
  ``batch(seed, step)``, from a generator of that seed: then it is per member and exact.

A member whose training loss is non-finite (or above ``blowup``) stops at that step, before its
update, and leaves the stack; the others keep training, so a failure costs no more compute.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Union

from rampup import RampupError
from rampup.lab.functional_optim import FunctionalOptimizer, OptimizerSpec
from rampup.lab.stacked import StackedModel, unbatchable_reason

if TYPE_CHECKING:
    from torch import Tensor, nn

    from rampup.core.schedule import Schedule

__all__ = [
    "BatchedRun",
    "LrController",
    "Member",
    "MemberResult",
    "StackedModel",
    "train_batched",
    "unbatchable_reason",
]

_FUNC = "train_batched"

#: A model's inputs: one tensor, or a tuple of tensors passed as positional arguments.
Inputs = Union["Tensor", tuple["Tensor", ...]]


class LrController(Protocol):
    """A learning rate decided during training (an adaptive warmup), for one member.

    ``lr(step, loss, grad_norm)`` is called before update ``step`` (from 0) with that step's
    training loss and the gradient's global 2-norm (as ``clip_grad_norm_`` computes it); it
    returns the update's learning rate, or None to stop the member there.
    """

    def lr(self, step: int, loss: float, grad_norm: float) -> float | None:
        """The learning rate of update ``step``, or None to stop."""
        ...


@dataclass(frozen=True)
class Member:
    """One run of the stack: its seed and the learning rate of each update.

    ``lrs[t]`` is the learning rate of update ``t`` (``t = 0 .. steps - 1``), e.g.
    ``peak_lr * schedule(t)`` as ``rampup.torch.Scheduler`` sets it (:meth:`scheduled`). Instead
    of ``lrs``, a ``controller`` may decide each rate during training. ``label`` is free text.
    """

    seed: int
    lrs: tuple[float, ...] = ()
    controller: LrController | None = None
    label: str = ""

    @classmethod
    def scheduled(
        cls, seed: int, peak_lr: float, schedule: Schedule, steps: int, label: str = ""
    ) -> Member:
        """A member whose update ``t`` has learning rate ``peak_lr * schedule(t)``."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise RampupError.invalid("Member.scheduled", "steps", steps, "an int >= 1")
        values = schedule.values(range(steps))
        return cls(seed, tuple(float(peak_lr) * float(v) for v in values), label=label)


@dataclass
class MemberResult:
    """What one member's training left: its losses, its evaluations, where it stopped.

    ``losses[t]`` is the training loss at update ``t`` (before that update), for every update
    taken; a stopped member's last entry is the loss that stopped it (``stopped_at`` is its
    step). ``curve`` holds the evaluations: ``{"step": s, **metrics}`` at step 0, every
    ``eval_every`` updates and at the end.
    """

    member: Member
    losses: list[float] = field(default_factory=list)
    curve: list[dict[str, float]] = field(default_factory=list)
    stopped_at: int | None = None

    @property
    def failed(self) -> bool:
        """Whether the member stopped early (non-finite or blown-up loss, or its controller)."""
        return self.stopped_at is not None


@dataclass
class BatchedRun:
    """The members' results, in the order given, and the wall time of the whole stack."""

    results: list[MemberResult]
    wall_time: float
    engine: str = "batched"


def _check_members(members: object, steps: int) -> list[Member]:
    if not isinstance(members, Sequence) or isinstance(members, str) or not members:
        raise RampupError.invalid(_FUNC, "members", members, "a non-empty sequence of Member")
    out: list[Member] = []
    for i, m in enumerate(members):
        if not isinstance(m, Member):
            raise RampupError.invalid(_FUNC, f"members[{i}]", m, "a Member")
        if isinstance(m.seed, bool) or not isinstance(m.seed, int):
            raise RampupError.invalid(_FUNC, f"members[{i}].seed", m.seed, "an int")
        if m.controller is not None:
            if m.lrs:
                raise RampupError.invalid(
                    _FUNC, f"members[{i}].lrs", m.lrs, "empty when a controller sets the rates"
                )
        elif len(m.lrs) != steps:
            raise RampupError.invalid(
                _FUNC, f"members[{i}].lrs", f"{len(m.lrs)} values", f"{steps} (one per update)"
            )
        elif not all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in m.lrs):
            bad = next(v for v in m.lrs if not (isinstance(v, float) and math.isfinite(v)))
            raise RampupError.invalid(
                _FUNC, f"members[{i}].lrs", bad, "finite floats >= 0 (learning rates)"
            )
        out.append(m)
    return out


def _check_int(value: object, param: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise RampupError.invalid(_FUNC, param, value, f"an int >= {low}")
    return value


def _as_tuple(inputs: Inputs) -> tuple[Tensor, ...]:
    return inputs if isinstance(inputs, tuple) else (inputs,)


def _grad_norms(grads: dict[str, Tensor]) -> Tensor:
    """Each member's global gradient 2-norm: the norm of the per-parameter norms."""
    import torch  # noqa: PLC0415

    per = [torch.linalg.vector_norm(g.reshape(g.shape[0], -1), 2, dim=1) for g in grads.values()]
    out: Tensor = torch.linalg.vector_norm(torch.stack(per, dim=1), 2, dim=1)
    return out


class _Training:
    """The loop's state: the stack, its optimiser, the results; one method per part of a step."""

    def __init__(
        self,
        stack: StackedModel,
        group: list[Member],
        optimizer: OptimizerSpec,
        evaluate: Callable[[StackedModel], Mapping[str, Sequence[float]]] | None,
        blowup: float,
    ) -> None:
        self.stack = stack
        self.group = group
        self.opt = FunctionalOptimizer(optimizer)
        self.results = [MemberResult(m) for m in group]
        self.evaluate = evaluate
        self.blowup = blowup
        self.norms = any(m.controller is not None for m in group)

    def batches(
        self, batch: Callable[[int, int], tuple[Inputs, Tensor]], step: int
    ) -> tuple[tuple[Tensor, ...], Tensor]:
        """Every live member's batch at ``step``, stacked: one call per distinct seed."""
        import torch  # noqa: PLC0415

        seeds = [self.group[i].seed for i in self.stack.members]
        got = {s: batch(s, step) for s in dict.fromkeys(seeds)}
        width = len(_as_tuple(got[seeds[0]][0]))
        xs = tuple(torch.stack([_as_tuple(got[s][0])[j] for s in seeds]) for j in range(width))
        return xs, torch.stack([got[s][1] for s in seeds])

    def record(self, step: int) -> None:
        """Evaluate the live members (if there is a hook) and append to their curves."""
        live = self.stack.members
        if self.evaluate is None or not live:
            return
        rows: list[dict[str, float]] = [{"step": float(step)} for _ in live]
        for key, values in self.evaluate(self.stack).items():
            vals = values.tolist() if hasattr(values, "tolist") else list(values)
            if len(vals) != len(live):
                raise RampupError.invalid(
                    "evaluate", key, f"{len(vals)} values", f"{len(live)} (one per live member)"
                )
            for row, v in zip(rows, vals, strict=True):
                row[key] = float(v)
        for i, row in zip(live, rows, strict=True):
            self.results[i].curve.append(row)

    def rates(self, step: int, losses: list[float], norms: list[float]) -> list[float | None]:
        """Each live member's learning rate for ``step``, or None where it stops."""
        out: list[float | None] = []
        for pos, i in enumerate(self.stack.members):
            member, loss = self.group[i], losses[pos]
            self.results[i].losses.append(loss)
            lr: float | None
            if not math.isfinite(loss) or loss > self.blowup:
                lr = None
            elif member.controller is not None:
                lr = member.controller.lr(step, loss, norms[pos])
            else:
                lr = member.lrs[step]
            if lr is None:
                self.results[i].stopped_at = step
            out.append(lr)
        return out

    def step(
        self,
        step: int,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        data: tuple[tuple[Tensor, ...], Tensor],
    ) -> None:
        """One update of every live member; members whose loss fails leave the stack first."""
        import torch  # noqa: PLC0415

        stack = self.stack
        names = stack.trainable()
        losses = stack.losses(loss_fn, *data)
        # the members share no parameter: the gradient of the sum is each member's own gradient
        tensors = torch.autograd.grad(losses.sum(), [stack.params[k] for k in names])
        grads = dict(zip(names, tensors, strict=True))
        values = losses.detach().tolist()
        norms = _grad_norms(grads).tolist() if self.norms else [math.nan] * stack.size
        lrs = self.rates(step, values, norms)
        keep = [pos for pos, lr in enumerate(lrs) if lr is not None]
        if len(keep) < stack.size:
            if not keep:
                stack.keep([])
                return
            index = torch.tensor(keep, dtype=torch.long)
            grads = {k: g.index_select(0, index) for k, g in grads.items()}
            stack.keep(keep)
            self.opt.keep(index)
        rates = torch.tensor([lrs[pos] for pos in keep], dtype=torch.float64)
        with torch.no_grad():
            self.opt.step({k: stack.params[k] for k in names}, grads, rates)


def train_batched(
    build_model: Callable[[int], nn.Module],
    batch: Callable[[int, int], tuple[Inputs, Tensor]],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    members: Sequence[Member],
    optimizer: OptimizerSpec,
    steps: int,
    *,
    evaluate: Callable[[StackedModel], Mapping[str, Sequence[float]]] | None = None,
    eval_every: int | None = None,
    blowup: float = math.inf,
) -> BatchedRun:
    """Train every member for ``steps`` updates as one stacked model; return their results.

    Args:
        build_model: ``build_model(seed)`` -> the member's model with its initial weights
            (deterministic given the seed; the same architecture for every seed). Called once
            per distinct seed.
        batch: ``batch(seed, step)`` -> ``(inputs, targets)`` of one member at one step, with
            ``inputs`` a tensor or a tuple of tensors (the model's positional arguments). Called
            once per distinct seed of the live members at each step, in step order, so a
            per-seed random generator gives each seed its own data order; members that share a
            seed share their batches.
        loss_fn: ``loss_fn(output, targets)`` -> the scalar loss of one member (called under
            ``vmap``: it sees one member's tensors).
        members: the runs: a seed and a learning rate per update (or a controller) each.
        optimizer: the optimiser and its hyper-parameters, shared by every member.
        steps: the number of updates.
        evaluate: ``evaluate(stack)`` -> ``{metric: one value per live member}``, in the order
            of ``stack.members``; called at step 0, every ``eval_every`` updates and after the
            last one. :meth:`StackedModel.forward` runs every live member on shared inputs.
        eval_every: updates between evaluations (default: ``steps``, i.e. start and end).
        blowup: a training loss above this (or non-finite) stops the member before its update.

    Returns:
        A :class:`BatchedRun`: one :class:`MemberResult` per member, in order, and the wall
        time (model building included).

    Raises:
        RampupError: on a bad argument, or a model with batch norm or dropout (p > 0).

    """
    steps = _check_int(steps, "steps", 1)
    every = steps if eval_every is None else _check_int(eval_every, "eval_every", 1)
    if not isinstance(optimizer, OptimizerSpec):
        raise RampupError.invalid(_FUNC, "optimizer", optimizer, "an OptimizerSpec")
    if isinstance(blowup, bool) or not isinstance(blowup, int | float) or not blowup > 0:
        raise RampupError.invalid(_FUNC, "blowup", blowup, "a number > 0 (or math.inf)")
    for name, fn in (("build_model", build_model), ("batch", batch), ("loss_fn", loss_fn)):
        if not callable(fn):
            raise RampupError.invalid(_FUNC, name, fn, "a callable")
    group = _check_members(members, steps)

    start = time.perf_counter()
    built: dict[int, nn.Module] = {}
    for m in group:
        if m.seed not in built:
            built[m.seed] = build_model(m.seed)
    loop = _Training(
        StackedModel([built[m.seed] for m in group], func=_FUNC), group, optimizer, evaluate, blowup
    )
    loop.record(0)
    for t in range(steps):
        loop.step(t, loss_fn, loop.batches(batch, t))
        if not loop.stack.members:
            break
        if (t + 1) % every == 0 or t + 1 == steps:
            loop.record(t + 1)
    return BatchedRun(loop.results, time.perf_counter() - start)
