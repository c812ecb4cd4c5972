"""The monitor's checkpoint: its state as plain data, and that data read back, checked.

:func:`dump` is :meth:`rampup.guard.monitor.Monitor.state_dict`: everything the monitor's future
decisions depend on (its configuration, the windows, the rules' episodes, the events) and its
history, as ints, floats, strings, lists and dicts (non-finite floats as 'nan', 'inf', '-inf',
so it is valid JSON). :func:`read` checks every field (type, range, consistency with the
configuration and with the other fields) and builds a new monitor from it, leaving the one it
was given untouched, so a bad state changes nothing. States of version 1 (before the classic
rule's rename and the gradient rule's recent level) and 2 (before the stall rule) are read too:
the stall rule's horizon then starts at the resumed update.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from rampup import RampupError
from rampup.guard._fields import Fields, plain, unplain
from rampup.guard.events import MAX_STEP, Event
from rampup.guard.history import History

if TYPE_CHECKING:
    from rampup.guard.monitor import Monitor

__all__ = ["STATE_VERSION", "dump", "read"]

#: The version of the states :func:`dump` writes (:func:`read` reads 1 and 2 too).
STATE_VERSION = 3
#: The configuration keys a state of version 1 or 2 does not have (the stall rule's).
_STALL_CONFIG = ("stall_patience", "stall_progress", "stall_level", "stall_grad")
#: A version-1 state's configuration keys renamed since (old: new), and its state keys (new: old).
_V1_CONFIG = {"seeds_factor": "classic_factor"}
_V1_KEYS = {"classic_active": "seeds_active"}


def dump(m: Monitor) -> dict[str, Any]:
    """The state of monitor ``m`` as plain data."""
    state: dict[str, Any] = {
        "version": STATE_VERSION,
        "config": m._config(),
        "step": m.step,
        "initial_loss": plain(m.initial_loss),
        "recent": list(m._loss.recent),
        "initial_grad": plain(m.initial_grad),
        "recent_grad": list(m._grad.recent),
        "grad_spiking": m._grad_spiking,
        "above": m._above,
        "spiking": m._spiking,
        "diverging": m._diverging,
        "classic_active": m._classic_active,
        "unstable": m.unstable,
        "nonfinite": m.nonfinite,
        "stalled": m.stalled,
        "stall": {
            "smoothed": list(m._stall.smoothed),
            "peak_grad": plain(m._stall.peak_grad),
            "stalling": m._stall.stalling,
        },
        "events": [e.to_dict() for e in m.events],
    }
    if m.keep_history:
        state["history"] = m._history.state()
    return state


def read(m: Monitor, state: object, func: str, path: str) -> Monitor:
    """A new monitor, configured as ``m``, in ``state`` (checked); ``m`` is untouched.

    Errors name ``func`` and the field by its path under ``path`` (e.g. ``state['step']``).
    """
    maker = "Monitor.state_dict"
    f = Fields(func, path, state, maker)
    version = f.get("version")
    if type(version) is not int or version not in (1, 2, STATE_VERSION):
        raise f.bad("version", f"1, 2 or {STATE_VERSION} (a state made by {maker})")
    keys = _V1_KEYS if version == 1 else {}
    config = _config_of(m, version, f.get("config"))
    if config != m._config():
        raise RampupError.invalid(
            func,
            f.name("config"),
            config,
            f"the state of a monitor configured as this one ({m._config()}): build the"
            " Monitor with the same arguments before loading",
        )
    fresh = copy.copy(m)  # the configuration; reset() gives it its own state
    fresh.reset()
    step = f.int_("step", -1, MAX_STEP - 1)
    recent = f.finite_list("recent", min(m.window, step + 1))
    recent_grad = f.finite_list("recent_grad", min(m.window, step + 1))
    for key, values, what in (
        ("initial_loss", recent, "losses"),
        ("initial_grad", recent_grad, "gradient norms"),
    ):
        try:
            x = unplain(f.get(key))
        except (TypeError, OverflowError):
            x = math.inf  # refused below
        known = len(values) >= m.warm_start
        if math.isinf(x) or math.isnan(x) == known:
            raise f.bad(
                key,
                f"a finite number once warm_start={m.warm_start} finite {what} were"
                f" seen, else 'nan' (the state holds {len(values)})",
            )
        setattr(fresh, key, x)
    above = f.int_("above", 0, step + 1)
    if m.divergence_factor is None and above:
        raise f.bad("above", "0 (the divergence rule is off)")
    diverging = f.bool_("diverging")
    if diverging != (above >= m.divergence_patience):
        raise f.bad(
            "diverging",
            f"{above >= m.divergence_patience} (state['above']={above} updates in a row,"
            f" divergence_patience={m.divergence_patience})",
        )
    fresh._loss.load(recent)
    fresh._grad.load(recent_grad)
    fresh.step, fresh._above, fresh._diverging = step, above, diverging
    fresh._spiking = f.bool_("spiking")
    fresh._grad_spiking = f.bool_("grad_spiking")
    fresh._classic_active = f.bool_(keys.get("classic_active", "classic_active"))
    fresh.unstable = f.bool_("unstable")
    fresh.nonfinite = f.bool_("nonfinite")
    if version == STATE_VERSION:
        _read_stall(fresh, f, step)
    events = f.get("events")
    if not isinstance(events, list):
        raise f.bad("events", "a list of events (dicts made by Event.to_dict)")
    fresh.events = [
        Event.read(Fields(func, f"{f.name('events')}[{i}]", e, "Event.to_dict"))
        for i, e in enumerate(events)
    ]
    for i, e in enumerate(fresh.events):
        if e.step > step:
            where = f"{f.name('events')}[{i}]['step']"
            raise RampupError.invalid(func, where, e.step, f"a step <= the state's step {step}")
    if m.keep_history and "history" in f.data:
        fresh._history = History.read(f.sub("history", maker), step)
    return fresh


def _config_of(m: Monitor, version: int, config: object) -> object:
    """A state's configuration under today's names; what it had not yet is ``m``'s."""
    if not isinstance(config, dict):
        return config
    if version == 1:
        config = {_V1_CONFIG.get(k, k): v for k, v in config.items()}
        config.setdefault("grad_spike_recent", m.grad_spike_recent)
    if version < STATE_VERSION:
        config = {**config, **{k: getattr(m, k) for k in _STALL_CONFIG if k not in config}}
    return config


def _read_stall(fresh: Monitor, f: Fields, step: int) -> None:
    """The stall rule's memory (a state of version 3), checked, into ``fresh``."""
    fresh.stalled = f.bool_("stalled")
    st = f.sub("stall", "Monitor.state_dict")
    most = fresh._stall.smoothed.maxlen or 0
    smoothed = st.finite_list("smoothed", min(most, step + 1))
    if fresh.stall_patience is None and smoothed:
        raise st.bad("smoothed", "[] (the stall rule is off)")
    peak = st.float_("peak_grad", low=0.0)
    if math.isinf(peak):
        raise st.bad("peak_grad", "a finite number >= 0, or 'nan' before any gradient norm")
    fresh._stall.smoothed.extend(smoothed)
    fresh._stall.peak_grad = peak
    fresh._stall.stalling = st.bool_("stalling")
