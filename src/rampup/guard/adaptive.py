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
- with ``rewind=True``: a non-finite value, a **divergence** or a **stall** (at most
  ``max_rewinds`` times for the last two) returns ``Action(kind="rewind")`` once the caller has
  taken a snapshot: restore the model and the optimizer from it, set the scheduler's clock back
  to the snapshot's (``action.clock``), then :meth:`AdaptiveWarmup.restored`. The guard's own
  clock goes back with it, and the warmup left at the snapshot is stretched as above. The
  snapshots: after each update, :meth:`AdaptiveWarmup.snapshot_due` says whether to take one
  (every ``snapshot_every`` updates, while training is healthy: every signal read, no rule
  holding, no cooldown, the loss visibly learning), and :meth:`AdaptiveWarmup.snapshotted`
  records where it was taken. :class:`rampup.torch.rewind.Rewinder` keeps it in memory.

**Host reads.** ``observe`` keeps 0-dim tensors unread and reads them every ``read_every``
updates with one host read (:mod:`rampup.guard.reads`; default: at once for numbers, every 16
updates for tensors), so the decisions about an update lag it by at most ``read_every - 1``
updates: a spike holds the clock from the update after its read, a non-finite loss asks for its
restore at the read (the updates since were taken from its weights: rewind, or restore a
checkpoint from before it).

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
from collections.abc import Callable
from typing import Any

from rampup import RampupError
from rampup.core.checks import (
    check_count,
    check_flag,
    check_number,
    check_optional_count,
    check_optional_flag,
    shown,
)
from rampup.core.schedule import Schedule, iter_phases
from rampup.core.spec import parse
from rampup.guard import adaptive_state
from rampup.guard.actions import Action, RestoreRequired
from rampup.guard.monitor import Monitor
from rampup.guard.reads import Reader, Reads, Row
from rampup.guard.reduce import distributed_active, reduced_rows

