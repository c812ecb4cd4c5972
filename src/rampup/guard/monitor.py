r"""The stability monitor: watches early training and says, in words, what went wrong.

Feed it once per optimizer update with the loss (and, when you have them, the gradient norm, the
update norm and the learning rate)::

    >>> from rampup import Monitor
    >>> m = Monitor(warmup_steps=100)
    >>> for loss in [2.3, 2.2, 2.1, 2.0, 1.9, 1.9, 1.8, 1.8, 1.7, 25.0]:
    ...     events = m.update(loss)
    >>> print(events[0].message[:58])
    loss spiked x13.2 during warmup at step 9 (25 against a ru

It never raises on a number, whatever its value (NaN and infinities are events, not errors), and
raises a :class:`~rampup.RampupError` for anything that is not a number.

The rules (each one can be switched off with ``None``):

- **non-finite**: a NaN or infinite loss, gradient norm or update norm is an event at once
  (kinds ``nonfinite_loss``, ``nonfinite_grad``, ``nonfinite_update``).
- **spike** (``spike_factor``, ``spike_mads``): the loss is above its running baseline, the median
  :math:`m` of the last ``window`` finite losses, by more than all three margins

  .. math:: \ell_t > m + \max\big((k - 1)\,|m|,\; z \cdot 1.4826\,\mathrm{MAD},\;
            \tau\,|\ell_0|\big)

  with :math:`k` = ``spike_factor`` (a ratio), :math:`z` = ``spike_mads`` (robust standard
  deviations of the window's minibatch noise; 10 by default, because a minibatch MSE is
  chi-square distributed and draws x2.4 its median with batches of 32) and :math:`\tau` =
  ``spike_floor`` (a fraction of the initial loss :math:`\ell_0`, so the tiny wobbles of a loss
  near 0 are not spikes). The rule is checked once ``warm_start`` finite losses have been seen. A
  falling loss (the normal fast early drop) is always below its lagging median, so it never
  alarms.
- **gradient spike** (``grad_spike_factor``, ``grad_spike_mads``, ``grad_spike_floor``,
  ``grad_spike_recent``), during the warmup only: the same rule on the gradient norm, against
  the median :math:`m` of its last ``window`` finite values, with the floor a fraction of the
  initial gradient norm :math:`g_0` (the median of the first ``warm_start`` finite ones), and
  also above :math:`k` times the median :math:`r` of its last ``grad_spike_recent`` (8) finite
  values, its recent level:

  .. math:: g_t > \max\big(m + \max((k - 1)\,|m|,\; z \cdot 1.4826\,\mathrm{MAD},\;
            \tau\,|g_0|),\; r + (k - 1)\,|r|\big)

  A spike is a jump, not a level: the gradient norm of a healthy run climbs while the learning
  rate nears its peak and the model leaves its plateau (a Post-LN Transformer's norm doubled in
  twenty updates there, its loss falling), and the long median lags such a climb by half a
  window; the recent median follows it, while a few isolated jumps do not move it. A Post-LN
  Transformer at a high learning rate without warmup shows its instability here first: its
  gradient norm jumps x4-x20 against a flat level, again and again, while its loss only
  stalls. After the warmup, isolated gradient spikes of that size are
  common in healthy training (a Transformer's loss dropping into its next phase), so they are
  not reported; to watch the early phase of a run without warmup, give ``warmup_steps`` anyway.
- **divergence** (``divergence_factor``, ``divergence_patience``): the loss stayed above
  ``divergence_factor`` times the initial loss (a non-finite loss counts as above) for
  ``divergence_patience`` updates in a row.
- **the classic rule** (``classic_factor``): during the warmup, the loss rose above
  ``classic_factor`` (:math:`k`, 10 in the classic recipes) times its initial value. For a loss
  that can be negative (a log-likelihood, a regularised objective) "k times" is read as a rise
  by :math:`k - 1` times the initial loss's magnitude, which is the same level for a positive
  :math:`\ell_0` and keeps its meaning for a negative one:

  .. math:: \ell_t > \ell_0 + (k - 1)\,|\ell_0| \qquad (= k\,\ell_0 \text{ when } \ell_0 > 0)

  An initial loss of exactly 0 gives the ratio no scale: the rule then never fires (the spike
  and divergence rules still watch). Off by default; :meth:`Monitor.classic` is the preset.

A rule reports once when it starts to hold and again only after it stopped holding (an
*episode*), so one long spike is one event. Non-finite values are reported every time.

The initial loss :math:`\ell_0` is the median of the first ``warm_start`` finite losses (the
first loss alone when ``warm_start=1``, as in :meth:`Monitor.classic`): one minibatch loss is a
noisy reference, and a low first draw made ordinary losses look like a divergence. The rules that
use it (divergence, the classic rule, the spike floor) start once it is known. The history (step,
lr, loss, gradient norm, update norm) is kept in compact arrays and exported with
:meth:`Monitor.to_csv` and :meth:`Monitor.to_json`; :meth:`Monitor.state_dict` is plain data, and
a monitor restored from it takes exactly the decisions the original would have taken.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampup import RampupError
from rampup.core.checks import (
    check_count,
    check_flag,
    check_number,
    check_optional_count,
    check_optional_flag,
    check_optional_real,
    check_real,
    check_switch,
)
from rampup.guard import messages, monitor_state
from rampup.guard.events import EVENT_KINDS, MAX_STEP, Event, EventKind
from rampup.guard.history import History
from rampup.guard.rule_checks import RuleChecks
from rampup.guard.stall import Stall
from rampup.guard.windows import Window

if TYPE_CHECKING:
    from rampup.cli.curves import Curve

__all__ = ["EVENT_KINDS", "Event", "EventKind", "Monitor"]


class Monitor(RuleChecks):
    """Watches the loss (and optionally gradient and update norms) of training, step by step.

    Args:
        warmup_steps: length of the warmup in optimizer updates, so events can say "during
            warmup" and the warmup rules know when they apply; None if unknown.
        window: number of recent finite losses the running median is taken over.
        warm_start: finite losses seen before the spike rule starts (the baseline needs them);
            the initial loss is their median.
        spike_factor: a spike is at least this ratio above the running median (None: no
            spike rule).
        spike_mads: ... and this many robust standard deviations (1.4826 MAD) above it.
        spike_floor: ... and this fraction of the initial loss above it.
        grad_spike_factor: the spike rule's ratio for the gradient norm during the warmup
            (None: no rule).
        grad_spike_mads: its robust standard deviations (as ``spike_mads``).
        grad_spike_floor: its floor, a fraction of the initial gradient norm (the median of the
            first ``warm_start`` finite gradient norms).
        grad_spike_recent: a gradient spike is also ``grad_spike_factor`` x above the median of
            the last this many finite gradient norms (1 to ``window``; None: no such term).
        divergence_factor: the loss staying above this times the initial loss ...
        divergence_patience: ... for this many updates in a row is a divergence (None: off),
            counted from the update at which the initial loss is known.
        classic_factor: during warmup, a loss above this times the initial loss (for a
            negative one: risen by this minus 1 times its magnitude) is the classic rule's
            event, ``classic_rule`` (a number > 1, or None: off; :meth:`classic` turns it on
            with 10).
        stall_patience: a stall is a smoothed loss flat over this many updates (None: no
            stall rule) ...
        stall_progress: ... improving by less than this fraction of itself over them ...
        stall_level: ... above this fraction of the initial loss ...
        stall_grad: ... with the gradient's recent level below this fraction of its peak.
        history: keep the per-step history (step, lr, loss, norms) for export; the decisions do
            not depend on it.
        seeds_factor: the former name of ``classic_factor`` (deprecated; warns).

    """

    def __init__(
        self,
        warmup_steps: int | None = None,
        *,
        window: int = 32,
        warm_start: int = 8,
        spike_factor: float | None = 2.0,
        spike_mads: float = 10.0,
        spike_floor: float = 0.1,
        grad_spike_factor: float | None = 3.0,
        grad_spike_mads: float = 8.0,
        grad_spike_floor: float = 0.5,
        grad_spike_recent: int | None = 8,
        divergence_factor: float | None = 1.5,
        divergence_patience: int = 5,
        classic_factor: float | None = None,
        stall_patience: int | None = 64,
        stall_progress: float = 0.01,
        stall_level: float = 0.5,
        stall_grad: float = 0.15,
        history: bool = True,
        seeds_factor: float | None = None,
    ) -> None:
        name = "Monitor"
        if seeds_factor is not None:  # the 0.1 name of classic_factor, kept for old code
            if classic_factor is not None:
                raise RampupError.invalid(
                    name, "seeds_factor", seeds_factor, "None when classic_factor is given"
                )
            warnings.warn(
                "Monitor(seeds_factor=) is deprecated: use classic_factor=",
                DeprecationWarning,
                stacklevel=2,
            )
            classic_factor = seeds_factor
        self.warmup_steps = (
            None
            if warmup_steps is None
            else check_count(name, "warmup_steps", warmup_steps, 1, "an int >= 1")
        )
        self.window = check_count(name, "window", window, 3, "an int >= 3")
        self.warm_start = check_count(name, "warm_start", warm_start, 1, "an int >= 1")
        if self.warm_start > self.window:
            raise RampupError.invalid(
                name, "warm_start", warm_start, f"an int <= window={self.window}"
            )
        self.spike_factor = check_switch(name, "spike_factor", spike_factor, 1.0)
        self.spike_mads = check_number(
            name, "spike_mads", spike_mads, low=0.0, what="a finite number >= 0"
        )
        self.spike_floor = check_number(
            name, "spike_floor", spike_floor, low=0.0, what="a finite number >= 0"
        )
        self.grad_spike_factor = check_switch(name, "grad_spike_factor", grad_spike_factor, 1.0)
        self.grad_spike_mads = check_number(
            name, "grad_spike_mads", grad_spike_mads, low=0.0, what="a finite number >= 0"
        )
        self.grad_spike_floor = check_number(
            name, "grad_spike_floor", grad_spike_floor, low=0.0, what="a finite number >= 0"
        )
        self.grad_spike_recent = check_optional_count(
            name,
            "grad_spike_recent",
            grad_spike_recent,
            1,
            f"None (off) or an int in [1, window={self.window}]",
            high=self.window,
        )
        self.divergence_factor = check_switch(name, "divergence_factor", divergence_factor, 0.0)
        self.divergence_patience = check_count(
            name, "divergence_patience", divergence_patience, 1, "an int >= 1"
        )
        self.classic_factor = check_switch(name, "classic_factor", classic_factor, 1.0)
        self.stall_patience = check_optional_count(
            name, "stall_patience", stall_patience, 1, "None (off) or an int >= 1"
        )
        self.stall_progress = check_number(name, "stall_progress", stall_progress, low=0.0)
        self.stall_level = check_number(name, "stall_level", stall_level, low=0.0)
        self.stall_grad = check_number(name, "stall_grad", stall_grad, low=0.0, high=1.0)
        self.keep_history = check_flag(name, "history", history)
        self.reset()

    @classmethod
    def classic(cls, warmup_steps: int, *, factor: float = 10.0) -> Monitor:
        r"""The classic rule alone: during warmup, a loss above ``factor`` x its initial value.

        The classic recipes' check, ``if epoch < warmup_epochs and train_loss > 10 *
        initial_loss``, as a preset: the spike and divergence rules are off, non-finite values
        are still reported, and the initial loss is the first finite loss (``warm_start=1``), as
        in that check. For a negative initial loss the level is
        :math:`\ell_0 + (k - 1)|\ell_0|` (see the module's rules).
        """
        return cls._classic("Monitor.classic", warmup_steps, factor)

    @classmethod
    def seeds(cls, warmup_steps: int, *, factor: float = 10.0) -> Monitor:
        """The same preset as :meth:`classic` (its former name, kept as an alias)."""
        return cls._classic("Monitor.seeds", warmup_steps, factor)

    @classmethod
    def _classic(cls, func: str, warmup_steps: int, factor: float) -> Monitor:
        return cls(
            check_count(func, "warmup_steps", warmup_steps, 1, "an int >= 1"),
            warm_start=1,
            spike_factor=None,
            grad_spike_factor=None,
            divergence_factor=None,
            classic_factor=check_switch(func, "factor", factor, 1.0),
            stall_patience=None,
        )

    # -- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything seen so far (the configuration stays)."""
        self.step = -1  # the step of the last update fed; -1 before the first
        self.initial_loss = math.nan
        self.initial_grad = math.nan
        self._loss = Window(self.window)
        self._grad = Window(self.window)
        self._grad_spiking = False
        self._above = 0  # consecutive updates above the divergence level
        self._spiking = False
        self._diverging = False
        self._classic_active = False
        self._stall = Stall(self.stall_patience or 0)
        self.unstable = False  # the last update fed was unstable (any rule held)
        self.stalled = False  # the last update fed was inside a stall
        self.nonfinite = False  # the last update fed had a non-finite loss or norm
        self.events: list[Event] = []
        self._history = History()

    def _config(self) -> dict[str, Any]:
        return {
            "warmup_steps": self.warmup_steps,
            "window": self.window,
            "warm_start": self.warm_start,
            "spike_factor": self.spike_factor,
            "spike_mads": self.spike_mads,
            "spike_floor": self.spike_floor,
            "grad_spike_factor": self.grad_spike_factor,
            "grad_spike_mads": self.grad_spike_mads,
            "grad_spike_floor": self.grad_spike_floor,
            "grad_spike_recent": self.grad_spike_recent,
            "divergence_factor": self.divergence_factor,
            "divergence_patience": self.divergence_patience,
            "classic_factor": self.classic_factor,
            "stall_patience": self.stall_patience,
            "stall_progress": self.stall_progress,
            "stall_level": self.stall_level,
            "stall_grad": self.stall_grad,
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything the monitor's future decisions depend on, and its history, as plain data.

        Non-finite floats (the initial loss before any finite one; NaN entries of the history)
        are written as the strings 'nan', 'inf' and '-inf', so the state is also valid JSON.
        """
        return monitor_state.dump(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s data; a state made by another configuration is refused.

        Every field is checked (type, range, consistency with the configuration and with the
        other fields) before anything changes: a bad state raises a RampupError naming the field
        (e.g. ``state['step']``) and leaves the monitor as it was. A state of version 1 (before
        the classic rule's rename and the gradient rule's recent level) loads too: its keys are
        read under their new names, and ``grad_spike_recent``, which it did not have, is this
        monitor's.
        """
        fresh = monitor_state.read(self, state, "Monitor.load_state_dict", "state")
        self.__dict__.update(fresh.__dict__)  # all or nothing: a bad state changes nothing

    # -- feeding ---------------------------------------------------------------------------------
    def in_warmup(self, step: int) -> bool:
        """Whether ``step`` is inside the warmup (False when the warmup length is unknown)."""
        return self.warmup_steps is not None and step < self.warmup_steps

    def update(
        self,
        loss: object,
        *,
        grad_norm: object = None,
        update_norm: object = None,
        lr: object = None,
        step: int | None = None,
        in_warmup: bool | None = None,
    ) -> list[Event]:
        """Feed one optimizer update; returns the events it caused (often none).

        ``step`` defaults to one more than the last step fed (0 for the first); when given it
        must be larger than the last one. ``loss`` is the loss the update was computed from;
        ``grad_norm`` and ``update_norm`` (optional) its gradient's and its parameter change's
        norms; ``lr`` (optional) the learning rate it used, kept in the history. ``in_warmup``
        says whether the update is inside the warmup; None (default) means ``step <
        warmup_steps``. A guard that holds or stretches the warmup passes its own answer (its
        clock), so the warmup rules watch the whole warmup, however many updates it takes.
        """
        func = "Monitor.update"
        x = check_real(func, "loss", loss)
        g = check_optional_real(func, "grad_norm", grad_norm)
        u = check_optional_real(func, "update_norm", update_norm)
        rate = check_optional_real(func, "lr", lr)
        t = self.step + 1
        if step is not None:
            what = f"an int > {self.step} (the last step fed), < 2**63"
            t = check_count(func, "step", step, self.step + 1, what, high=MAX_STEP - 1)
        in_warmup = check_optional_flag(
            func, "in_warmup", in_warmup, "True, False or None (step < warmup_steps)"
        )
        self.step = t
        if self.keep_history:
            self._history.record(t, rate, x, g, u)
        new: list[Event] = []
        warm = self.in_warmup(t) if in_warmup is None else in_warmup
        if not math.isfinite(x):
            new.append(messages.nonfinite(t, "nonfinite_loss", "loss", x, warm))
        if grad_norm is not None and not math.isfinite(g):
            new.append(messages.nonfinite(t, "nonfinite_grad", "gradient norm", g, warm))
        if update_norm is not None and not math.isfinite(u):
            new.append(messages.nonfinite(t, "nonfinite_update", "update norm", u, warm))
        spiking = self._check_spike(t, x, warm, new)
        grad_spiking = self._check_grad_spike(t, g, warm, new)
        diverging = self._check_divergence(t, x, warm, new)
        classic = self._check_classic(t, x, warm, new)
        self.stalled = self._check_stall(t, x, g, warm, new)
        self.nonfinite = not (
            math.isfinite(x)
            and (grad_norm is None or math.isfinite(g))
            and (update_norm is None or math.isfinite(u))
        )
        self.unstable = self.nonfinite or spiking or grad_spiking or diverging or classic
        self.events.extend(new)
        return new

    # -- history ---------------------------------------------------------------------------------
    def history(self) -> dict[str, list[float]]:
        """The per-step history as columns: step, lr, loss, grad_norm, update_norm.

        Values that were not given are NaN. Plot it with :meth:`curves` and
        ``rampup.plotting.plot_curves`` (``rampup.plot`` draws schedules, not histories).
        """
        return self._history.columns()

    def curves(self, columns: tuple[str, ...] = ("loss", "lr")) -> list[Curve]:
        """The history as :class:`rampup.plotting.Curve` objects, one per column, for plotting.

        Only the finite values of a column are kept; every curve marks the steps of the events
        (dotted lines). Draw them with ``rampup.plotting.plot_curves(monitor.curves(),
        log=True)`` or in the terminal with ``rampup.plotting.terminal_plot``.
        """
        return self._history.curves("Monitor.curves", self.events, columns)

    def to_csv(self, path: str | Path | None = None) -> str:
        """The history as CSV (header ``step,lr,loss,grad_norm,update_norm,event``).

        The ``event`` column holds the kinds of the events at that step, joined by ``;``. Empty
        cells are values that were not given. Written to ``path`` when given; returned always.
        """
        return self._history.to_csv("Monitor.to_csv", self.events, path)

    def to_json(self, path: str | Path | None = None) -> str:
        """The history and the events as JSON (strictly valid: 'nan'/'inf' written as strings)."""
        return self._history.to_json("Monitor.to_json", self.events, path)

    def __repr__(self) -> str:
        return (
            f"Monitor(step={self.step}, initial_loss={self.initial_loss:.4g},"
            f" baseline={self.baseline:.4g}, events={len(self.events)})"
        )
