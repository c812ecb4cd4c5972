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

import bisect
import csv
import io
import itertools
import json
import math
import warnings
from array import array
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from rampup import RampupError
from rampup.core.checks import (
    check_count,
    check_number,
    check_optional_real,
    check_real,
    check_switch,
    check_writable,
    shown,
)

if TYPE_CHECKING:
    from rampup.cli.curves import Curve

__all__ = ["EVENT_KINDS", "Event", "Monitor"]

#: Every kind of event the monitor reports.
EVENT_KINDS = (
    "nonfinite_loss",
    "nonfinite_grad",
    "nonfinite_update",
    "spike",
    "grad_spike",
    "divergence",
    "classic_rule",
)
EventKind: TypeAlias = Literal[
    "nonfinite_loss",
    "nonfinite_grad",
    "nonfinite_update",
    "spike",
    "grad_spike",
    "divergence",
    "classic_rule",
]

#: MAD times this is the standard deviation of a normal distribution.
_MAD_TO_STD = 1.4826
_STATE_VERSION = 2
#: A version-1 state's configuration keys renamed since (old: new), and its state keys (new: old).
_V1_CONFIG = {"seeds_factor": "classic_factor"}
_V1_KEYS = {"classic_active": "seeds_active"}
#: Steps are kept in a signed 64-bit array.
_MAX_STEP = 2**63
_COLUMNS = ("step", "lr", "loss", "grad_norm", "update_norm")


@dataclass(frozen=True)
class Event:
    """One thing the monitor noticed: its kind, where, the numbers, and what to do about it.

    ``value`` is the offending value (the loss, or the gradient / update norm), ``reference``
    what it was compared with (the running median, the initial loss; NaN for non-finite values),
    ``during_warmup`` whether the step is inside the warmup (False when the warmup is unknown).
    """

    step: int
    kind: EventKind
    value: float
    reference: float
    during_warmup: bool
    message: str

    @property
    def ratio(self) -> float:
        """``value / reference`` (NaN when it has no meaning: a reference <= 0 or non-finite)."""
        if not (math.isfinite(self.value) and math.isfinite(self.reference)):
            return math.nan
        return self.value / self.reference if self.reference > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The event as plain data (non-finite numbers as the strings 'nan', 'inf', '-inf')."""
        d = asdict(self)
        d["value"] = _plain(self.value)
        d["reference"] = _plain(self.reference)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Read back :meth:`to_dict`'s plain data (strictly: a wrong field is a RampupError).

        The kind ``seeds_rule`` of older states is read as ``classic_rule`` (its new name).
        """
        return cls._read(_Fields("Event.from_dict", "data", data, "Event.to_dict"))

    @classmethod
    def _read(cls, f: _Fields) -> Event:
        kind = f.get("kind")
        kind = _LEGACY_KINDS.get(kind, kind) if isinstance(kind, str) else kind
        if kind not in EVENT_KINDS:
            raise f.bad("kind", "one of " + ", ".join(EVENT_KINDS))
        return cls(
            step=f.int_("step", 0, _MAX_STEP - 1),
            kind=cast("EventKind", kind),
            value=f.float_("value"),
            reference=f.float_("reference"),
            during_warmup=f.bool_("during_warmup"),
            message=f.str_("message"),
        )


