r"""Adaptive warmup: the stability monitor acting on the warmup through the schedule's clock.

:class:`AdaptiveWarmup` is a :class:`~rampup.core.clock.ClockController`: give it to
:class:`rampup.torch.Scheduler` and feed it the loss between updates::

    guard = AdaptiveWarmup.for_schedule(schedule)      # or AdaptiveWarmup(warmup_steps=...)
    sched = rampup.torch.Scheduler(opt, schedule, controller=guard)
    for batch in data:
        opt.zero_grad()
        loss = model(batch)
        loss.backward()
        action = guard.observe(loss.detach(), grad_norm=norm)   # before sched.step()
        if action is not None:                                   # a non-finite loss
            restore_model_and_optimizer(last_good_checkpoint)    # keep the scheduler as it is
            guard.restored()
            continue                                             # no step from NaN gradients
        opt.step()
        sched.step()

What it does to the clock :math:`c` on each update (rate :math:`r`, :math:`c \leftarrow c + r`):

- **stable** (no rule of the monitor held on the last loss observed): :math:`r = 1/S`;
- **unstable** (a spike, a gradient spike, a divergence, the classic rule): **hold**, :math:`r = 0`;
- for ``cooldown`` updates after an unstable one: **slow**, :math:`r = \mathrm{slow}/S`;
- **non-finite** loss or gradient: the remaining warmup is **stretched**, :math:`S \leftarrow
  \min(S \cdot \mathrm{stretch}, \mathrm{max\_stretch})`, and :meth:`AdaptiveWarmup.observe`
  returns an :class:`Action` telling the caller to restore the last good checkpoint. Until the
  caller confirms with :meth:`AdaptiveWarmup.restored`, the next ``advance`` raises
  :class:`RestoreRequired`: training never silently continues from NaN weights.

:math:`S` (the stretch, 1 at first) only applies inside the warmup (``clock < warmup_steps``),
and the monitor is told an update is inside the warmup by the same test, so its warmup rules
watch a held or stretched warmup to its end, however many updates it takes.
After the warmup the clock moves by 1 per update, so the decay keeps its shape and its length in
updates and is only **shifted** by the delay :math:`d` (the updates the warmup was held or slowed
for): the last :math:`d` steps of the decay are not reached by the end of a run of
``total_steps`` updates. With ``catch_up=True`` (needs ``total_steps``) the decay is instead
**compressed** uniformly, at rate :math:`(T - c) / (T - u + 1)`, to end exactly on the run's last
update: same shape and end value, :math:`d` fewer updates.

Under ``torch.distributed`` (initialised, world size > 1) :meth:`AdaptiveWarmup.observe` first
reduces the signals across ranks with one ``all_reduce(MAX)``: the largest loss and norm of any
rank, and non-finite on any rank is non-finite everywhere; every rank feeds its monitor the same
numbers, so every rank takes the same decisions and keeps the same clock.

The ``auto`` warmup (spec ``auto >> cosine``) is the untuned warmup of Ma & Yarats (2019),
linear over :math:`2 / (1 - \beta_2)` updates (:func:`rampup.core.shapes.untuned_steps`), meant
to run with this guard. It is a core phase, :class:`rampup.core.auto_warmup.Auto` (also
importable from :mod:`rampup.adaptive`); its :meth:`~rampup.core.auto_warmup.Auto.guard` builds
this controller.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from rampup import RampupError
from rampup.core.checks import (
    check_count,
    check_flag,
    check_number,
    check_optional_count,
    check_optional_flag,
    check_real,
    shown,
)
from rampup.core.schedule import Schedule, iter_phases
from rampup.core.spec import parse
from rampup.guard import monitor_state
from rampup.guard._fields import Fields
from rampup.guard.monitor import Monitor
from rampup.guard.reduce import distributed_active, reduced

__all__ = ["Action", "AdaptiveWarmup", "RestoreRequired"]

_STATE_VERSION = 1


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    """What the caller must do: ``kind="restore"`` = restore the last good checkpoint.

    Restore the model's and the optimizer's state from the last checkpoint saved before ``step``,
    keep the scheduler (and this controller) as they are, then call
    :meth:`AdaptiveWarmup.restored`. ``stretch`` is the factor the remaining warmup now runs
    slower by.
    """

    kind: Literal["restore"]
    step: int
    stretch: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The action as plain data."""
        return asdict(self)


class RestoreRequired(RampupError):  # noqa: N818  # reads as the state it reports
    """The loss was non-finite and the caller stepped on without restoring a checkpoint."""


