"""The monitor's rules, checked once per update: spike, gradient spike, divergence, classic, stall.

:class:`RuleChecks` is the base of :class:`rampup.guard.monitor.Monitor`: each ``_check_*`` method
reads the monitor's windows and thresholds for one update, appends the event of a rule that starts
to hold (one per episode) and says whether the rule holds. The rules themselves, with their
formulas, are documented in :mod:`rampup.guard.monitor`; the stall rule's arithmetic is in
:mod:`rampup.guard.stall`.
"""

from __future__ import annotations

import itertools
import math

from rampup.guard import messages
from rampup.guard.events import Event
from rampup.guard.stall import STALL_RECENT, Stall
from rampup.guard.windows import Window, median

__all__ = ["RuleChecks"]


class RuleChecks:
    """The per-update checks of the monitor's rules (the monitor's state, declared here)."""

    warmup_steps: int | None
    warm_start: int
    spike_factor: float | None
    spike_mads: float
    spike_floor: float
    grad_spike_factor: float | None
    grad_spike_mads: float
    grad_spike_floor: float
    grad_spike_recent: int | None
    divergence_factor: float | None
    divergence_patience: int
    classic_factor: float | None
    stall_patience: int | None
    stall_progress: float
    stall_level: float
    stall_grad: float
    initial_loss: float
    initial_grad: float
    stalled: bool
    _loss: Window
    _grad: Window
    _spiking: bool
    _grad_spiking: bool
    _above: int
    _diverging: bool
    _classic_active: bool
    _stall: Stall

    # -- the baseline ----------------------------------------------------------------------------
    @property
    def baseline(self) -> float:
        """The running median of the last ``window`` finite losses (NaN before the first)."""
        return self._loss.median()

    def spike_threshold(self) -> float:
        """The loss above which the next update would be a spike (inf while warming up/off)."""
        if self.spike_factor is None or len(self._loss) < self.warm_start:
            return math.inf
        floor = self.spike_floor * abs(self.initial_loss)
        return self._loss.threshold(self.spike_factor, self.spike_mads, floor)

    def grad_spike_threshold(self) -> float:
        """The gradient norm above which the next one would be a spike (inf while warming up).

        The larger of the spike rule's level over the window and ``grad_spike_factor`` x the
        recent level (the median of the last ``grad_spike_recent`` finite gradient norms).
        """
        return self._grad_level(math.inf)

    def _grad_level(self, g: float) -> float:
        """The gradient spike threshold; its recent term only when ``g`` is above the rest."""
        k = self.grad_spike_factor
        if k is None or len(self._grad) < self.warm_start:
            return math.inf
        floor = self.grad_spike_floor * abs(self.initial_grad)
        level = self._grad.threshold(k, self.grad_spike_mads, floor)
        n = self.grad_spike_recent
        if n is not None and g > level:  # below the window's level: no spike whatever r is
            r = median(sorted(itertools.islice(reversed(self._grad.recent), n)))
            level = max(level, r + (k - 1.0) * abs(r))
        return level

    def _check_spike(self, t: int, x: float, warm: bool, new: list[Event]) -> bool:
        spiking = False
        if math.isfinite(x):
            spiking = x > self.spike_threshold()
            if spiking and not self._spiking:
                new.append(messages.spike(t, x, self.baseline, warm, self.warmup_steps))
            self._loss.push(x)
            if math.isnan(self.initial_loss) and len(self._loss) >= self.warm_start:
                self.initial_loss = self._loss.median()  # the first warm_start finite losses
        self._spiking = spiking
        return spiking

    def _check_grad_spike(self, t: int, g: float, warm: bool, new: list[Event]) -> bool:
        spiking = False
        if math.isfinite(g):  # NaN when not given
            spiking = warm and g > self._grad_level(g)
            if spiking and not self._grad_spiking:
                new.append(messages.grad_spike(t, g, self._grad.median(), warm, self.warmup_steps))
            self._grad.push(g)
            if math.isnan(self.initial_grad) and len(self._grad) >= self.warm_start:
                self.initial_grad = self._grad.median()
        self._grad_spiking = spiking
        return spiking

    def _check_divergence(self, t: int, x: float, warm: bool, new: list[Event]) -> bool:
        k = self.divergence_factor
        if k is None or math.isnan(self.initial_loss):
            return False
        level = self.initial_loss * k if self.initial_loss >= 0 else self.initial_loss / k
        above = not (x <= level)  # NaN counts as above
        self._above = self._above + 1 if above else 0
        diverging = self._above >= self.divergence_patience
        if diverging and not self._diverging:
            new.append(
                messages.divergence(
                    t, x, self.initial_loss, k, self._above, warm, self.warmup_steps
                )
            )
        self._diverging = diverging
        return diverging

    def classic_level(self) -> float:
        r"""The loss above which the classic rule holds: :math:`\ell_0 + (k - 1)|\ell_0|`.

        That is :math:`k\,\ell_0` for a positive initial loss (the classic recipes' ``10 *
        initial_loss``) and a rise by :math:`(k - 1)|\ell_0|` for a negative one; inf while the
        rule is off, the initial loss unknown, or 0 (no scale).
        """
        k, l0 = self.classic_factor, self.initial_loss
        if k is None or math.isnan(l0) or l0 == 0.0:  # off, unknown, or no scale
            return math.inf
        return k * l0 if l0 > 0 else l0 + (k - 1.0) * -l0

    def _check_classic(self, t: int, x: float, warm: bool, new: list[Event]) -> bool:
        level = self.classic_level()
        if not warm or level == math.inf:
            self._classic_active = False
            return False
        active = math.isfinite(x) and x > level
        if active and not self._classic_active:
            k = self.classic_factor or math.nan  # set: the level is finite
            new.append(messages.classic(t, x, k, self.initial_loss, level, warm))
        self._classic_active = active
        return active

    def _check_stall(self, t: int, x: float, g: float, warm: bool, new: list[Event]) -> bool:
        st = self._stall
        if self.stall_patience is None or not math.isfinite(x):
            return st.stalling  # no new smoothed loss: the episode is as it was
        r = math.nan
        if math.isfinite(g):
            r = median(sorted(itertools.islice(reversed(self._grad.recent), STALL_RECENT)))
        st.push(self.baseline, r)
        stalling, then = st.holds(
            self.initial_loss,
            r,
            progress=self.stall_progress,
            level=self.stall_level,
            grad=self.stall_grad,
        )
        if stalling and not st.stalling:
            new.append(
                messages.stall(
                    t, self.baseline, then, self.initial_loss, self.stall_patience,
                    (r, st.peak_grad), warm, self.warmup_steps,
                )
            )  # fmt: skip
        st.stalling = stalling
        return stalling

    def improving(self) -> bool:
        """Whether the loss is visibly learning (:meth:`rampup.guard.stall.Stall.improving`).

        A guard takes its rewind snapshots only then, so that the one it goes back to after a
        stall predates the stall's flat stretch. True when the stall rule is off.
        """
        if self.stall_patience is None:
            return True
        return self._stall.improving(
            self.initial_loss, progress=self.stall_progress, level=self.stall_level
        )

    def rewound(self) -> None:
        """Forget the updates a rewind undid: the stall rule's horizon and the divergence run.

        Called by a guard that restored the model to an earlier snapshot: the losses seen since
        are no longer those of the model being trained. The windows (the baselines) stay.
        """
        self._stall.forget()
        self.stalled = False
        self._above, self._diverging = 0, False