class _Fields:
    """Strict reading of one plain-data state dict: each field checked, never coerced.

    Errors name the field by its path, e.g. ``state['monitor']['step']``, the value received and
    what was expected.
    """

    def __init__(self, func: str, path: str, data: object, maker: str) -> None:
        self.func, self.path = func, path
        if not isinstance(data, dict):
            raise RampupError.invalid(func, path, data, f"a dict made by {maker}")
        self.data: dict[str, Any] = data
        self.maker = maker

    def name(self, key: str) -> str:
        return f"{self.path}[{key!r}]"

    def bad(self, key: str, expected: str) -> RampupError:
        return RampupError.invalid(self.func, self.name(key), self.data.get(key), expected)

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise RampupError.invalid(
                self.func, self.path, self.data, f"a dict made by {self.maker} (no key {key!r})"
            )
        return self.data[key]

    def sub(self, key: str, maker: str) -> _Fields:
        return _Fields(self.func, self.name(key), self.get(key), maker)

    def int_(self, key: str, low: int, high: int) -> int:
        v = self.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise self.bad(key, f"an int in [{low}, {high}]")
        return v

    def bool_(self, key: str) -> bool:
        v = self.get(key)
        if not isinstance(v, bool):
            raise self.bad(key, "True or False")
        return v

    def str_(self, key: str) -> str:
        v = self.get(key)
        if not isinstance(v, str):
            raise self.bad(key, "a str")
        return v

    def float_(self, key: str, *, finite: bool = False, low: float = -math.inf) -> float:
        """A number (or 'nan'/'inf'/'-inf' unless ``finite``) that is >= ``low``."""
        what = "a finite number" if finite else "a number (or 'nan', 'inf', '-inf')"
        what += f" >= {low:g}" if low > -math.inf else ""
        try:
            x = _unplain(self.get(key))
        except (TypeError, OverflowError):
            raise self.bad(key, what) from None
        if (finite and not math.isfinite(x)) or x < low:
            raise self.bad(key, what)
        return x

    def finite_list(self, key: str, most: int) -> list[float]:
        xs = _floats(self.get(key))
        if xs is None or len(xs) > most or not all(map(math.isfinite, xs)):
            raise self.bad(key, f"a list of at most {most} finite numbers")
        return xs


def _floats(values: object) -> list[float] | None:
    """The numbers of a plain-data list (:func:`_plain`'s), or None if it is not one."""
    if not isinstance(values, list):
        return None
    try:
        return [_unplain(x) for x in values]
    except (TypeError, OverflowError):
        return None


#: Kinds renamed since: read under their new name.
_LEGACY_KINDS = {"seeds_rule": "classic_rule"}


def _plain(x: float) -> float | str:
    """A float for JSON: finite values as they are, others as 'nan', 'inf' or '-inf'."""
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _unplain(x: object) -> float:
    """:func:`_plain`'s inverse: a float, or TypeError / OverflowError (an int beyond floats)."""
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError(f"expected a number, got {shown(x)}")
    return float(x)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


class _Window:
    """The last ``size`` finite values, also kept sorted: a running median and MAD."""

    def __init__(self, size: int) -> None:
        self.recent: deque[float] = deque(maxlen=size)
        self.sorted: list[float] = []

    def __len__(self) -> int:
        return len(self.sorted)

    def push(self, x: float) -> None:
        if len(self.recent) == self.recent.maxlen:
            del self.sorted[bisect.bisect_left(self.sorted, self.recent[0])]
        self.recent.append(x)
        bisect.insort(self.sorted, x)

    def load(self, values: list[float]) -> None:
        self.recent.clear()
        self.recent.extend(values)
        self.sorted = sorted(self.recent)

    def median(self) -> float:
        return _median(self.sorted)

    def threshold(self, factor: float, mads: float, floor: float) -> float:
        """The spike level: median + max((factor - 1) |median|, mads * 1.4826 MAD, floor)."""
        m = self.median()
        mad = _median(sorted(abs(x - m) for x in self.sorted))
        return m + max((factor - 1.0) * abs(m), mads * _MAD_TO_STD * mad, floor)


def _median(s: list[float]) -> float:
    """The median of a sorted list (NaN if empty)."""
    n = len(s)
    if n == 0:
        return math.nan
    mid = n // 2
    return s[mid] if n % 2 else 0.5 * s[mid - 1] + 0.5 * s[mid]  # halves first: no overflow