__all__ = ["Action", "AdaptiveWarmup", "RestoreRequired"]


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
        rewind: answer a non-finite value, a divergence or a stall with a rewind to the last
            snapshot (see :meth:`snapshot_due`); False (default): restore actions only.
        snapshot_every: the fewest updates between two snapshots.
        max_rewinds: the most rewinds for divergences and stalls (a non-finite value always
            rewinds).
        read_every: updates per host read of the signals (None: at once for numbers,
            :data:`~rampup.guard.reads.DEFERRED_READ_EVERY` for 0-dim tensors).
        reader: how a batch of deferred values is read (default
            :func:`rampup.guard.reads.read_values`: one host read through the values' methods).

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
        rewind: bool = False,
        snapshot_every: int = 16,
        max_rewinds: int = 4,
        read_every: int | None = None,
        reader: Reader | None = None,
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
        self.rewind = check_flag(name, "rewind", rewind)
        self.snapshot_every = check_count(
            name, "snapshot_every", snapshot_every, 1, "an int >= 1 (updates)"
        )
        self.max_rewinds = check_count(name, "max_rewinds", max_rewinds, 0, "an int >= 0")
        self.read_every = check_optional_count(
            name, "read_every", read_every, 1, "None or an int >= 1 (updates per host read)"
        )
        if reader is not None and not callable(reader):
            raise RampupError.invalid(
                name, "reader", reader, "a callable taking the values and returning floats"
            )
        self.reader = reader
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
        self.unstable = False  # a rule held on an update of the last read
        self.update = 0  # the update count of the last advance
        self.snapshot: tuple[int, float, int] | None = None  # (update, clock, monitor step)
        self.rewinds = 0  # rewinds for divergences and stalls so far
        self.reads = Reads(self.read_every, self.reader)

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

        Numbers are read at once; 0-dim tensors are kept and read every ``read_every`` updates
        with one host read, and the rules run then on every update of the batch. Returns an
        :class:`Action` when the caller must restore (a non-finite value) or rewind (with
        ``rewind=True``: a non-finite value, a divergence or a stall), else None. Never raises
        for a number; a wrong type is a RampupError.
        """
        # the warmup is where the clock is, not where the update count is: held or stretched,
        # it lasts longer than warmup_steps updates, and the warmup rules watch all of it
        row: Row = (loss, grad_norm, update_norm, lr, self._clock_hint < self.warmup_steps)
        reads = self.reads
        reads.add(self.monitor.step + len(reads.rows) + 1, row)
        if not reads.due():
            return None
        rows = reads.take()
        if self._reduce_now():
            signals = reduced_rows([(r[0], r[1], r[2]) for r in rows], self.group)
            rows = [(*v, r[3], r[4]) for v, r in zip(signals, rows, strict=True)]
        return self._decide(rows)

    def _decide(self, rows: list[Row]) -> Action | None:
        """Feed the rows read to the monitor; the action their first trouble asks for."""
        unstable, cause = False, None
        for x, g, u, rate, warm in rows:
            new = self.monitor.update(x, grad_norm=g, update_norm=u, lr=rate, in_warmup=warm)
            unstable = unstable or self.monitor.unstable
            if cause is None and self.monitor.nonfinite:
                cause = ("non-finite loss or gradient", self.monitor.step, warm)
            elif cause is None and self.rewind:
                for e in new:
                    if e.kind in ("stall", "divergence"):
                        what = "loss stalled" if e.kind == "stall" else "loss diverged"
                        cause = (what, e.step, warm)
        self.fresh, self.unstable = True, unstable
        if cause is None:
            return None
        what, step, warm = cause
        nonfinite = what.startswith("non-finite")
        snapshot = self.snapshot
        if self.rewind and snapshot is not None and (nonfinite or self.rewinds < self.max_rewinds):
            action = self._rewind(what, step, nonfinite, snapshot)
        elif nonfinite:
            action = self._restore(step, warm)
        else:
            return None
        self.pending = action
        if self.on_restore is not None:
            self.on_restore(action)
            self.pending = None
        return action

    def _restore(self, step: int, in_warmup: bool) -> Action:
        if in_warmup:
            self.factor = min(self.factor * self.stretch, self.max_stretch)
        where = "the remaining warmup now runs" if in_warmup else "after the warmup, nothing"
        stretched = f" {self.factor:g}x slower" if in_warmup else " is stretched"
        return Action(
            "restore",
            step,
            self.factor,
            f"non-finite loss or gradient at step {step}: restore the model and the"
            f" optimizer from the last good checkpoint (keep the scheduler), then call"
            f" restored(); {where}{stretched}",
        )

    def _rewind(
        self, what: str, step: int, nonfinite: bool, snapshot: tuple[int, float, int]
    ) -> Action:
        r"""Go back to the snapshot's weights and into a slower warmup; a fresh horizon.

        The stretch grows, :math:`S \leftarrow \min(S \cdot \mathrm{stretch},
        \mathrm{max\_stretch})`, and the clock goes back to the snapshot's, but never past
        :math:`W / S` (``warmup_steps`` over the new stretch): a snapshot taken after the warmup
        (or late in it) resumes inside the warmup, at about :math:`1/S` of the peak for a linear
        warmup, and climbs back :math:`S` times slower (:math:`W (S - 1)` updates to the peak).
        Holding the clock cannot undo a ramp that was too steep; this lowers it and redoes it.
        """
        update, snap_clock, _ = snapshot
        self.factor = min(self.factor * self.stretch, self.max_stretch)
        clock = min(snap_clock, self.warmup_steps / self.factor)
        self.rewinds += 0 if nonfinite else 1
        self._clock_hint, self.cooling, self.held = clock, 0, 0
        self.fresh = self.unstable = False
        self.monitor.rewound()
        back = "" if clock == snap_clock else f" (the snapshot's {snap_clock:g}, capped at W/S)"
        return Action(
            "rewind",
            step,
            self.factor,
            f"{what} at step {step}: rewind: restore the model and the optimizer from the"
            f" snapshot of update {update}, put the scheduler's clock back at {clock:g}{back},"
            f" then call restored(); the warmup left runs {self.factor:g}x slower",
            update=update,
            clock=clock,
        )

    # -- snapshots (rewind=True) -------------------------------------------------------------------
    def snapshot_due(self) -> bool:
        """Whether to snapshot the model and the optimizer now (call after ``sched.step()``).

        True with ``rewind=True`` when nothing is pending or unread, no rule held on the last
        read and no cooldown runs, the monitor sees no stall and the loss is visibly learning
        (:meth:`Monitor.improving`), and ``snapshot_every`` updates passed since the last
        snapshot (or none was taken: before the first update, the initial state is one).
        """
        m = self.monitor
        if not self.rewind or self.pending is not None or self.reads.rows:
            return False
        if m.step >= 0 and (self.unstable or self.cooling or m.nonfinite or m.stalled):
            return False
        if not m.improving():
            return False
        return self.snapshot is None or self.update - self.snapshot[0] >= self.snapshot_every

    def snapshotted(self) -> None:
        """Record that a snapshot was just taken: at this update count and clock."""
        self.snapshot = (self.update, self._clock_hint, self.monitor.step)

    @property
    def host_reads(self) -> int:
        """How many batch reads of deferred values (host syncs) the guard made so far."""
        return self.reads.host_reads

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
        if self.fresh and self.unstable:
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
        if self.fresh and self.unstable:
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
        self._clock_hint, self.update = new, update
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
            "rewind": self.rewind,
            "snapshot_every": self.snapshot_every,
            "max_rewinds": self.max_rewinds,
            "read_every": self.read_every,
        }

    def state_dict(self) -> dict[str, Any]:
        """The controller's and its monitor's state as plain data (the scheduler stores it).

        Signals observed but not read yet are read now (one host read) and kept, as numbers,
        until their batch is due: a checkpoint never moves where the decisions fall.
        """
        return adaptive_state.dump(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s data; a state of another configuration is refused.

        Every field, the monitor's included, is checked before anything changes (type,
        finiteness, range, consistency with this controller's configuration): a bad state
        raises a RampupError naming the field (e.g. ``state['factor']``, or
        ``state['monitor']['step']``), the value and what was expected, and changes nothing.
        A state of version 1 (before rewinds and buffered reads) loads into a controller with
        their defaults.
        """
        adaptive_state.load(self, state)

    def __repr__(self) -> str:
        return (
            f"AdaptiveWarmup(warmup_steps={self.warmup_steps}, stretch={self.factor:g},"
            f" holds={self.holds}, slowed={self.slowed}, rewinds={self.rewinds},"
            f" pending={shown(self.pending)})"
        )
