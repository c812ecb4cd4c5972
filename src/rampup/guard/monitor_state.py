"""The monitor's checkpoint: its state as plain data, and that data read back, checked.

:func:`dump` is :meth:`rampup.guard.monitor.Monitor.state_dict`: everything the monitor's future
decisions depend on (its configuration, the windows, the rules' episodes, the events) and its
history, as ints, floats, strings, lists and dicts (non-finite floats as 'nan', 'inf', '-inf',
so it is valid JSON). :func:`read` checks every field (type, range, consistency with the
configuration and with the other fields) and builds a new monitor from it, leaving the one it
was given untouched, so a bad state changes nothing. A state of version 1 (before the classic
rule's rename and the gradient rule's recent level) is read too.
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

#: The version of the states :func:`dump` writes (:func:`read` reads 1 too).
STATE_VERSION = 2
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
    if type(version) is not int or version not in (1, STATE_VERSION):
        raise f.bad("version", f"1 or {STATE_VERSION} (a state made by {maker})")
    keys = _V1_KEYS if version == 1 else {}
    config = f.get("config")
    if version == 1 and isinstance(config, dict):
        config = {_V1_CONFIG.get(k, k): v for k, v in config.items()}
        config.setdefault("grad_spike_recent", m.grad_spike_recent)
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