class Monitor:
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
        if grad_spike_recent is not None and (
            isinstance(grad_spike_recent, bool)
            or not isinstance(grad_spike_recent, int)
            or not 1 <= grad_spike_recent <= self.window
        ):
            raise RampupError.invalid(
                name,
                "grad_spike_recent",
                grad_spike_recent,
                f"None (off) or an int in [1, window={self.window}]",
            )
        self.grad_spike_recent = grad_spike_recent
        self.divergence_factor = check_switch(name, "divergence_factor", divergence_factor, 0.0)
        self.divergence_patience = check_count(
            name, "divergence_patience", divergence_patience, 1, "an int >= 1"
        )
        self.classic_factor = check_switch(name, "classic_factor", classic_factor, 1.0)
        if not isinstance(history, bool):
            raise RampupError.invalid(name, "history", history, "True or False")
        self.keep_history = history
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
        )

    # -- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything seen so far (the configuration stays)."""
        self.step = -1  # the step of the last update fed; -1 before the first
        self.initial_loss = math.nan
        self.initial_grad = math.nan
        self._loss = _Window(self.window)
        self._grad = _Window(self.window)
        self._grad_spiking = False
        self._above = 0  # consecutive updates above the divergence level
        self._spiking = False
        self._diverging = False
        self._classic_active = False
        self.unstable = False  # the last update fed was unstable (any rule held)
        self.nonfinite = False  # the last update fed had a non-finite loss or norm
        self.events: list[Event] = []
        self._steps = array("q")
        self._cols = {c: array("d") for c in _COLUMNS[1:]}

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
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything the monitor's future decisions depend on, and its history, as plain data.

        Non-finite floats (the initial loss before any finite one; NaN entries of the history)
        are written as the strings 'nan', 'inf' and '-inf', so the state is also valid JSON.
        """
        state: dict[str, Any] = {
            "version": _STATE_VERSION,
            "config": self._config(),
            "step": self.step,
            "initial_loss": _plain(self.initial_loss),
            "recent": list(self._loss.recent),
            "initial_grad": _plain(self.initial_grad),
            "recent_grad": list(self._grad.recent),
            "grad_spiking": self._grad_spiking,
            "above": self._above,
            "spiking": self._spiking,
            "diverging": self._diverging,
            "classic_active": self._classic_active,
            "unstable": self.unstable,
            "nonfinite": self.nonfinite,
            "events": [e.to_dict() for e in self.events],
        }
        if self.keep_history:
            state["history"] = {"step": list(self._steps)}
            for c, col in self._cols.items():
                state["history"][c] = [_plain(x) for x in col]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s data; a state made by another configuration is refused.

        Every field is checked (type, range, consistency with the configuration and with the
        other fields) before anything changes: a bad state raises a RampupError naming the field
        (e.g. ``state['step']``) and leaves the monitor as it was. A state of version 1 (before
        the classic rule's rename and the gradient rule's recent level) loads too: its keys are
        read under their new names, and ``grad_spike_recent``, which it did not have, is this
        monitor's.
        """
        fresh = self._parsed(state, "Monitor.load_state_dict", "state")
        self.__dict__.update(fresh.__dict__)  # all or nothing: a bad state changes nothing

    def _parsed(self, state: object, func: str, path: str) -> Monitor:
        """A new monitor, configured as this one, in ``state`` (checked); self is untouched."""
        maker = "Monitor.state_dict"
        f = _Fields(func, path, state, maker)
        version = f.get("version")
        if type(version) is not int or version not in (1, _STATE_VERSION):
            raise f.bad("version", f"1 or {_STATE_VERSION} (a state made by {maker})")
        keys = _V1_KEYS if version == 1 else {}
        config = f.get("config")
        if version == 1 and isinstance(config, dict):
            config = {_V1_CONFIG.get(k, k): v for k, v in config.items()}
            config.setdefault("grad_spike_recent", self.grad_spike_recent)
        if config != self._config():
            raise RampupError.invalid(
                func,
                f.name("config"),
                config,
                f"the state of a monitor configured as this one ({self._config()}): build the"
                " Monitor with the same arguments before loading",
            )
        fresh = Monitor.__new__(Monitor)
        fresh.__dict__.update(self.__dict__)
        fresh.reset()
        step = f.int_("step", -1, _MAX_STEP - 1)
        recent = f.finite_list("recent", min(self.window, step + 1))
        recent_grad = f.finite_list("recent_grad", min(self.window, step + 1))
        for key, values, what in (
            ("initial_loss", recent, "losses"),
            ("initial_grad", recent_grad, "gradient norms"),
        ):
            try:
                x = _unplain(f.get(key))
            except (TypeError, OverflowError):
                x = math.inf  # refused below
            known = len(values) >= self.warm_start
            if math.isinf(x) or math.isnan(x) == known:
                raise f.bad(
                    key,
                    f"a finite number once warm_start={self.warm_start} finite {what} were"
                    f" seen, else 'nan' (the state holds {len(values)})",
                )
            setattr(fresh, key, x)
        above = f.int_("above", 0, step + 1)
        if self.divergence_factor is None and above:
            raise f.bad("above", "0 (the divergence rule is off)")
        diverging = f.bool_("diverging")
        if diverging != (above >= self.divergence_patience):
            raise f.bad(
                "diverging",
                f"{above >= self.divergence_patience} (state['above']={above} updates in a row,"
                f" divergence_patience={self.divergence_patience})",
            )
        fresh._loss.load(recent)
        fresh._grad.load(recent_grad)
        fresh.step, fresh._above, fresh._diverging = step, above, diverging
        fresh._spiking = f.bool_("spiking")
        fresh._grad_spiking = f.bool_("grad_spiking")
        fresh._classic_active = f.bool_(keys.get("classic_active", "classic_active"))
        fresh.unstable = f.bool_("unstable")
        fresh.nonfinite = f.bool_("nonfinite")
        events = f.get("events")
        if not isinstance(events, list):
            raise f.bad("events", "a list of events (dicts made by Event.to_dict)")
        fresh.events = [
            Event._read(_Fields(func, f"{f.name('events')}[{i}]", e, "Event.to_dict"))
            for i, e in enumerate(events)
        ]
        for i, e in enumerate(fresh.events):
            if e.step > step:
                where = f"{f.name('events')}[{i}]['step']"
                raise RampupError.invalid(func, where, e.step, f"a step <= the state's step {step}")
        if self.keep_history and "history" in f.data:
            fresh._steps, fresh._cols = self._history(f.sub("history", maker), step)
        return fresh

    @staticmethod
    def _history(h: _Fields, step: int) -> tuple[array[int], dict[str, array[float]]]:
        steps = h.get("step")
        ok = isinstance(steps, list) and all(
            isinstance(s, int) and not isinstance(s, bool) for s in steps
        )
        ok = ok and all(a < b for a, b in itertools.pairwise(steps))
        ok = ok and (steps[-1] == step if steps else step == -1) and (steps or [0])[0] >= 0
        if not ok:
            raise h.bad("step", f"increasing update numbers from 0, ending at {step}")
        cols = {}
        for c in _COLUMNS[1:]:
            xs = _floats(h.get(c))
            if xs is None or len(xs) != len(steps):
                raise h.bad(c, f"a list of {len(steps)} numbers (or 'nan', 'inf'), one per row")
            cols[c] = array("d", xs)
        return array("q", steps), cols

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
            r = _median(sorted(itertools.islice(reversed(self._grad.recent), n)))
            level = max(level, r + (k - 1.0) * abs(r))
        return level

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
        if step is None:
            t = self.step + 1
        else:
            if (
                isinstance(step, bool)
                or not isinstance(step, int)
                or not self.step < step < _MAX_STEP
            ):
                raise RampupError.invalid(
                    func, "step", step, f"an int > {self.step} (the last step fed), < 2**63"
                )
            t = step
        if in_warmup is not None and not isinstance(in_warmup, bool):
            raise RampupError.invalid(
                func, "in_warmup", in_warmup, "True, False or None (step < warmup_steps)"
            )
        self.step = t
        if self.keep_history:
            self._record(t, rate, x, g, u)
        new: list[Event] = []
        warm = self.in_warmup(t) if in_warmup is None else in_warmup
        if not math.isfinite(x):
            new.append(self._nonfinite(t, "nonfinite_loss", "loss", x, warm))
        if grad_norm is not None and not math.isfinite(g):
            new.append(self._nonfinite(t, "nonfinite_grad", "gradient norm", g, warm))
        if update_norm is not None and not math.isfinite(u):
            new.append(self._nonfinite(t, "nonfinite_update", "update norm", u, warm))
        spiking = self._check_spike(t, x, warm, new)
        grad_spiking = self._check_grad_spike(t, g, warm, new)
        diverging = self._check_divergence(t, x, warm, new)
        classic = self._check_classic(t, x, warm, new)
        self.nonfinite = not (
            math.isfinite(x)
            and (grad_norm is None or math.isfinite(g))
            and (update_norm is None or math.isfinite(u))
        )
        self.unstable = self.nonfinite or spiking or grad_spiking or diverging or classic
        self.events.extend(new)
        return new

    def _record(self, t: int, rate: float, x: float, g: float, u: float) -> None:
        self._steps.append(t)
        cols = self._cols
        cols["lr"].append(rate)
        cols["loss"].append(x)
        cols["grad_norm"].append(g)
        cols["update_norm"].append(u)

    def _check_spike(self, t: int, x: float, warm: bool, new: list[Event]) -> bool:
        spiking = False
        if math.isfinite(x):
            spiking = x > self.spike_threshold()
            if spiking and not self._spiking:
                new.append(self._spike(t, x, warm))
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
                new.append(self._grad_spike(t, g, warm))
            self._grad.push(g)
            if math.isnan(self.initial_grad) and len(self._grad) >= self.warm_start:
                self.initial_grad = self._grad.median()
        self._grad_spiking = spiking
        return spiking

    def _check_divergence(self, t: int, x: float, warm: bool, new: list[Event]) -> bool:
        if self.divergence_factor is None or math.isnan(self.initial_loss):
            return False
        level = self.initial_loss * self.divergence_factor
        if self.initial_loss < 0:
            level = self.initial_loss / self.divergence_factor
        above = not (x <= level)  # NaN counts as above
        self._above = self._above + 1 if above else 0
        diverging = self._above >= self.divergence_patience
        if diverging and not self._diverging:
            when = "during warmup" if warm else "after the warmup" if self.warmup_steps else ""
            advice = (
                "the warmup is too short or the peak learning rate too high: use a longer"
                " warmup or a lower peak"
                if warm or self.warmup_steps is None
                else "lower the learning rate or restore an earlier checkpoint"
            )
            msg = (
                f"loss diverged {when + ' ' if when else ''}at step {t}: above"
                f" {self.divergence_factor:g}x the initial loss ({_fmt(self.initial_loss)}) for"
                f" {self._above} updates in a row (now {_fmt(x)}): {advice}"
            )
            new.append(Event(t, "divergence", x, self.initial_loss, warm, msg))
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
            k, l0 = self.classic_factor or math.nan, self.initial_loss  # k is set: level < inf
            how = (
                f"above {k:g}x the initial loss ({_fmt(l0)})"
                if l0 > 0
                else f"above {_fmt(level)}, the initial loss ({_fmt(l0)}) plus {k - 1:g}x its"
                " magnitude"
            )
            msg = (
                f"loss unstable during warmup at step {t}: {_fmt(x)} is {how} (the classic rule:"
                f" a warmup loss above {k:g}x its initial value): consider a longer warmup"
            )
            new.append(Event(t, "classic_rule", x, l0, warm, msg))
        self._classic_active = active
        return active

    def _spike(self, t: int, x: float, warm: bool) -> Event:
        m = self.baseline
        ratio = f"x{x / m:.3g}" if m > 0 else f"by +{_fmt(x - m)}"
        where = " during warmup" if warm else ""
        advice = (
            "consider a longer warmup or a lower peak learning rate"
            if warm or self.warmup_steps is None
            else "consider a lower learning rate, gradient clipping, or restoring a checkpoint"
        )
        msg = (
            f"loss spiked {ratio}{where} at step {t} ({_fmt(x)} against a running median of"
            f" {_fmt(m)}): {advice}"
        )
        return Event(t, "spike", x, m, warm, msg)

    def _grad_spike(self, t: int, g: float, warm: bool) -> Event:
        m = self._grad.median()
        ratio = f"x{g / m:.3g}" if m > 0 else f"by +{_fmt(g - m)}"
        where = " during warmup" if warm else ""
        advice = (
            "the warmup is too short for this peak learning rate: consider a longer warmup"
            if warm or self.warmup_steps is None
            else "consider gradient clipping or a lower learning rate"
        )
        msg = (
            f"gradient norm spiked {ratio}{where} at step {t} ({_fmt(g)} against a running"
            f" median of {_fmt(m)}): {advice}"
        )
        return Event(t, "grad_spike", g, m, warm, msg)

    def _nonfinite(self, t: int, kind: EventKind, what: str, x: float, warm: bool) -> Event:
        where = " during warmup" if warm else ""
        msg = (
            f"{what} is {x}{where} at step {t}: the weights may already be corrupt; restore the"
            " last good checkpoint and use a longer warmup or a lower peak learning rate"
            " (with mixed precision, check the gradient scaler)"
        )
        return Event(t, kind, x, math.nan, warm, msg)

    # -- history ---------------------------------------------------------------------------------
    def history(self) -> dict[str, list[float]]:
        """The per-step history as columns: step, lr, loss, grad_norm, update_norm.

        Values that were not given are NaN. Plot it with :meth:`curves` and
        ``rampup.plotting.plot_curves`` (``rampup.plot`` draws schedules, not histories).
        """
        out: dict[str, list[float]] = {"step": [float(s) for s in self._steps]}
        for c, col in self._cols.items():
            out[c] = list(col)
        return out

    def curves(self, columns: tuple[str, ...] = ("loss", "lr")) -> list[Curve]:
        """The history as :class:`rampup.plotting.Curve` objects, one per column, for plotting.

        Only the finite values of a column are kept; every curve marks the steps of the events
        (dotted lines). Draw them with ``rampup.plotting.plot_curves(monitor.curves(),
        log=True)`` or in the terminal with ``rampup.plotting.terminal_plot``.
        """
        from rampup.cli.curves import Curve  # noqa: PLC0415  # the plots are a tool, loaded on use

        for c in columns:
            if c not in _COLUMNS[1:]:
                raise RampupError.invalid(
                    "Monitor.curves", "columns", columns, f"names among {_COLUMNS[1:]}"
                )
        import numpy as np  # noqa: PLC0415  # with plotting only

        marks = tuple(sorted({e.step for e in self.events}))
        steps = np.asarray(self._steps, dtype=np.float64)
        out = []
        for c in columns:
            values = np.asarray(self._cols[c], dtype=np.float64)
            keep = np.isfinite(values)
            out.append(Curve(c, steps[keep], values[keep], marks))
        return out

    def to_csv(self, path: str | Path | None = None) -> str:
        """The history as CSV (header ``step,lr,loss,grad_norm,update_norm,event``).

        The ``event`` column holds the kinds of the events at that step, joined by ``;``. Empty
        cells are values that were not given. Written to ``path`` when given; returned always.
        """
        kinds: dict[int, list[str]] = {}
        for e in self.events:
            kinds.setdefault(e.step, []).append(e.kind)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([*_COLUMNS, "event"])
        cols = [self._cols[c] for c in _COLUMNS[1:]]
        for i, s in enumerate(self._steps):
            row: list[object] = [s]
            for col in cols:
                v = col[i]
                row.append("" if math.isnan(v) and col is not self._cols["loss"] else repr(v))
            row.append(";".join(kinds.get(s, [])))
            w.writerow(row)
        text = buf.getvalue()
        if path is not None:
            check_writable("Monitor.to_csv", path).write_text(text, encoding="utf-8")
        return text

    def to_json(self, path: str | Path | None = None) -> str:
        """The history and the events as JSON (strictly valid: 'nan'/'inf' written as strings)."""
        data = {
            "history": {
                "step": list(self._steps),
                **{c: [_plain(x) for x in col] for c, col in self._cols.items()},
            },
            "events": [e.to_dict() for e in self.events],
        }
        text = json.dumps(data, allow_nan=False)
        if path is not None:
            check_writable("Monitor.to_json", path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        return (
            f"Monitor(step={self.step}, initial_loss={self.initial_loss:.4g},"
            f" baseline={self.baseline:.4g}, events={len(self.events)})"
        )
