r"""The scheduler: rampup schedules as a ``torch.optim.lr_scheduler.LRScheduler``.

:class:`Scheduler` sets, before every optimizer update, each param group's learning rate to

.. math:: lr_g(c) = base_g \cdot s_g(c)

where :math:`base_g` is the group's own learning rate when the scheduler was created, :math:`s_g`
its schedule (one for all groups, or one per group) and :math:`c` the **clock**: the number of
updates taken so far, unless a :class:`~rampup.core.clock.ClockController` moves it otherwise. Any
other numeric param-group key (momentum, ``betas[0]``, weight decay, ...) follows a schedule in
absolute values: :math:`v_g(c) = h_g(c)`. Every value is closed-form in the clock: nothing is
derived from the previous value, so a resumed run gets bit for bit the values of an uninterrupted
one. The per-group plan is made by :mod:`rampup.torch.planning`, states are checked by
:mod:`rampup.torch.states`.

>>> import torch, rampup.torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = rampup.torch.Scheduler(opt, "linear(4) >> cosine", total_steps=8)
>>> [round(g["lr"], 4) for g in opt.param_groups]
[0.025]
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from rampup import RampupError
from rampup.core.checks import shown
from rampup.core.clock import ClockController, checked_clock
from rampup.core.schedule import Schedule, Segment
from rampup.torch.planning import (
    PerGroup,
    as_float,
    check_lengths,
    check_optimizer,
    default_controller,
    plan,
    put,
    put_item,
)
from rampup.torch.states import (
    VERSION,
    check_state_shape,
    check_values,
    refuse_another_schedule,
)

__all__ = ["Scheduler"]

_FORMAT = "rampup.torch.Scheduler"


class Scheduler(LRScheduler):
    r"""An ``LRScheduler`` whose values are rampup schedules evaluated at the clock.

    Before update :math:`t` (after :math:`t` calls of :meth:`step`) each param group ``g`` holds

    .. math::
        lr_g = base_g \cdot s_g(c), \qquad v_{g,k} = h_{g,k}(c)

    with :math:`c` the clock (``c = t`` without a controller), :math:`base_g` the group's
    ``initial_lr`` (set to its ``lr`` on creation, torch's convention), :math:`s_g` its learning
    rate schedule (multipliers: the peak is 1) and :math:`h_{g,k}` the schedule of another key ``k``
    in absolute values (``hyper``). Call :meth:`step` once after every optimizer update (not per
    micro-batch of gradient accumulation; not on an update a gradient scaler skipped, see
    :func:`scaler_step`).

    Args:
        optimizer: the optimizer whose param groups are scheduled.
        schedule: the learning-rate multiplier: a schedule or spec string for every group, a
            list with one per group (None: the group's lr is not scheduled) or a mapping by
            group index or ``"name"`` (naming every group; None: not scheduled). None schedules
            no learning rate (give ``hyper`` then).
        hyper: other param-group keys, in absolute values: ``{"momentum": spec}``,
            ``{"betas[0]": spec}``, ``{"weight_decay": [spec, None]}`` ... each per group like
            ``schedule`` (a mapping may leave groups out: they are not scheduled). ``"lr"``
            schedules the learning rate in absolute values.
        total_steps: the length of the run in updates (warmup included), binding ``"5%"`` lengths.
        steps_per_epoch: updates per epoch, binding ``"2ep"`` lengths.
        controller: a :class:`~rampup.core.clock.ClockController` that moves the clock. None: the
            clock counts updates, unless the schedule starts with ``auto``, whose guard
            (:class:`~rampup.adaptive.AdaptiveWarmup`) is then attached; feed it with
            ``scheduler.controller.observe(loss)`` before each :meth:`step`.
        rebind: let :meth:`load_state_dict` accept a state made by a different schedule (e.g. a
            longer run): the clock carries over and this scheduler's schedules apply from it.

    Raises:
        RampupError: for any invalid argument, before anything in the optimizer changes.

    >>> import torch, rampup.torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    >>> momentum = "linear(4, start=0.8, to=0.9)"
    >>> sched = rampup.torch.Scheduler(opt, "linear(4)", hyper={"momentum": momentum})
    >>> for _ in range(4):
    ...     print(sched.get_last_lr(), round(opt.param_groups[0]["momentum"], 4))
    ...     opt.step(); sched.step()
    [0.25] 0.8
    [0.5] 0.8333
    [0.75] 0.8667
    [1.0] 0.9

    """

    _FORMAT: str = _FORMAT
    #: The entries a subclass adds to the state (checked by its ``_check_extra``).
    _EXTRA_KEYS: tuple[str, ...] = ()
    #: Whether a loaded state's base rates are also the groups' ``initial_lr`` (not for Warmup).
    _owns_initial_lr: bool = True

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: PerGroup | None = None,
        *,
        hyper: Mapping[str, PerGroup] | None = None,
        total_steps: int | None = None,
        steps_per_epoch: float | None = None,
        controller: ClockController | None = None,
        rebind: bool = False,
    ) -> None:
        func = type(self).__name__
        groups = check_optimizer(func, optimizer)
        check_lengths(func, total_steps, steps_per_epoch)
        lr, absolute, hyper_slots = plan(
            func, groups, schedule, hyper, total_steps, steps_per_epoch
        )
        if controller is None:
            controller = default_controller(lr)
        if controller is not None and not isinstance(controller, ClockController):
            raise RampupError.invalid(
                func,
                "controller",
                controller,
                "a ClockController (advance, state_dict and load_state_dict methods) or None",
            )
        if not isinstance(rebind, bool):
            raise RampupError.invalid(func, "rebind", rebind, "True or False")
        # -- everything is valid: only now touch the optimizer ---------------------------------
        initial_lrs: list[float] = []
        for g in groups:
            initial = g.get("initial_lr", g["lr"])
            g.setdefault("initial_lr", initial.clone() if isinstance(initial, Tensor) else initial)
            initial_lrs.append(as_float(initial))
        self.optimizer = optimizer
        self.base_lrs: list[float | Tensor] = list(initial_lrs)
        self.last_epoch = 0
        self._step_count = 1  # torch's count: the constructor's initial step is the first
        self._get_lr_called_within_step = False
        self._is_initial = False
        self._clock: float = 0
        self._controller = controller
        self._rebind = rebind
        self._bases = self._start_bases(initial_lrs)
        self._lr = lr
        self._absolute = absolute
        self._hyper = hyper_slots
        self._compile()
        self._write(0)
        self._watch_optimizer()

    def _watch_optimizer(self) -> None:
        """Rewrite the scheduled values whenever the optimizer's state is reloaded.

        ``optimizer.load_state_dict`` brings back the lr (and momentum, ...) the checkpoint held,
        which is not the value at this scheduler's clock when the scheduler kept its own state
        (a guard's restore) or loads its state first: without this the next update would run at
        the checkpoint's stale value. The hook holds the scheduler weakly, and is removed when
        the scheduler is garbage-collected.
        """
        ref = weakref.ref(self)

        def rewrite(optimizer: Optimizer) -> None:
            scheduler = ref()
            if scheduler is not None:
                scheduler._optimizer_reloaded()

        handle = self.optimizer.register_load_state_dict_post_hook(rewrite)
        self._unwatch = weakref.finalize(self, handle.remove)

    def _optimizer_reloaded(self) -> None:
        """The optimizer's groups hold a checkpoint's values: write the clock's values back."""
        if self.last_epoch >= 0:  # not started (a later scheduler of a SequentialLR): not ours
            self._write(self._clock, "Optimizer.load_state_dict")

    def _start_bases(self, initial_lrs: list[float]) -> list[float]:
        """The rates the lr multipliers apply to: each group's ``initial_lr``."""
        return initial_lrs

    # -- compiled per-step plan ------------------------------------------------------------
    def _compile(self) -> None:
        """Bind the per-step functions: the fast path when one multiplier drives every group.

        On that path :meth:`step` keeps the schedule's current segment (``lo, hi, offset,
        formula``: :meth:`~rampup.core.schedule.Schedule.segment`) and calls the phase's own
        formula on ``clock - offset`` while the clock stays inside; it asks the schedule again
        only when the clock crosses a phase boundary. Same formula, same values as ``s(clock)``.
        """
        lr, absolute = self._lr, self._absolute
        first = lr[0]
        self._n_groups = len(self._bases)  # the param groups: as many as at construction
        self._uniform: Callable[[float], float] | None = None
        self._segment: Segment | None = None
        if (
            first is not None
            and not self._hyper
            and not any(absolute)
            and all(s is first for s in lr)
        ):
            self._uniform = first.as_function()
            self._segment = first.segment(0)
        self._lr_fns = [None if s is None else s.as_function() for s in lr]
        self._hyper_fns = [
            (name, index, [None if s is None else s.as_function() for s in scheds])
            for _, name, index, scheds in self._hyper
        ]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key in ("_uniform", "_segment", "_lr_fns", "_hyper_fns", "_unwatch"):  # rebuilt
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._compile()
        self._watch_optimizer()

    def _groups(self, func: str) -> list[dict[str, Any]]:
        """The optimizer's current param groups, which must be as many as at construction."""
        groups: list[dict[str, Any]] = self.optimizer.param_groups
        n = len(self._bases)
        if len(groups) != n:
            raise RampupError(
                f"{func}(): optimizer={type(self.optimizer).__name__} with {len(groups)} param"
                f" groups is invalid: expected the {n} param groups the scheduler was made for"
                " (a group was added or removed; create the scheduler after the last"
                " add_param_group)"
            )
        return groups

    def _write(self, clock: float, func: str | None = None) -> None:
        """Write every scheduled value at ``clock`` into the optimizer's current param groups."""
        groups = self._groups(func or f"{type(self).__name__}.step")
        uniform = self._uniform
        if uniform is not None:
            v = uniform(clock)
            for g, b in zip(groups, self._bases, strict=True):
                x = b * v
                if g["lr"].__class__ is float:
                    g["lr"] = x
                else:
                    put(g, "lr", x)
            return
        for g, b, fn, absolute in zip(
            groups, self._bases, self._lr_fns, self._absolute, strict=True
        ):
            if fn is not None:
                put(g, "lr", fn(clock) if absolute else b * fn(clock))
        for name, index, fns in self._hyper_fns:
            for g, fn in zip(groups, fns, strict=True):
                if fn is None:
                    continue
                if index is None:
                    put(g, name, fn(clock))
                else:
                    put_item(g, name, index, fn(clock))

    # -- stepping ----------------------------------------------------------------------------
    def step(self, epoch: int | None = None) -> None:
        """Count one optimizer update and write the next update's values.

        Call it after ``optimizer.step()``. The clock moves by one (or where the controller puts
        it). ``step(epoch)`` instead jumps to ``epoch`` updates taken (clock = ``epoch``), in O(1);
        it is refused with a controller, whose clock cannot be derived from a count.
        """
        if epoch is not None:
            self._seek(epoch)
            return
        groups = self.optimizer.param_groups
        bases = self._bases
        if len(groups) != self._n_groups:  # before the controller moves: nothing half-applied
            self._groups(f"{type(self).__name__}.step")
        n = self.last_epoch + 1
        controller = self._controller
        if controller is None:
            clock: float = n  # the clock is the count (which torch's SequentialLR may move)
        else:
            old = self._clock
            clock = checked_clock(
                f"{type(self).__name__}.step", controller, controller.advance(n, old), old
            )
        self.last_epoch = n
        self._step_count += 1
        self._clock = clock
        segment = self._segment
        if segment is None:
            self._write(clock)  # the general case
            return
        # the common case inline: one multiplier for every group (see _write), read from the
        # current segment of its schedule while the clock stays inside it (see _compile)
        lo, hi, offset, formula = segment
        v = formula(clock - offset) if lo <= clock < hi else self._enter(clock)
        i = 0
        for g in groups:  # an index, not zip(): zip's iterator costs more than the loop
            x = bases[i] * v
            i += 1  # noqa: SIM113  # enumerate() too would build an iterator every step
            if g["lr"].__class__ is float:
                g["lr"] = x
            else:
                put(g, "lr", x)

    def _enter(self, clock: float) -> float:
        """The value at ``clock``, which left the current segment: move to the one it is in."""
        first = self._lr[0]
        if first is None:  # pragma: no cover - a segment is kept only for a uniform schedule
            raise RuntimeError("Scheduler._enter: no schedule drives every group")
        v = first(clock)  # checked as s(clock) checks it
        self._segment = first.segment(clock)
        return v

    def _seek(self, epoch: object) -> None:
        func = f"{type(self).__name__}.step"
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise RampupError.invalid(
                func, "epoch", epoch, "an int >= 0: the number of updates taken"
            )
        if self._controller is not None:
            raise RampupError.invalid(
                func, "epoch", epoch, "no epoch with a controller: its clock is not a count"
            )
        self._write(epoch)
        self.last_epoch = epoch
        self._step_count = epoch + 1
        self._clock = epoch

    # -- torch's composite schedulers ---------------------------------------------------------
    def _initial_step(self) -> None:
        """Back to update 0 with its values written, in O(1).

        torch's ``SequentialLR`` undoes its schedulers' first steps (``last_epoch -= 1``), then
        calls this on the scheduler that runs first; it switches to a later one with
        ``_update_lr(0)``. Both keep the clock equal to the count, so a rampup scheduler runs
        inside a ``SequentialLR`` with its own values (``>>`` joins rampup phases without one).
        """
        self._write(0.0, f"{type(self).__name__}._initial_step")
        self.last_epoch = 0
        self._step_count = 1
        self._clock = 0.0

    def _update_lr(self, epoch: int | None = None) -> None:
        """Torch's internal step (``SequentialLR`` calls ``_update_lr(0)`` at a milestone)."""
        if epoch is None:
            Scheduler.step(self)
        else:
            self._seek(epoch)

    # -- reading ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        def specs(scheds: list[Schedule | None]) -> object:
            texts = [None if x is None else str(x) for x in scheds]
            return texts[0] if len(set(texts)) == 1 else texts

        hyper = "".join(f", {key}={specs(sc)!r}" for key, _, _, sc in self._hyper)
        return (
            f"{type(self).__name__}(lr={specs(self._lr)!r}{hyper}, last_epoch={self.last_epoch},"
            f" clock={float(self._clock)!r})"
        )

    @property
    def clock(self) -> float:
        """The position on the schedules: the updates taken, unless a controller moved it."""
        return float(self._clock)

    @property
    def controller(self) -> ClockController | None:
        """The clock's controller, or None."""
        return self._controller

    def _lr_values(self, clock: float) -> list[float]:
        groups = self._groups(f"{type(self).__name__}.get_last_lr")
        out = []
        for g, b, fn, absolute in zip(
            groups, self._bases, self._lr_fns, self._absolute, strict=True
        ):
            if fn is None:
                out.append(as_float(g["lr"]))
            else:
                out.append(fn(clock) if absolute else b * fn(clock))
        return out

    def get_last_lr(self) -> list[float]:  # type: ignore[override]  # floats, never tensors
        """The learning rate of every group for the next update, as floats (closed form).

        For a tensor ``lr`` this is the exact value; the tensor holds it rounded to its dtype.
        """
        return self._lr_values(self._clock)

    def get_lr(self) -> list[float]:  # type: ignore[override]  # floats, never tensors
        """Same as :meth:`get_last_lr`: the values are closed-form in the clock."""
        return self._lr_values(self._clock)

    @property
    def values(self) -> list[dict[str, float]]:
        """Per group, every scheduled value for the next update: ``{"lr": ..., "momentum": ...}``.

        Keys of tuple items read ``"betas[0]"``; an unscheduled key is absent.
        """
        self._groups(f"{type(self).__name__}.values")
        clock = self._clock
        out: list[dict[str, float]] = [{} for _ in self._bases]
        for i, (b, fn, absolute) in enumerate(
            zip(self._bases, self._lr_fns, self._absolute, strict=True)
        ):
            if fn is not None:
                out[i]["lr"] = fn(clock) if absolute else b * fn(clock)
        for (key, _, _, _), (_, _, fns) in zip(self._hyper, self._hyper_fns, strict=True):
            for i, fn in enumerate(fns):
                if fn is not None:
                    out[i][key] = fn(clock)
        return out

    # -- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The state as plain data: the specs, the base rates, the update count and the clock.

        Loads with ``torch.load(..., weights_only=True)``; no code, no lambdas, no tensors.
        """
        return {
            "format": self._FORMAT,
            "version": VERSION,
            "lr": [None if s is None else str(s) for s in self._lr],
            "lr_absolute": list(self._absolute),
            "hyper": {
                key: [None if s is None else str(s) for s in sc] for key, _, _, sc in self._hyper
            },
            "base_lrs": list(self._bases),
            "last_epoch": self.last_epoch,
            "clock": float(self._clock),
            "controller": None if self._controller is None else self._controller.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any], *, rebind: bool | None = None) -> None:
        """Restore a state in O(1) and write its values into the optimizer at once.

        The learning rates (and every scheduled key) are rewritten immediately, so the order of
        ``optimizer.load_state_dict`` and this call does not matter. A state made by a different
        schedule is refused unless ``rebind`` (default: the constructor's ``rebind``): then the
        update count and the clock carry over and this scheduler's own schedules apply from them.

        Raises:
            RampupError: for a corrupted or foreign state, or another schedule's state; nothing
                is changed then.

        """
        func = f"{type(self).__name__}.load_state_dict"
        if rebind is None:
            rebind = self._rebind
        elif not isinstance(rebind, bool):
            raise RampupError.invalid(func, "rebind", rebind, "True, False or None")
        self._check_state(func, state_dict, rebind)
        self._groups(func)
        controller_state = state_dict["controller"]
        controller = self._controller
        # The controller and `after` validate their own states only when loading them: keep
        # theirs, and put them back if a load fails, so that a refused state changes nothing.
        undo_controller = None if controller is None else copy.deepcopy(controller.state_dict())
        undo_extra = self._save_extra()
        try:
            if controller is not None and controller_state is not None:
                controller.load_state_dict(controller_state)
            self._load_extra(state_dict)
        except Exception as exc:
            if controller is not None and undo_controller is not None:
                controller.load_state_dict(undo_controller)
            self._restore_extra(undo_extra)
            raise RampupError(
                f"{func}(): state_dict={shown(state_dict)} is invalid: expected a state its"
                f" parts load from; loading them raised {type(exc).__name__}: {exc}. Nothing"
                " was changed"
            ) from exc
        bases = [float(b) for b in state_dict["base_lrs"]]
        if self._owns_initial_lr:
            for g, b in zip(self.optimizer.param_groups, bases, strict=True):
                if not isinstance(g.get("initial_lr"), Tensor):
                    g["initial_lr"] = b
            self.base_lrs = list(bases)
        self._bases = bases
        self.last_epoch = state_dict["last_epoch"]
        self._step_count = self.last_epoch + 1
        self._clock = float(state_dict["clock"])
        if self.last_epoch >= 0:
            self._write(self._clock, func)
        else:  # not started (a later scheduler of torch's SequentialLR): the lr is not its own
            self._step_count = 0

    def _check_state(self, func: str, state: object, rebind: bool) -> None:
        """Validate a state completely, before anything changes; refuse another schedule's."""
        n = len(self._bases)
        checked = check_state_shape(
            func, self._FORMAT, state, n, self._controller is not None, self._EXTRA_KEYS
        )
        if isinstance(state, Mapping):  # always, after the check above
            self._check_extra(func, state)
            self._check_values(func, state["base_lrs"], float(state["clock"]))
        if not rebind:
            mine = {key: scheds for key, _, _, scheds in self._hyper}
            refuse_another_schedule(
                func, state, checked, self._lr, self._absolute, mine, self._controller is not None
            )

    def _check_values(self, func: str, bases: list[float], clock: float) -> None:
        """Every value this scheduler would write at ``clock`` from ``bases`` must be finite."""
        check_values(func, bases, clock, self._lr_fns, self._absolute, self._hyper_fns)

    # hooks for Warmup
    def _check_extra(self, func: str, state: Mapping[str, Any]) -> None:
        """Validate subclass entries of a state (before anything changes)."""

    def _load_extra(self, state: Mapping[str, Any]) -> None:
        """Apply subclass entries of a validated state."""

    def _save_extra(self) -> object:
        """What :meth:`_restore_extra` needs to undo :meth:`_load_extra`."""
        return None

    def _restore_extra(self, saved: object) -> None:
        """Undo a failed :meth:`_load_extra`."""