# ---------------------------------------------------------------------------------------------
class AdaptiveWarmup:
    """A clock controller that holds, slows and stretches the warmup while training is unstable.

    Args:
        warmup_steps: the warmup's length on the clock (its phase's length in steps).
        monitor: the :class:`~rampup.Monitor` whose rules decide (default: ``Monitor(warmup)``).
        slow: the rate of the clock for ``cooldown`` updates after an unstable one, in (0, 1].
        cooldown: updates run at ``slow`` after the last unstable one.
        max_hold: the most updates in a row the clock is held; after that it moves at ``slow``
            even while unstable (None: hold as long as training is unstable).
        stretch: factor the remaining warmup is slowed by after each non-finite loss, >= 1.
        max_stretch: the largest total stretch.
        total_steps: the run's length in updates; needed by ``catch_up``.
        catch_up: compress the decay after the warmup to end on the run's last update (True),
            or shift it by the delay (False, the default).
        distributed: reduce the signals across ranks before deciding: None (default) when
            ``torch.distributed`` is initialised with several ranks, True always (error if it is
            not initialised), False never.
        group: the ``torch.distributed`` process group to reduce over (None: the default).
        on_restore: called with the :class:`Action` when a restore is needed; when it returns,
            the restore counts as done (no need to call :meth:`restored`).

    """

    def __init__(
        self,
        warmup_steps: int,
        *,
        monitor: Monitor | None = None,
        slow: float = 0.5,
        cooldown: int = 10,
        max_hold: int | None = None,
        stretch: float = 2.0,
        max_stretch: float = 16.0,
        total_steps: int | None = None,
        catch_up: bool = False,
        distributed: bool | None = None,
        group: object = None,
        on_restore: Callable[[Action], object] | None = None,
    ) -> None:
        name = "AdaptiveWarmup"
        self.warmup_steps = check_count(
            name, "warmup_steps", warmup_steps, 1, "a positive int (steps on the clock)"
        )
        if monitor is None:
            monitor = Monitor(warmup_steps)
        elif not isinstance(monitor, Monitor):
            raise RampupError.invalid(name, "monitor", monitor, "a rampup.Monitor or None")
        self.monitor = monitor
        self.slow = check_number(name, "slow", slow, low=0.0, high=1.0, low_open=True)
        self.cooldown = check_count(name, "cooldown", cooldown, 0, "an int >= 0")
        self.max_hold = check_optional_count(
            name, "max_hold", max_hold, 1, "None or a positive int"
        )
        self.stretch = check_number(name, "stretch", stretch, low=1.0)
        self.max_stretch = check_number(name, "max_stretch", max_stretch, low=1.0)
        self.total_steps = check_optional_count(
            name, "total_steps", total_steps, 1, "None or a positive int (the whole run)"
        )
        if check_flag(name, "catch_up", catch_up) and total_steps is None:
            raise RampupError.invalid(
                name, "catch_up", catch_up, "False without total_steps (give the run length)"
            )
        self.catch_up = catch_up
        self.distributed = check_optional_flag(
            name, "distributed", distributed, "None (auto), True or False"
        )
        self.group = group
        if on_restore is not None and not callable(on_restore):
            raise RampupError.invalid(
                name, "on_restore", on_restore, "a callable taking the Action, or None"
            )
        self.on_restore = on_restore
        self._reset()

    def _reset(self) -> None:
        self.factor = 1.0  # the total stretch S of the remaining warmup
        self.cooling = 0  # updates left at the slow rate
        self.fresh = False  # a loss was observed since the last advance
        self.pending: Action | None = None
        self.holds = 0  # updates the clock was held for
        self.held = 0  # unstable updates in a row, up to now
        self.slowed = 0  # updates the clock moved by less than 1 (slowed or stretched)
        self._clock_hint = 0.0  # the clock last returned by advance()

    @classmethod
    def for_schedule(
        cls, schedule: Schedule | str, total_steps: int | None = None, **kwargs: Any
    ) -> AdaptiveWarmup:
        """The guard of a schedule whose first phase is a warmup (``auto``, ``linear``, ...).

        The warmup's length is the schedule's first phase boundary (bound to ``total_steps`` if
        given). ``kwargs`` are the other arguments of :class:`AdaptiveWarmup`.

        >>> guard = AdaptiveWarmup.for_schedule("auto(0.98) >> cosine", total_steps=400)
        >>> guard.warmup_steps
        100
        """
        func = "AdaptiveWarmup.for_schedule"
        if isinstance(schedule, str):
            schedule = parse(schedule)
        if not isinstance(schedule, Schedule):
            raise RampupError.invalid(
                func, "schedule", schedule, "a rampup schedule or a spec string"
            )
        if total_steps is not None:
            schedule = schedule.bind(total_steps=total_steps)
        phases = list(iter_phases(schedule))
        bounds = schedule.bounds
        if not phases or not bounds:
            raise RampupError.invalid(
                func, "schedule", str(schedule), "a schedule that starts with a warmup"
            )
        known = set(inspect.signature(cls).parameters) - {"warmup_steps", "total_steps"}
        for key, value in kwargs.items():
            if key not in known:
                raise RampupError.invalid(
                    func, key, value, f"one of the arguments {', '.join(sorted(known))}"
                )
        return cls(bounds[0], total_steps=total_steps, **kwargs)

    # -- observing -------------------------------------------------------------------------------
    def observe(
        self,
        loss: object,
        *,
        grad_norm: object = None,
        update_norm: object = None,
        lr: object = None,
    ) -> Action | None:
        """Feed the loss of the update about to be taken (and its norms); call before ``step()``.

        Returns an :class:`Action` when the loss or a norm is non-finite (restore the last good
        checkpoint), else None. Never raises for a number; a wrong type is a RampupError.
        """
        func = "AdaptiveWarmup.observe"
        x = check_real(func, "loss", loss)
        g = None if grad_norm is None else check_real(func, "grad_norm", grad_norm)
        u = None if update_norm is None else check_real(func, "update_norm", update_norm)
        rate = None if lr is None else check_real(func, "lr", lr)  # checked before any reduction
        if self._reduce_now():
            x, g, u = reduced(x, g, u, self.group)
        # the warmup is where the clock is, not where the update count is: held or stretched,
        # it lasts longer than warmup_steps updates, and the warmup rules watch all of it
        warm = self._clock_hint < self.warmup_steps
        self.monitor.update(x, grad_norm=g, update_norm=u, lr=rate, in_warmup=warm)
        self.fresh = True
        if not self.monitor.nonfinite:
            return None
        in_warmup = warm
        if in_warmup:
            self.factor = min(self.factor * self.stretch, self.max_stretch)
        where = "the remaining warmup now runs" if in_warmup else "after the warmup, nothing"
        stretched = f" {self.factor:g}x slower" if in_warmup else " is stretched"
        action = Action(
            "restore",
            self.monitor.step,
            self.factor,
            f"non-finite loss or gradient at step {self.monitor.step}: restore the model and the"
            f" optimizer from the last good checkpoint (keep the scheduler), then call"
            f" restored(); {where}{stretched}",
        )
        self.pending = action
        if self.on_restore is not None:
            self.on_restore(action)
            self.pending = None
        return action

    def restored(self) -> None:
        """Confirm the restore asked for by the last :class:`Action`; training may go on."""
        self.pending = None

    def _reduce_now(self) -> bool:
        if self.distributed is False:
            return False
        active = distributed_active()
        if self.distributed is True and not active:
            raise RampupError.invalid(
                "AdaptiveWarmup.observe",
                "distributed",
                True,
                "an initialised torch.distributed process group (init_process_group first)",
            )
        return active

    # -- the clock ---------------------------------------------------------------------------------
    def rate(self) -> float:
        """The clock's rate inside the warmup for the next advance (0 = hold), from the monitor."""
        if self.fresh and self.monitor.unstable:
            if self.max_hold is None or self.held < self.max_hold:
                return 0.0
            return self.slow / self.factor
        if self.cooling > 0:
            return self.slow / self.factor
        return 1.0 / self.factor

    def advance(self, update: int, clock: float) -> float:
        """The clock after update ``update`` (the :class:`~rampup.core.clock.ClockController`).

        Raises :class:`RestoreRequired` if a non-finite loss was observed and not yet restored.
        """
        if self.pending is not None:
            raise RestoreRequired(
                f"AdaptiveWarmup.advance(): update={update} is invalid: expected a restore first:"
                f" {self.pending.message}"
            )
        w = float(self.warmup_steps)
        r_warm = self.rate()
        if self.fresh and self.monitor.unstable:
            self.cooling = self.cooldown
            self.held += 1
        else:
            self.held = 0
            self.cooling = max(0, self.cooling - 1)
        self.fresh = False
        if clock < w:
            if r_warm == 0.0:
                self.holds += 1
            elif r_warm < 1.0:
                self.slowed += 1
            new = clock + r_warm
            if new > w:  # the rest of this update's time runs at the rate after the warmup
                used = (w - clock) / r_warm
                new = w + (1.0 - used) * self._after_rate(update, w)
        else:
            new = clock + self._after_rate(update, clock)
        self._clock_hint = new
        return new

    def _after_rate(self, update: int, clock: float) -> float:
        """The clock's rate after the warmup: 1, or the uniform catch-up rate."""
        t = self.total_steps
        if not self.catch_up or t is None or update - 1 >= t or clock >= t:
            return 1.0
        return max(1.0, (t - clock) / (t - update + 1))

    # -- state -------------------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {
            "warmup_steps": self.warmup_steps,
            "slow": self.slow,
            "cooldown": self.cooldown,
            "max_hold": self.max_hold,
            "stretch": self.stretch,
            "max_stretch": self.max_stretch,
            "total_steps": self.total_steps,
            "catch_up": self.catch_up,
        }

    def state_dict(self) -> dict[str, Any]:
        """The controller's and its monitor's state as plain data (the scheduler stores it)."""
        return {
            "version": _STATE_VERSION,
            "config": self._config(),
            "factor": self.factor,
            "cooling": self.cooling,
            "fresh": self.fresh,
            "pending": None if self.pending is None else self.pending.to_dict(),
            "holds": self.holds,
            "held": self.held,
            "slowed": self.slowed,
            "clock_hint": self._clock_hint,
            "monitor": self.monitor.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s data; a state of another configuration is refused.

        Every field, the monitor's included, is checked before anything changes (type,
        finiteness, range, consistency with this controller's configuration): a bad state
        raises a RampupError naming the field (e.g. ``state['factor']``, or
        ``state['monitor']['step']``), the value and what was expected, and changes nothing.
        """
        func = "AdaptiveWarmup.load_state_dict"
        maker = "AdaptiveWarmup.state_dict"
        f = Fields(func, "state", state, maker)
        if type(f.get("version")) is not int or f.get("version") != _STATE_VERSION:
            raise f.bad("version", f"{_STATE_VERSION} (a state made by {maker})")
        if f.get("config") != self._config():
            raise RampupError.invalid(
                func,
                f.name("config"),
                f.get("config"),
                f"the state of a controller configured as this one ({self._config()})",
            )
        factor = f.float_("factor", finite=True)
        least = min(self.stretch, self.max_stretch)  # the stretch after one non-finite loss
        if not (factor == 1.0 or least <= factor <= self.max_stretch):
            raise f.bad(
                "factor",
                f"1 (never stretched) or a stretch in [{least:g}, max_stretch="
                f"{self.max_stretch:g}] (stretch={self.stretch:g} per non-finite loss)",
            )
        cooling = f.int_("cooling", 0, self.cooldown)
        fresh = f.bool_("fresh")
        top = sys.maxsize
        holds, held, slowed = (
            f.int_("holds", 0, top),
            f.int_("held", 0, top),
            f.int_("slowed", 0, top),
        )
        hint = f.float_("clock_hint", finite=True, low=0.0)
        action = None
        if f.get("pending") is not None:
            p = f.sub("pending", "Action.to_dict")
            if p.get("kind") != "restore":
                raise p.bad("kind", "'restore'")
            action = Action(
                "restore", p.int_("step", 0, top), p.float_("stretch"), p.str_("message")
            )
            if action.stretch != factor:
                raise p.bad("stretch", f"the state's factor {factor:g} (the stretch it asked for)")
        monitor = monitor_state.read(self.monitor, f.get("monitor"), func, f.name("monitor"))
        if fresh and monitor.step < 0:
            raise f.bad("fresh", "False: the monitor state has seen no loss yet")
        if action is not None and action.step > monitor.step:
            raise RampupError.invalid(
                func,
                f.sub("pending", "Action.to_dict").name("step"),
                action.step,
                f"a step <= the monitor's last step {monitor.step}",
            )
        self.monitor.__dict__.update(monitor.__dict__)  # nothing raises from here on
        self.factor, self.cooling, self.fresh, self.pending = factor, cooling, fresh, action
        self.holds, self.slowed, self.held, self._clock_hint = holds, slowed, held, hint

    def __repr__(self) -> str:
        return (
            f"AdaptiveWarmup(warmup_steps={self.warmup_steps}, stretch={self.factor:g},"
            f" holds={self.holds}, slowed={self.slowed}, pending={shown(self.pending)})"
        )
